#!/usr/bin/env bash
# `make bench`: wrk on loopback against Purser and, in the same run, the reference server in
# ../shared/bench/limit (raw C on libmicrohttpd + libpq), both on one throwaway PostgreSQL.
# Prints each figure as a ratio to the reference; writes the table to bench/out/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/opt/swift/usr/bin:$PATH"
duration=${BENCH_DURATION:-5s}
connections=${BENCH_CONNECTIONS:-64}
reference_dir=${REFERENCE_DIR:-$root/../shared/bench/limit}

scripts/install-packages.sh $(cat scripts/packages-build.txt) wrk build-essential
[ -f "$reference_dir/limit.c" ] || { echo "the reference server is not at $reference_dir" >&2; exit 1; }
make -s -C "$reference_dir" limit
swift build -c release --product purser 2>&1 | tail -n 1

out=$root/bench/out
mkdir -p "$out"
: >"$out/results.md"
cluster=$(mktemp -d /tmp/purser-bench-XXXXXX)
chmod 755 "$cluster"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
}
trap cleanup EXIT
admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_bench"
db_url=${admin_url/\/postgres\?//purser_bench?}
DATABASE_URL=$db_url .build/release/purser migrate >/dev/null

# A tenant, a person and a token for the authenticated route.
purser=.build/release/purser
# Its plan allows far more than the benchmark's rate, so the rate limiter admits every request
# (still taking a lease from the shared bucket now and then, as in production).
psql -q -d "$db_url" -c "INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
                         VALUES ('bench', 'Benchmark', 100000000, 400000000)"
DATABASE_URL=$db_url $purser admin create-tenant --slug bench --name "Bench" --plan bench >/dev/null
bench_password="wrk measures argon2id sign-ins"
printf '%s\n' "$bench_password" | DATABASE_URL=$db_url $purser admin create-user --tenant bench --email bench@bench.test \
  --name Bench --role viewer --password-stdin >/dev/null
token=$(DATABASE_URL=$db_url $purser admin create-token --email bench@bench.test --tenant bench --scopes requests:read --expires 1d)

reference_port=18081
purser_port=18080
DATABASE_URL=$db_url "$reference_dir/limit" $reference_port 2 2>"$out/limit.log" &
pids+=($!)
# bench/requests.sh starts a second server on the same key (to read its access log).
master_key=$(openssl rand -base64 32)
DATABASE_URL=$db_url PURSER_MASTER_KEY=$master_key PURSER_LISTEN=127.0.0.1:$purser_port PURSER_METRICS_LISTEN=127.0.0.1:18464 \
  .build/release/purser serve >/dev/null 2>"$out/purser.log" &
purser_pid=$!
pids+=($purser_pid)
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$purser_port/readyz" 2>/dev/null \
    && curl -fsS -o /dev/null "http://127.0.0.1:$reference_port/plain" 2>/dev/null && break
  sleep 0.1
done
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
peak() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
idle_rss=$(rss $purser_pid)

asset=$(curl -fsS "http://127.0.0.1:$purser_port/" | grep -oE '/static/js/purser\.[0-9a-f]+\.js' | head -n 1)

# Prints "requests_per_second p99_ms" for one wrk run.
measure() {
  local report
  local auth=()
  [[ "$1" == */api/v1/me ]] && auth=(-H "Authorization: Bearer $token")
  report=$(wrk -t2 -c"$connections" -d"$duration" --latency "${auth[@]}" "$1")
  echo "$report" >>"$out/wrk.log"
  local rps p99
  rps=$(echo "$report" | awk '/^Requests\/sec:/ {print $2}')
  p99=$(echo "$report" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v=v*1000}; print v}')
  echo "$rps $p99"
}

: >"$out/wrk.log"
echo "warming up…"
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$reference_port/plain" >/dev/null
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$purser_port/healthz" >/dev/null

# Three rounds, each route once per round, so that drift on a shared machine hits both servers alike;
# each figure is the median of its three runs.
rounds=${BENCH_ROUNDS:-3}
declare -A rps p99
for round in $(seq 1 "$rounds"); do
  for target in \
      "ref_plain http://127.0.0.1:$reference_port/plain" \
      "healthz http://127.0.0.1:$purser_port/healthz" \
      "static http://127.0.0.1:$purser_port$asset" \
      "ref_items http://127.0.0.1:$reference_port/api/items" \
      "readyz http://127.0.0.1:$purser_port/readyz" \
      "me http://127.0.0.1:$purser_port/api/v1/me"; do
    read -r name url <<<"$target"
    read -r r p <<<"$(measure "$url")"
    rps[$name]="${rps[$name]:-} $r"
    p99[$name]="${p99[$name]:-} $p"
  done
