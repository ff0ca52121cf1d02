#!/usr/bin/env bash
# The service-request benchmark, run by bench/run.sh once Purser (`purser serve`) and the reference
# server are up on their throwaway database. It
#   1. seeds 100,000 requests over 50 tenants with about three comments each (bench/requests-seed.sql),
#   2. reads server times of the staff queue's filters, the customer list and the customer's page
#      from the access log of a second `purser serve` (same database and key, idle, log to a file),
#   3. measures GET /api/v1/requests?limit=20 (bearer token, row-level security) and the staff queue
#      page GET /staff/requests (staff session) with wrk, in interleaved rounds beside the
#      reference's /api/items (20 rows): medians of the rounds, as ratios to the reference; both
#      also on a second server with PURSER_REMEMBER_ANSWERS=off, which builds every answer,
#   4. measures filing requests (POST /api/v1/requests) with wrk for the run's duration and counts
#      the rows, their SLA jobs and the jobs made,
# and appends its tables to bench/out/results.md.
#
# Inputs (run.sh sets them): BENCH_DB_URL (a superuser URL of the database: seeding bypasses
# row-level security), PURSER_MASTER_KEY (the key the running server uses), PURSER (the binary),
# PURSER_PORT and REFERENCE_PORT (the running servers), BENCH_OUT; BENCH_DURATION,
# BENCH_CONNECTIONS and BENCH_ROUNDS as for run.sh; BENCH_REQUESTS, BENCH_TENANTS, BENCH_SAMPLES.
# Loopback only. Expects a database without the benchmark's accounts (run.sh makes a new one).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
db_url=${BENCH_DB_URL:?set BENCH_DB_URL to a superuser URL of the benchmark database}
: "${PURSER_MASTER_KEY:?set PURSER_MASTER_KEY to the key of the running purser serve}"
purser=${PURSER:-$root/.build/release/purser}
purser_port=${PURSER_PORT:-18080}
reference_port=${REFERENCE_PORT:-18081}
timing_port=${BENCH_TIMING_PORT:-18082}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
duration=${BENCH_DURATION:-5s}
connections=${BENCH_CONNECTIONS:-64}
rounds=${BENCH_ROUNDS:-3}
request_count=${BENCH_REQUESTS:-100000}
tenant_count=${BENCH_TENANTS:-50}
samples=${BENCH_SAMPLES:-20}
base=http://127.0.0.1:$purser_port
reference=http://127.0.0.1:$reference_port
mkdir -p "$out"

die() { echo "requests.sh: $*" >&2; exit 1; }
sql() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
admin() { DATABASE_URL=$db_url "$purser" admin "$@"; }
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

