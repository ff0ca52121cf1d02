#!/usr/bin/env bash
# `make bench`: wrk on loopback against Purser and, in the same run, the reference server in
# ../shared/bench/limit (raw C on libmicrohttpd + libpq), both on one throwaway PostgreSQL.
# Prints each figure as a ratio to the reference; writes the table to bench/out/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/opt/swift/usr/bin:$PATH"
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
reference_dir=${REFERENCE_DIR:-$root/../shared/bench/limit}

scripts/install-packages.sh $(cat scripts/packages-build.txt) wrk build-essential
[ -f "$reference_dir/limit.c" ] || { echo "the reference server is not at $reference_dir" >&2; exit 1; }
make -s -C "$reference_dir" limit
swift build -c release --product purser 2>&1 | tail -n 1

out=$root/bench/out
mkdir -p "$out"
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

reference_port=18081
purser_port=18080
DATABASE_URL=$db_url "$reference_dir/limit" $reference_port 2 2>"$out/limit.log" &
pids+=($!)
DATABASE_URL=$db_url PURSER_LISTEN=127.0.0.1:$purser_port PURSER_METRICS_LISTEN=127.0.0.1:18464 \
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

css=$(curl -fsS "http://127.0.0.1:$purser_port/" | grep -oE '/static/css/purser\.[0-9a-f]+\.css' | head -n 1)

# Prints "requests_per_second p99_ms" for one wrk run.
measure() {
  local report
  report=$(wrk -t2 -c"$connections" -d"$duration" --latency "$1")
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

read -r ref_plain ref_plain_p99 <<<"$(measure "http://127.0.0.1:$reference_port/plain")"
read -r healthz healthz_p99 <<<"$(measure "http://127.0.0.1:$purser_port/healthz")"
read -r static static_p99 <<<"$(measure "http://127.0.0.1:$purser_port$css")"
read -r ref_items ref_items_p99 <<<"$(measure "http://127.0.0.1:$reference_port/api/items")"
read -r readyz readyz_p99 <<<"$(measure "http://127.0.0.1:$purser_port/readyz")"
peak_rss=$(peak $purser_pid)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
{
  echo "| route | requests/s | p99 ms | throughput vs reference | p99 vs reference | target |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  echo "| reference /plain | $ref_plain | $ref_plain_p99 | 1.00 | 1.00 | |"
  echo "| purser /healthz | $healthz | $healthz_p99 | $(ratio "$healthz" "$ref_plain") | $(ratio "$healthz_p99" "$ref_plain_p99") | ≥ 0.8×, p99 ≤ 1.25× |"
  echo "| purser static CSS | $static | $static_p99 | $(ratio "$static" "$ref_plain") | $(ratio "$static_p99" "$ref_plain_p99") | ≥ 0.8×, p99 ≤ 1.25× |"
  echo "| reference /api/items | $ref_items | $ref_items_p99 | 1.00 | 1.00 | |"
  echo "| purser /readyz | $readyz | $readyz_p99 | $(ratio "$readyz" "$ref_items") | $(ratio "$readyz_p99" "$ref_items_p99") | ≥ 0.7× |"
  echo
  echo "Purser RSS: $idle_rss MB idle, $peak_rss MB peak during the run (targets: < 64 MB, < 256 MB)."
  echo "wrk -t2 -c$connections -d$duration --latency, loopback, $(nproc) cores, $(date -u +%Y-%m-%d)."
} | tee "$out/results.md"