done
# Sign-ins per second: the sign-in form posted with a valid form token, each answered with a new
# session (argon2id at m=19456 KiB, t=2, p=1). Four connections keep both hashing slots busy
# without queueing past the hasher's bound (16 waiting, then 429).
jar=$out/cookies.txt
csrf=$(curl -fsS -c "$jar" "http://127.0.0.1:$purser_port/sign-in" | grep -o 'name="csrf" value="[^"]*"' | head -n 1 | sed 's/.*value="//; s/"$//')
pre=$(awk '$6 == "purser_pre" {print $7}' "$jar")
cat >"$out/sign-in.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "purser_pre=$pre"
wrk.body = "csrf=$csrf&email=bench%40bench.test&password=$(sed 's/ /+/g' <<<"$bench_password")"
LUA
sign_in_report=$(wrk -t2 -c4 -d"$duration" --latency -s "$out/sign-in.lua" "http://127.0.0.1:$purser_port/sign-in")
echo "$sign_in_report" >>"$out/wrk.log"
sign_ins=$(echo "$sign_in_report" | awk '/^Requests\/sec:/ {print $2}')
sign_in_p99=$(echo "$sign_in_report" | awk '$1 == "99%" {print $2}')
sign_in_refused=$(echo "$sign_in_report" | awk '/Non-2xx or 3xx responses:/ {print $5}')
sessions_made=$(psql -qtA -d "$db_url" -c "SELECT count(*) FROM sessions")

# The job queue, beside the peer (PgQueuer) on the same PostgreSQL. The HTTP server stays up but
# idle; no `purser work` runs while these measure.
peer_dir=${PEER_DIR:-$root/../shared/bench/peer-pgqueuer}
queue_jobs=${BENCH_QUEUE_JOBS:-20000}
peer_report=$(DATABASE_URL=$db_url "$peer_dir/run" "$queue_jobs" 2>&1 | tee -a "$out/queue.log" | grep -E '^(enqueue|burn-down):' || true)
peer_enqueue=$(echo "$peer_report" | awk '/^enqueue:/ {gsub(",", "", $2); if ($2 > m) m = $2} END {print m + 0}')
peer_burn=$(echo "$peer_report" | awk '/^burn-down:/ {gsub(",", "", $2); if ($2 > m) m = $2} END {print m + 0}')
queue_report=$(DATABASE_URL=$db_url $purser admin measure-queue --jobs "$queue_jobs" --concurrency 2 | tee -a "$out/queue.log")
queue_enqueue=$(echo "$queue_report" | awk '/^enqueue:/ {print $2}')
queue_burn=$(echo "$queue_report" | awk '/^burn-down:/ {print $2}')
queue_p50=$(echo "$queue_report" | awk '/^pickup:/ {print $3}')
queue_p99=$(echo "$queue_report" | awk '/^pickup:/ {print $6}')
# 10,000 jobs, four worker processes: every job runs exactly once.
DATABASE_URL=$db_url $purser admin enqueue-noop --jobs 10000 >/dev/null
workers=()
for n in 1 2 3 4; do
  DATABASE_URL=$db_url PURSER_MASTER_KEY=$(openssl rand -base64 32) PURSER_METRICS_LISTEN=off PURSER_LOG_LEVEL=warning $purser work >>"$out/workers.log" 2>&1 &
  workers+=($!)
done
for _ in $(seq 1 600); do
  [ "$(psql -qtA -d "$db_url" -c "SELECT count(*) FROM jobs WHERE kind = 'system.noop' AND state <> 'succeeded'")" = 0 ] && break
  sleep 0.1
done
for pid in "${workers[@]}"; do kill -TERM "$pid"; done
wait "${workers[@]}" 2>/dev/null || true
exactly_once=$(psql -qtA -d "$db_url" -c "SELECT count(*) FILTER (WHERE state = 'succeeded' AND attempts = 1) || ' of ' || count(*) || ' jobs succeeded on their first attempt' FROM jobs WHERE kind = 'system.noop'")

# Service requests: 100,000 seeded, the list API and the staff queue beside /api/items, server
# times of the queue's filters, the create rate; appends its own tables to results.md.
BENCH_DB_URL=$db_url PURSER=$root/$purser PURSER_PORT=$purser_port REFERENCE_PORT=$reference_port \
  PURSER_MASTER_KEY=$master_key BENCH_OUT=$out BENCH_DURATION=$duration BENCH_CONNECTIONS=$connections \
  BENCH_ROUNDS=$rounds bench/requests.sh

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for name in ref_plain healthz static ref_items readyz me; do
  declare "${name}=$(median "${rps[$name]}")"
  declare "${name}_p99=$(median "${p99[$name]}")"
