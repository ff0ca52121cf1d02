#!/usr/bin/env bash
# The scaling benchmark, on a throwaway cluster of its own, loopback only: the service-request list
# (GET /api/v1/requests?limit=20, row-level security) and filing (POST /api/v1/requests), each as
# the requesters of eight tenants in turn (bearer tokens), with wrk against
#   direct    one `purser serve` node on PostgreSQL,
#   haproxy   HAProxy (scripts/scale/haproxy-nodes.cfg.in, round robin, health checks on /readyz)
#             in front of two nodes on the same PostgreSQL,
#   pgbouncer one node through PgBouncer (scripts/scale/pgbouncer.sh, transaction pooling, with
#             PURSER_POOL_MODE=transaction and DATABASE_DIRECT_URL for LISTEN),
#   both      HAProxy in front of two nodes through PgBouncer,
# in BENCH_SCALE_ROUNDS interleaved rounds (2), each beside the reference server's /api/items, so
# drift hits all alike. For every run it records requests/s, p99 and where the machine's CPU went
# (user + system ticks from /proc: the Purser nodes, PostgreSQL, HAProxy, PgBouncer, wrk, the rest).
# The nodes build every answer (PURSER_REMEMBER_ANSWERS=off), so each list request reaches
# PostgreSQL. BENCH_SCALE_POOL_MODE=session runs PgBouncer in session pooling and the nodes in
# their default mode instead. Appends a table to bench/out/results.md; bench/run.sh runs it unless
# BENCH_SCALE=off. A tiny trial: BENCH_SCALE_DURATION=2s BENCH_SCALE_ROUNDS=1 BENCH_SCALE_REQUESTS=2000.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
purser=${PURSER:-$root/.build/release/purser}
reference_dir=${REFERENCE_DIR:-$root/../shared/bench/limit}
duration=${BENCH_SCALE_DURATION:-10s}
rounds=${BENCH_SCALE_ROUNDS:-2}
connections=${BENCH_CONNECTIONS:-64}
filing_connections=${BENCH_SCALE_FILING_CONNECTIONS:-16}
request_count=${BENCH_SCALE_REQUESTS:-20000}
pool_mode=${BENCH_SCALE_POOL_MODE:-transaction}
configs=${BENCH_SCALE_CONFIGS:-direct haproxy pgbouncer both}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
mkdir -p "$out"
make -s -C "$reference_dir" limit
reference_port=18281
declare -A node_port=([1]=18271 [2]=18272 [3]=18273 [4]=18274)
declare -A entry=([direct]=http://127.0.0.1:18271 [haproxy]=http://127.0.0.1:18270 [pgbouncer]=http://127.0.0.1:18273
  [both]=http://127.0.0.1:18275)
declare -A label=([direct]="1 node" [haproxy]="HAProxy → 2 nodes" [pgbouncer]="1 node → PgBouncer ($pool_mode)"
  [both]="HAProxy → 2 nodes → PgBouncer ($pool_mode)")

work=$(mktemp -d /tmp/purser-scale-XXXXXX)
cluster=$work/cluster
pids=()
bouncer_dir=$work/pgbouncer
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/scale/pgbouncer.sh stop "$bouncer_dir" 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "bench/scale.sh: $*" >&2; exit 1; }
mkdir -p "$cluster"
chmod 755 "$work" "$cluster"