timing_pid=
cleanup() {
  if [ -n "$timing_pid" ]; then kill "$timing_pid" 2>/dev/null || true; wait "$timing_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# --- 1. Data -------------------------------------------------------------------------------------
# The accounts that sign in are made by `purser admin` (argon2id passwords); the SQL adds the rest.
[ -z "$(sql "SELECT 1 FROM tenants WHERE slug = 'co01'")" ] || die "tenant co01 exists already: run against a new database"
customer_email=requester@co01.test
customer_password="wrk files many service tickets"
staff_email=queue@purser.test
staff_password="wrk reads every waiting line"
echo "seeding $request_count requests over $tenant_count tenants…"
started=$(now)
sql "INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
     VALUES ('bench', 'Benchmark', 100000000, 400000000) ON CONFLICT (id) DO NOTHING" >/dev/null
admin create-tenant --slug co01 --key CO01 --name "Customer 01" --plan bench >/dev/null
printf '%s\n' "$customer_password" | admin create-user --tenant co01 --email "$customer_email" --name "Requester of co01" \
  --role requester --password-stdin >/dev/null
printf '%s\n' "$staff_password" | admin create-staff --email "$staff_email" --name "Queue Bench" --role cse --password-stdin >/dev/null
psql -q -v ON_ERROR_STOP=1 -v tenants="$tenant_count" -v requests="$request_count" -d "$db_url" \
  -f bench/requests-seed.sql >"$out/requests-seed.log" 2>&1 || { cat "$out/requests-seed.log" >&2; die "seeding failed"; }
seed_seconds=$(seconds_since "$started")
read -r seeded_requests seeded_comments < <(sql "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM request_comments)" | tr '|' ' ')
echo "seeded $seeded_requests requests and $seeded_comments comments in $seed_seconds s"
small_tenant=$(printf 'co%02d' "$tenant_count")
group_id=$(sql "SELECT id FROM request_groups WHERE name = 'Support'")

# --- Who asks ------------------------------------------------------------------------------------
token=$(admin create-token --email "$customer_email" --tenant co01 --scopes requests:read,requests:write --expires 1d)

# The current TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) for a base32 secret, spaces allowed.
totp() {
  python3 - "$1" <<'PY'
import base64, hmac, struct, sys, time
secret = sys.argv[1].replace(" ", "").upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
offset = mac[-1] & 0x0F
print("%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
form_token() { grep -o 'name="csrf" value="[^"]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }

# Signs in through the pages with a cookie jar and, when the account must set up a second factor
# first (staff, tenant admins), sets one up with a code computed from the secret on the set-up
# page. Prints the purser_session cookie.
sign_in() {
  local email=$1 password=$2 jar=$3 csrf next page secret
  rm -f "$jar"
  csrf=$(curl -fsS -c "$jar" "$base/sign-in" | form_token)
  next=$(curl -sS -o /dev/null -w '%{redirect_url}' -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" \
    --data-urlencode "email=$email" --data-urlencode "password=$password" "$base/sign-in")
  case "$next" in
    */sign-in/two-factor*) die "$email has a second factor already" ;;
    "") die "signing in as $email was refused" ;;
  esac
  next=$(curl -sS -o /dev/null -w '%{redirect_url}' -b "$jar" -c "$jar" "$base/start")
  if [[ "$next" == */account/two-factor ]]; then
    page=$(curl -fsS -b "$jar" -c "$jar" "$base/account/two-factor")
    secret=$(grep -o 'id="totp-secret">[^<]*' <<<"$page" | sed 's/.*>//') || die "no secret on the set-up page for $email"
    csrf=$(form_token <<<"$page")
    # The answer is the recovery-codes page, with the replaced session's cookie.
    curl -fsS -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "code=$(totp "$secret")" \
      "$base/account/two-factor"
  fi
  awk '$6 == "purser_session" {print $7}' "$jar"
}
staff_session=$(sign_in "$staff_email" "$staff_password" "$out/staff-cookies.txt")
customer_session=$(sign_in "$customer_email" "$customer_password" "$out/customer-cookies.txt")
[ -n "$staff_session" ] && [ -n "$customer_session" ] || die "no session cookie after signing in"
bearer="Authorization: Bearer $token"
staff_cookie="Cookie: purser_session=$staff_session"
customer_cookie="Cookie: purser_session=$customer_session"

# Every measured URL answers 200 before it is measured (a 303 to the sign-in page would count as
# an answer to wrk), and the API list has its 20 items.
expect_200() {
  local url=$1 status; shift
  status=$(curl -sS -o /dev/null -w '%{http_code}' "$@" "$url")
  [ "$status" = 200 ] || die "$url answered $status, not 200"
}
items=$(curl -fsS -H "$bearer" "$base/api/v1/requests?limit=20" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))')
[ "$items" = 20 ] || die "/api/v1/requests?limit=20 gave $items items"
expect_200 "$base/staff/requests" -H "$staff_cookie"
expect_200 "$base/t/co01/requests" -H "$customer_cookie"

# --- 2. Server times -----------------------------------------------------------------------------
# A second server on the same database and key, idle but for these requests, its access log (one
# JSON line per request on standard output) in a file; each request is tagged with X-Request-Id.
# It starts afresh for each URL, and there is no warm-up per URL: the first answers count too.
# (PostgreSQL plans a prepared statement anew for its first five runs on a connection and may
# then keep a generic plan; the pool lends the connection returned last, so one-at-a-time
# requests share a connection, and a fresh server per URL keeps one URL's statements, which
# other URLs may share, from being planned already.)
timing_log=$out/requests-access.log
: >"$timing_log"
start_timing_server() {
  DATABASE_URL=$db_url PURSER_MASTER_KEY=$PURSER_MASTER_KEY PURSER_LISTEN=127.0.0.1:$timing_port PURSER_METRICS_LISTEN=off \
    "$purser" serve >>"$timing_log" 2>>"$out/requests-purser.log" &
  timing_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$timing_port/readyz" 2>/dev/null && return
    sleep 0.1
  done
  die "the timing server did not start (see $out/requests-purser.log)"
}
# Waits (at most 5 s; the log is flushed every 100 ms) for the log lines of LABEL's COUNT requests.
await_log_lines() {
  for _ in $(seq 1 50); do
    [ "$(grep -cE "\"rt-$1-[0-9]+\"" "$timing_log" || true)" -ge "$2" ] && return
    sleep 0.1
  done
}
# label|path|header: the staff queue's first page under each filter, then the customer's views.
timed_routes=(
  "queue|/staff/requests|$staff_cookie"
  "queue-tenant|/staff/requests?tenant=$small_tenant|$staff_cookie"
  "queue-open|/staff/requests?state=open|$staff_cookie"
  "queue-p1-incident|/staff/requests?priority=P1&type=incident|$staff_cookie"
  "queue-unassigned|/staff/requests?assignee=none|$staff_cookie"
  "queue-mine|/staff/requests?assignee=me|$staff_cookie"
  "queue-group|/staff/requests?group=$group_id|$staff_cookie"
  "queue-breached|/staff/requests?breached=true|$staff_cookie"
  "queue-due|/staff/requests?sort=due|$staff_cookie"
  "queue-combined|/staff/requests?tenant=co01&state=open&priority=P2&sort=due|$staff_cookie"
  "customer-api|/api/v1/requests?limit=20|$bearer"
  "customer-page|/t/co01/requests|$customer_cookie"
)
for route in "${timed_routes[@]}"; do
  IFS='|' read -r label path header <<<"$route"
  start_timing_server
  for n in $(seq 1 "$samples"); do
    curl -fsS -o /dev/null -H "$header" -H "X-Request-Id: rt-$label-$n" "http://127.0.0.1:$timing_port$path" \
      || die "$path answered an error"
  done
  await_log_lines "$label" "$samples"
  kill "$timing_pid"; wait "$timing_pid" 2>/dev/null || true; timing_pid=
done
# "label median max count non-200" per label, in ms.
declare -A time_median time_max time_first
while read -r label median max first count bad; do
  [ "$count" = "$samples" ] || die "$count of $samples access-log lines for $label"
  [ "$bad" = 0 ] || die "$bad of the requests for $label did not answer 200"
  time_median[$label]=$median
  time_max[$label]=$max
  time_first[$label]=$first
done < <(python3 - "$timing_log" <<'PY'
import json, statistics, sys
found = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    request_id = entry.get("request_id", "")
    if not request_id.startswith("rt-"):
        continue
    label, number = request_id[3:].rsplit("-", 1)
    ms = entry["duration_us"] / 1000 if "duration_us" in entry else float(entry["duration_ms"])
    found.setdefault(label, []).append((ms, entry.get("status"), int(number)))
for label, values in found.items():
    times = [ms for ms, _, _ in values]
    first = min(values, key=lambda value: value[2])[0]
    print(label, "%.2f" % statistics.median(times), "%.2f" % max(times), "%.2f" % first, len(values),
          sum(1 for _, status, _ in values if status != 200))
PY
)
for route in "${timed_routes[@]}"; do
  [ -n "${time_median[${route%%|*}]:-}" ] || die "no access-log lines for ${route%%|*} (see $timing_log)"
done

# --- 3. Throughput beside the reference ----------------------------------------------------------
# The second server again (same database and key), now building every answer afresh: beside the
# remembered figures, what building the answer costs, against the reference's query route.
DATABASE_URL=$db_url PURSER_MASTER_KEY=$PURSER_MASTER_KEY PURSER_LISTEN=127.0.0.1:$timing_port PURSER_METRICS_LISTEN=off \
  PURSER_REMEMBER_ANSWERS=off PURSER_LOG_LEVEL=warning "$purser" serve >/dev/null 2>>"$out/requests-purser.log" &
timing_pid=$!
built=http://127.0.0.1:$timing_port
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$built/readyz" 2>/dev/null && break; sleep 0.1; done
expect_200 "$built/staff/requests" -H "$staff_cookie"

# Prints "requests_per_second p99_ms errors" for one wrk run of URL with the given header fields
# (errors: answers of 400 and above, which wrk counts as answers all the same).
measure() {
  local url=$1 report rps p99 errors; shift
  local fields=()
  for field in "$@"; do fields+=(-H "$field"); done
  report=$(wrk -t2 -c"$connections" -d"$duration" --latency "${fields[@]}" "$url")
  echo "$report" >>"$out/wrk-requests.log"
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$report")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$report")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v=v*1000}; print v}' <<<"$report")
  echo "$rps $p99 ${errors:-0}"
}
: >"$out/wrk-requests.log"
declare -A rps p99 errors
for round in $(seq 1 "$rounds"); do
  echo "requests: round $round of $rounds…"
  for target in ref_items api_list staff_queue api_list_built staff_queue_built; do
    case $target in
      ref_items) read -r r p e <<<"$(measure "$reference/api/items")" ;;
      api_list) read -r r p e <<<"$(measure "$base/api/v1/requests?limit=20" "$bearer")" ;;
      staff_queue) read -r r p e <<<"$(measure "$base/staff/requests" "$staff_cookie")" ;;
      api_list_built) read -r r p e <<<"$(measure "$built/api/v1/requests?limit=20" "$bearer")" ;;
      staff_queue_built) read -r r p e <<<"$(measure "$built/staff/requests" "$staff_cookie")" ;;
    esac
    rps[$target]="${rps[$target]:-} $r"
    p99[$target]="${p99[$target]:-} $p"
    errors[$target]=$(( ${errors[$target]:-0} + e ))
  done