done
peak_rss=$(peak $purser_pid)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
{
  echo "| route | requests/s | p99 ms | throughput vs reference | p99 vs reference | target |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  echo "| reference /plain | $ref_plain | $ref_plain_p99 | 1.00 | 1.00 | |"
  echo "| purser /healthz | $healthz | $healthz_p99 | $(ratio "$healthz" "$ref_plain") | $(ratio "$healthz_p99" "$ref_plain_p99") | ≥ 0.8×, p99 ≤ 1.25× |"
  echo "| purser static JS (fingerprinted, $(curl -fsS -o /dev/null -w "%{size_download}" "http://127.0.0.1:$purser_port$asset") B) | $static | $static_p99 | $(ratio "$static" "$ref_plain") | $(ratio "$static_p99" "$ref_plain_p99") | ≥ 0.8×, p99 ≤ 1.25× |"
  echo "| reference /api/items | $ref_items | $ref_items_p99 | 1.00 | 1.00 | |"
  echo "| purser /readyz | $readyz | $readyz_p99 | $(ratio "$readyz" "$ref_items") | $(ratio "$readyz_p99" "$ref_items_p99") | ≥ 0.7× |"
  echo "| purser /api/v1/me (bearer token; cached, so answered inline) | $me | $me_p99 | $(ratio "$me" "$healthz") of /healthz | | ≥ 0.8× of /healthz |"
  echo
  echo "Sign-ins: $sign_ins a second (p99 $sign_in_p99, ${sign_in_refused:-0} not answered 303, $sessions_made sessions made), wrk -t2 -c4 posting the sign-in form; argon2id m=19456 KiB, t=2, p=1, two hashes at a time."
  echo
  echo "| queue | Purser | PgQueuer (best of its two settings) | ratio | target |"
  echo "| --- | ---: | ---: | ---: | --- |"
  echo "| enqueue, batches of 1,000 (jobs/s) | $queue_enqueue | $peer_enqueue | $(ratio "$queue_enqueue" "$peer_enqueue") | ≥ 1× |"
  echo "| burn-down of $queue_jobs no-op jobs, 2 threads (jobs/s) | $queue_burn | $peer_burn | $(ratio "$queue_burn" "$peer_burn") | ≥ 1.2× |"
  echo
  echo "Pickup latency (commit of the enqueue → handler start, idle queue, 200 jobs): p50 $queue_p50 ms, p99 $queue_p99 ms (target p99 < 10 ms)."
  echo "Four \`purser work\` processes, 10,000 jobs: $exactly_once."
  echo
  echo "Purser RSS: $idle_rss MB idle, $peak_rss MB peak during the run (targets: < 64 MB, < 256 MB)."
  echo "Medians of $rounds interleaved rounds of wrk -t2 -c$connections -d$duration --latency, loopback, $(nproc) cores, $(date -u +%Y-%m-%d)."
} | tee -a "$out/results.md"

# Usage ingestion at the issue's size (bench/usage.sh: 10 million events over 50 tenants through the
# API beside a bare COPY of the same rows, the report by model against raw events, budget status,
# server memory), on a cluster and server of its own, bounded by BENCH_USAGE_TIMEOUT; appends its
# table to results.md. BENCH_USAGE=off leaves it out; BENCH_USAGE_EVENTS and BENCH_USAGE_TENANTS size it.
if [ "${BENCH_USAGE:-on}" != off ]; then
  PURSER=$root/$purser BENCH_OUT=$out BENCH_RESULTS=$out/results.md bench/usage.sh
fi

# Monitoring (bench/monitoring.sh, on a cluster of its own, about 6 minutes): 10,000 HTTP probe
# targets every 30 s on two `purser work` processes against a loopback stand-in (start lateness,
# CPU per probe), and an Alertmanager burst of 1,000 alerts of one service. BENCH_MONITORING=off
# leaves it out; BENCH_PROBE_TARGETS, BENCH_PROBE_ROUNDS and BENCH_ALERTS size it.
if [ "${BENCH_MONITORING:-on}" != off ]; then
  PURSER=$root/$purser BENCH_OUT=$out BENCH_RESULTS=$out/results.md bench/monitoring.sh
fi

# Scaling (bench/scale.sh, on a cluster of its own, about 4 minutes): the requests list and filing
# on 1 node, HAProxy in front of 2, 1 through PgBouncer in transaction mode, and 2 through both,
# beside the reference, with the CPU split. BENCH_SCALE=off leaves it out; BENCH_SCALE_DURATION,
# BENCH_SCALE_ROUNDS and BENCH_SCALE_CONFIGS size it.
if [ "${BENCH_SCALE:-on}" != off ]; then
  PURSER=$root/$purser BENCH_OUT=$out BENCH_RESULTS=$out/results.md REFERENCE_DIR=$reference_dir bench/scale.sh
fi

# The worker benchmarks (each on a throwaway cluster of its own, bounded by its own waits): SSH
# certificates signed per second, 1,000 access grants expiring in one minute with 20 of them tried
# against a real sshd, and 1,000 canary rollouts on the sandbox. BENCH_WORKERS=off leaves them out.
if [ "${BENCH_WORKERS:-on}" != off ]; then
  for script in bench/access-sign.sh bench/access-expiry.sh bench/deployments-rollouts.sh; do
    PURSER=$root/$purser BENCH_OUT=$out BENCH_RESULTS=$out/results.md "$script"
  done
fi