# --- Database, data, tokens ----------------------------------------------------------------------
admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_scale"
db_url=${admin_url/\/postgres\?//purser_scale?}
sql() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
export PURSER_MASTER_KEY="k1:$(head -c 32 /dev/urandom | base64)"
DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 -v tenants=8 -v requests="$request_count" -d "$db_url" -f bench/requests-seed.sql \
  >"$out/scale-seed.log" 2>&1 || { cat "$out/scale-seed.log" >&2; die "seeding failed"; }
token() { DATABASE_URL=$db_url "$purser" admin create-token --email "requester@$1.test" --tenant "$1" --scopes "$2" --expires 1d; }
list_token=$(token co01 requests:read)
# The eight tenants' requesters, one token each for reading and for filing: spread over eight
# tokens and tenants, each rate-limit bucket sees an eighth of the load.
list_tokens=() filing_tokens=()
for n in 01 02 03 04 05 06 07 08; do
  list_tokens+=("$(token "co$n" requests:read)")
  filing_tokens+=("$(token "co$n" requests:write)")
done
# The list's script counts the error answers by status (wrk itself only says how many); the
# filing script does too, and posts as the requesters of eight tenants in turn.
cat >"$work/list.lua" <<'LUA'
local all = {}
function setup(thread)
  table.insert(all, thread)
  thread:set("thread_number", #all)
end
function init(args) s429, s503, s5xx, s4xx = 0, 0, 0, 0 end
function response(status, headers, body)
  if status == 429 then s429 = s429 + 1 elseif status == 503 then s503 = s503 + 1
  elseif status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1 end
end
function done(summary, latency, requests)
  local counts = {0, 0, 0, 0}
  for _, thread in ipairs(all) do
    for i, name in ipairs({"s429", "s503", "s5xx", "s4xx"}) do counts[i] = counts[i] + thread:get(name) end
  end
  -- 429, 503, other 5xx, other 4xx
  io.write(string.format("statuses: %d %d %d %d\n", counts[1], counts[2], counts[3], counts[4]))
end
LUA
cp "$work/list.lua" "$work/statuses.lua"
{
  cat "$work/statuses.lua"
  printf 'local tokens = {'
  printf '"%s",' "${list_tokens[@]}"
  echo '}'
  cat <<'LUA'
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[((thread_number * 3 + n) % #tokens) + 1]})
end
LUA
} >"$work/list.lua"
{
  cat "$work/statuses.lua"
  printf 'local tokens = {'
  printf '"%s",' "${filing_tokens[@]}"
  echo '}'
  cat <<'LUA'
local n = 0
function request()
  n = n + 1
  local token = tokens[((thread_number * 3 + n) % #tokens) + 1]
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    string.format('{"subject":"scale %d-%d","type":"incident","priority":"P2"}', thread_number, n))
end
LUA
} >"$work/filing.lua"

# --- PgBouncer, the reference, the nodes, HAProxy ------------------------------------------------
bouncer_url=$(scripts/scale/pgbouncer.sh start "$bouncer_dir" "$admin_url")
bouncer_url=${bouncer_url/\/postgres\?//purser_scale?}
if [ "$pool_mode" = session ]; then
  sed -i 's/^pool_mode = .*/pool_mode = session/' "$bouncer_dir/pgbouncer.ini"
  kill -HUP "$(cat "$bouncer_dir/pgbouncer.pid")"
fi
DATABASE_URL=$db_url "$reference_dir/limit" $reference_port 2 2>"$out/scale-limit.log" &
pids+=($!)
node_pids=()
for n in 1 2 3 4; do
  url=$db_url mode=()
  if [ "$n" -ge 3 ]; then
    url=$bouncer_url
    [ "$pool_mode" = transaction ] && mode=(PURSER_POOL_MODE=transaction DATABASE_DIRECT_URL="$db_url")
  fi
  env DATABASE_URL="$url" "${mode[@]}" PURSER_ROOT="$root" PURSER_LISTEN="127.0.0.1:${node_port[$n]}" PURSER_METRICS_LISTEN=off \
    PURSER_REMEMBER_ANSWERS=off PURSER_LOG_LEVEL=warning PURSER_TRUSTED_PROXIES=127.0.0.3 \
    "$purser" serve >/dev/null 2>"$out/scale-node-$n.log" &
  node_pids+=($!)
  pids+=($!)
done
haproxy_pids=()
for pair in "18270 18277 1 2" "18275 18278 3 4"; do
  read -r front stats a b <<<"$pair"
  sed -e "s/@FRONTEND@/127.0.0.1:$front/g; s/@STATS@/127.0.0.1:$stats/g; s/@SOURCE@/127.0.0.3/g; s/@INTER@/500/g; s/@FALL@/2/g; s/@RISE@/1/g" \
    -e "s/^@SERVERS@$/    server node$a 127.0.0.1:${node_port[$a]} check\n    server node$b 127.0.0.1:${node_port[$b]} check/" \
    scripts/scale/haproxy-nodes.cfg.in >"$work/haproxy-$front.cfg"
  haproxy -db -f "$work/haproxy-$front.cfg" >/dev/null 2>"$out/scale-haproxy-$front.log" &
  haproxy_pids+=($!)
  pids+=($!)
done
for config in $configs; do
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "${entry[$config]}/readyz" 2>/dev/null && break; sleep 0.1; done
  items=$(curl -fsS -H "Authorization: Bearer $list_token" "${entry[$config]}/api/v1/requests?limit=20" \
    | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))') || die "$config: the list failed (see $out/scale-*.log)"
  [ "$items" = 20 ] || die "$config: the list gave $items items"
done
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$reference_port/plain" 2>/dev/null && break; sleep 0.1; done

# --- Measuring -----------------------------------------------------------------------------------
# CPU ticks (user + system) of processes; PostgreSQL's: the postmaster with its ended children's
# time, and every live backend (a backend that ends in between moves its time into the former).
ticks() { local sum=0 pid; for pid in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$sum"; }
postgres_ticks() {
  local postmaster sum pid
  postmaster=$(head -n 1 "$cluster/data/postmaster.pid")
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
  for pid in $(ps -o pid= --ppid "$postmaster"); do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$sum"
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
snapshot() {
  echo "$(ticks "${node_pids[@]}") $(postgres_ticks) $(ticks "${haproxy_pids[@]}") $(ticks "$(cat "$bouncer_dir/pgbouncer.pid")") $(busy_ticks)"
}
hz=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'
: >"$out/wrk-scale.log"
# run NAME URL [wrk options…]: one wrk run; remembers requests/s, p99 ms, error answers and the CPU
# split (share of the machine's busy time: nodes, postgres, haproxy, pgbouncer, wrk, rest).
declare -A rps p99 errors cpu
run() {
  local name=$1 url=$2 before after report rest
  shift 2
  before=$(snapshot)
  { time wrk -t2 -d"$duration" --latency "$@" "$url" >"$work/wrk.out"; } 2>"$work/wrk.time"
  after=$(snapshot)
  report=$(cat "$work/wrk.out")
  echo "== $name $url" >>"$out/wrk-scale.log"
  echo "$report" >>"$out/wrk-scale.log"
  # Answers other than errors, a second (a refused request is answered fast and would flatter the rate).
  rps[$name]="${rps[$name]:-} $(awk '/ requests in / {n = $1; d = $4; sub(/,$/, "", d)
      if (d ~ /ms$/) {sub(/ms$/, "", d); d /= 1000} else if (d ~ /m$/) {sub(/m$/, "", d); d *= 60} else sub(/s$/, "", d)}
      /^statuses:/ {bad = $2 + $3 + $4 + $5} END {printf "%.0f", (n - bad) / d}' <<<"$report")"
  p99[$name]="${p99[$name]:-} $(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v=v*1000}; print v}' <<<"$report")"
  # Error answers by status, summed over the rounds: "429 503 other".
  errors[$name]=$(awk -v prev="${errors[$name]:-0 0 0}" 'BEGIN { split(prev, p, " ") }
      /^statuses:/ { p[1] += $2; p[2] += $3; p[3] += $4 + $5 } END { printf "%d %d %d", p[1], p[2], p[3] }' <<<"$report")
  # Shares of the machine's busy time, summed over the rounds (printed as percentages at the end).
  cpu[$name]=$(awk -v b="$before" -v a="$after" -v w="$(cat "$work/wrk.time")" -v hz="$hz" -v prev="${cpu[$name]:-0 0 0 0 0 0 0}" 'BEGIN {
      split(b, x, " "); split(a, y, " "); split(w, t, " "); split(prev, p, " ")
      for (i = 1; i <= 5; i++) d[i] = y[i] - x[i]
      d[6] = (t[1] + t[2]) * hz; d[7] = d[5] - d[1] - d[2] - d[3] - d[4] - d[6]; if (d[7] < 0) d[7] = 0
      printf "%d %d %d %d %d %d %d", p[1] + d[1], p[2] + d[2], p[3] + d[3], p[4] + d[4], p[5] + d[5], p[6] + d[6], p[7] + d[7] }')
}

echo "warming up…"
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$reference_port/api/items" >/dev/null
for config in $configs; do
  wrk -t2 -c"$connections" -d2s -s "$work/list.lua" "${entry[$config]}/api/v1/requests?limit=20" >/dev/null
done
for round in $(seq 1 "$rounds"); do
  echo "scale: round $round of $rounds…"
  run reference "http://127.0.0.1:$reference_port/api/items" -c"$connections"
  for config in $configs; do
    run "$config-list" "${entry[$config]}/api/v1/requests?limit=20" -c"$connections" -s "$work/list.lua"
    run "$config-filing" "${entry[$config]}/api/v1/requests" -c"$filing_connections" -s "$work/filing.lua"
  done
done
filed=$(sql "SELECT count(*) FROM requests WHERE subject LIKE 'scale %'")
with_job=$(sql "SELECT count(*) FROM requests r WHERE subject LIKE 'scale %' AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.sla_job_id)")

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cpu_split() { awk -v c="$1" 'BEGIN { split(c, d, " "); t = d[5] ? d[5] : 1
  printf "%.0f / %.0f / %.0f / %.0f / %.0f / %.0f", d[1] * 100 / t, d[2] * 100 / t, d[3] * 100 / t, d[4] * 100 / t, d[6] * 100 / t, d[7] * 100 / t }'; }
ref=$(median "${rps[reference]}")
{
  echo
  echo "### Scaling: nodes, HAProxy and PgBouncer ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(basename "$(dirname "$purser")") build)"
  echo
  echo "$request_count requests over 8 tenants; list: wrk -t2 -c$connections; filing: wrk -t2 -c$filing_connections;" \
    "both as eight tenants' requesters in turn; -d$duration, medians of $rounds interleaved rounds; nodes build every answer."
  echo
  echo "| setup | route | requests/s | p99 ms | vs reference /api/items | vs 1 node | CPU: nodes / postgres / haproxy / pgbouncer / wrk / rest (% of busy) |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
  echo "| reference | /api/items (20 rows) | $ref | $(median "${p99[reference]}") | 1.00 | | $(cpu_split "${cpu[reference]}") |"
  for config in $configs; do
    for route in list filing; do
      name=$config-$route
      bad=$(awk '{ if ($1 + $2 + $3) printf " (error answers: %d × 429, %d × 503, %d other)", $1, $2, $3 }' <<<"${errors[$name]}")
      base=""
      [ -n "${rps[direct-$route]:-}" ] && base=$(ratio "$(median "${rps[$name]}")" "$(median "${rps[direct-$route]}")")
      path="GET /api/v1/requests?limit=20"
      [ "$route" = filing ] && path="POST /api/v1/requests"
      echo "| ${label[$config]} | $path$bad | $(median "${rps[$name]}") | $(median "${p99[$name]}") | $(ratio "$(median "${rps[$name]}")" "$ref") | $base | $(cpu_split "${cpu[$name]}") |"
    done
  done
  echo
  echo "requests/s counts answers that were not errors; error answers are listed by status. Filed $filed requests in all," \
    "$with_job with their SLA job. CPU: shares of the machine's busy time during the runs (/proc), summed over the rounds;" \
    "rest is everything else on the machine."
} | tee -a "$results"