done
# Still signed in, still answering (a session that ended would have turned into 303s).
expect_200 "$base/staff/requests" -H "$staff_cookie"
expect_200 "$base/api/v1/requests?limit=20" -H "$bearer"
expect_200 "$built/staff/requests" -H "$staff_cookie"
kill "$timing_pid"; wait "$timing_pid" 2>/dev/null || true; timing_pid=
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# --- 4. Filing requests --------------------------------------------------------------------------
cat >"$out/requests-create.lua" <<'LUA'
-- POST /api/v1/requests: a new incident each time, "bench <thread>-<n>".
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
local n = 0
function request()
  n = n + 1
  return wrk.format("POST", nil, nil,
    string.format('{"subject":"bench %d-%d","type":"incident","priority":"P2"}', thread_number, n))
end
LUA
read -r jobs_before < <(sql "SELECT count(*) FROM jobs WHERE kind LIKE 'sla.%'")
create_report=$(wrk -t2 -c8 -d"$duration" -s "$out/requests-create.lua" -H "$bearer" -H "Content-Type: application/json" \
  "$base/api/v1/requests")
echo "$create_report" >>"$out/wrk-requests.log"
# "seconds refused" of a wrk report: how long it ran, and how many answers were 400 or above.
run_summary() {
  awk '/requests in/ {v=$4; sub(/,$/, "", v); if (v ~ /ms$/) {sub(/ms$/, "", v); v=v/1000} else if (v ~ /m$/) {sub(/m$/, "", v); v=v*60} else {sub(/s$/, "", v)}; s=v}
       /Non-2xx or 3xx responses:/ {r=$5} END {print s, r + 0}' <<<"$1"
}
read -r create_seconds create_refused <<<"$(run_summary "$create_report")"
sleep 0.5   # the last answers' transactions
read -r created with_job jobs_after < <(sql "
  SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.sla_job_id AND j.kind LIKE 'sla.%')),
         (SELECT count(*) FROM jobs WHERE kind LIKE 'sla.%')
  FROM requests r WHERE r.subject LIKE 'bench %'" | tr '|' ' ')
