#!/usr/bin/env bash
# The access expiry benchmark: BENCH_GRANTS grants (default 1,000) across BENCH_TENANTS tenants (20)
# whose ends all fall in the same minute, BENCH_LEAD seconds ahead (30), expired by one `purser
# work` on a throwaway cluster on the live clock. Records the lateness of every access.expire
# record (its audit event's time after the grant's end): median, p99, max; and how many grants were
# still recorded active a second after their end. (Enforcement does not wait for the record:
# `require` and a certificate's valid_before end a grant on the second; the record only lags.)
# BENCH_SSHD_SAMPLE of tenant ax01's grants (default 20, those ending last; 0: none) are SSH grants
# tried against a real sshd the script starts (unprivileged, loopback, ephemeral port, trusting
# Purser's CA): each grant's holder asks a `purser serve` for its certificate, logs in once before the
# grant ends, and again a second after its end, when sshd itself must refuse it (valid_before).
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

sample=${BENCH_SSHD_SAMPLE:-20}

source bench/worker-cluster.sh
bench_database access bench/access-seed.sql -v tenants="$tenants" -v grants="$grants" -v lead="$lead"
[ "$sample" -gt 0 ] && source bench/access-sshd.sh && sshd_sample_prepare
bench_worker "$out/access-worker.log"
[ "$sample" -gt 0 ] && sshd_sample_try
bench_wait_for_none "SELECT count(*) FROM access_grants WHERE state = 'active'" $(( lead + 300 )) "grants active"
bench_worker_stop

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
  if [ "$sample" -gt 0 ]; then
    echo
    echo "sshd sample ($sample SSH grants of ax01, $(basename "$(dirname "$purser")") build): accepted before the end $sshd_before/$sample;" \
      "refused after the end $sshd_after/$sample, tried ${sshd_after_min}–${sshd_after_max} s after it."
  fi
} | tee -a "$results"
