#!/usr/bin/env bash
# The access expiry benchmark: BENCH_GRANTS grants (default 1,000) across BENCH_TENANTS tenants (20)
# whose ends all fall in the same minute, BENCH_LEAD seconds ahead (30), expired by one `purser
# work` on a throwaway cluster on the live clock. Records the lateness of every access.expire
# record (its audit event's time after the grant's end): median, p99, max; and how many grants were
# still recorded active a second after their end. (Enforcement does not wait for the record:
# `require` and a certificate's valid_before end a grant on the second; the record only lags.)
# Appends a table to bench/out/results.md. Tiny trial: BENCH_GRANTS=50 BENCH_TENANTS=2 BENCH_LEAD=5.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
purser=${PURSER:-$root/.build/release/purser}
grants=${BENCH_GRANTS:-1000}
tenants=${BENCH_TENANTS:-20}
lead=${BENCH_LEAD:-30}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
mkdir -p "$out"

cluster=$(mktemp -d /tmp/purser-bench-access-XXXXXX)
chmod 755 "$cluster"
worker_pid=
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
}
trap cleanup EXIT
admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE bench_access"
db_url=${admin_url/\/postgres\?//bench_access?}
key=$(head -c 32 /dev/urandom | base64)
export PURSER_MASTER_KEY="k1:$key"
DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 -v tenants="$tenants" -v grants="$grants" -v lead="$lead" -d "$db_url" -f bench/access-seed.sql

DATABASE_URL=$db_url PURSER_ROOT=$root PURSER_METRICS_LISTEN=off "$purser" work >"$out/access-worker.log" 2>&1 &
worker_pid=$!
started=$(date +%s)
while :; do
  open=$(psql -tA -d "$db_url" -c "SELECT count(*) FROM access_grants WHERE state = 'active'")
  [ "$open" = 0 ] && break
  if [ $(( $(date +%s) - started )) -gt $(( lead + 300 )) ]; then echo "still $open grants active; giving up" >&2; break; fi
  sleep 1
done
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=

read -r recorded median p99 worst over_second <<<"$(psql -tA -F' ' -d "$db_url" -c "
  WITH late AS (
      SELECT extract(epoch FROM e.occurred_at - g.ends_at) AS seconds FROM access_grants g
      JOIN audit_events e ON e.tenant_id = g.tenant_id AND e.action = 'access.expire' AND e.target_id = g.id::text)
  SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds)::numeric, 3), round(max(seconds)::numeric, 3),
         count(*) FILTER (WHERE seconds > 1) FROM late")"

{
  echo
  echo "### Access grants expiring in one minute ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo
  echo "| grants | tenants | expiries recorded | record lateness median | p99 | max | recorded more than 1 s late |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  echo "| $grants | $tenants | $recorded | ${median} s | ${p99} s | ${worst} s | $over_second |"
} | tee -a "$results"