create_rate=$(awk -v n="$created" -v s="$create_seconds" 'BEGIN {printf "%.0f", n / s}')

# The same spread over eight tenants: a tenant's filings queue on its counter (numbers without
# gaps), different tenants' do not, so this is the rate the installation sustains.
spread_tokens=()
for n in 01 02 03 04 05 06 07 08; do
  spread_tokens+=("$(admin create-token --email "requester@co$n.test" --tenant "co$n" --scopes requests:write --expires 1d)")
done
{
  echo "-- POST /api/v1/requests as the requesters of eight tenants in turn, \"spread <thread>-<n>\"."
  printf 'local tokens = {'
  printf '"%s",' "${spread_tokens[@]}"
  echo '}'
  cat <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
local n = 0
function request()
  n = n + 1
  local token = tokens[((thread_number * 3 + n) % #tokens) + 1]
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    string.format('{"subject":"spread %d-%d","type":"incident","priority":"P2"}', thread_number, n))
end
LUA
} >"$out/requests-spread.lua"
spread_report=$(wrk -t2 -c8 -d"$duration" -s "$out/requests-spread.lua" "$base/api/v1/requests")
echo "$spread_report" >>"$out/wrk-requests.log"
read -r spread_seconds spread_refused <<<"$(run_summary "$spread_report")"
sleep 0.5
read -r spread_created spread_with_job < <(sql "
  SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.sla_job_id AND j.kind LIKE 'sla.%'))
  FROM requests r WHERE r.subject LIKE 'spread %'" | tr '|' ' ')
spread_rate=$(awk -v n="$spread_created" -v s="$spread_seconds" 'BEGIN {printf "%.0f", n / s}')

# --- Results -------------------------------------------------------------------------------------
for name in ref_items api_list staff_queue api_list_built staff_queue_built; do
  declare "${name}=$(median "${rps[$name]}")"
  declare "${name}_p99=$(median "${p99[$name]}")"
  [ "${errors[$name]}" = 0 ] || echo "requests.sh: $name: ${errors[$name]} answers of 400 or above (see $out/wrk-requests.log)" >&2
done
# A figure made partly of error answers says so in its row.
flag() { [ "${errors[$1]}" = 0 ] || echo " (${errors[$1]} error answers)"; }
row() {  # label key
  echo "| $1 | ${time_first[$2]} | ${time_median[$2]} | ${time_max[$2]} | < 20 ms |"
}
{
  echo
  echo "Service requests: $seeded_requests requests and $seeded_comments comments over $tenant_count tenants, seeded in $seed_seconds s."
  echo
  echo "| route | requests/s | p99 ms | throughput vs reference /api/items | target |"
  echo "| --- | ---: | ---: | ---: | --- |"
  echo "| reference /api/items (20 rows)$(flag ref_items) | $ref_items | $ref_items_p99 | 1.00 | |"
  echo "| purser GET /api/v1/requests?limit=20 (bearer token, row-level security)$(flag api_list) | $api_list | $api_list_p99 | $(ratio "$api_list" "$ref_items") | ≥ 0.7× |"
  echo "| purser GET /staff/requests (HTML queue, 50 rows, staff session)$(flag staff_queue) | $staff_queue | $staff_queue_p99 | $(ratio "$staff_queue" "$ref_items") | ≥ 0.5× |"
  echo "| the same list, remembering off (PURSER_REMEMBER_ANSWERS=off: built from the database each time)$(flag api_list_built) | $api_list_built | $api_list_built_p99 | $(ratio "$api_list_built" "$ref_items") | |"
  echo "| the same queue page, remembering off$(flag staff_queue_built) | $staff_queue_built | $staff_queue_built_p99 | $(ratio "$staff_queue_built" "$ref_items") | |"
  echo
  echo "| server time, first page ($samples requests of each, one at a time, on a server started for it; access log) | first answer ms (built from the database) | median ms (later answers, remembered while nothing changes) | max ms | target |"
  echo "| --- | ---: | ---: | ---: | --- |"
  row "staff queue, no filter (active states)" queue
  row "staff queue ?tenant=$small_tenant (smallest tenant)" queue-tenant
  row "staff queue ?state=open" queue-open
  row "staff queue ?priority=P1&type=incident" queue-p1-incident
  row "staff queue ?assignee=none" queue-unassigned
  row "staff queue ?assignee=me" queue-mine
  row "staff queue ?group=(Support)" queue-group
  row "staff queue ?breached=true" queue-breached
  row "staff queue ?sort=due" queue-due
  row "staff queue ?tenant=co01&state=open&priority=P2&sort=due" queue-combined
  row "customer GET /api/v1/requests?limit=20 (co01, the largest tenant)" customer-api
  row "customer page /t/co01/requests" customer-page
  echo
  echo "Filing requests: $create_rate a second ($created made in $create_seconds s, ${create_refused:-0} answered 400 or above), wrk -t2 -c8 posting JSON with the bearer token; $with_job of them with a pending SLA job, $((jobs_after - jobs_before)) sla.* jobs enqueued (target ≥ 500/s, each with its SLA job)."
  echo
  echo "Filing requests across eight tenants: $spread_rate a second ($spread_created made in $spread_seconds s, ${spread_refused:-0} answered 400 or above), wrk -t2 -c8, each request as the next tenant's requester; $spread_with_job of them with a pending SLA job (target ≥ 500/s)."
  echo "Medians of $rounds interleaved rounds of wrk -t2 -c$connections -d$duration --latency, loopback, $(nproc) cores, $(date -u +%Y-%m-%d)."
} | tee -a "$results"
