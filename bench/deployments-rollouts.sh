#!/usr/bin/env bash
# The rollout benchmark: BENCH_ROLLOUTS canary rollouts (default 1,000) on the sandbox across
# BENCH_TENANTS tenants (50), BENCH_BAKE seconds per step (30), all approved at once, carried out by
# one `purser work` on a throwaway cluster. Records
#   - the lateness of every step decision: when the reconciler decided (step_passed / promote /
#     rollback) after the end of that step's bake (its step_started + bake time), median, p99, max;
#   - the worker's CPU time (user + system, from /proc) per recorded transition;
# and appends a table to bench/out/results.md. Tiny trial: BENCH_ROLLOUTS=20 BENCH_TENANTS=2 BENCH_BAKE=2.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
purser=${PURSER:-$root/.build/release/purser}
rollouts=${BENCH_ROLLOUTS:-1000}
tenants=${BENCH_TENANTS:-50}
bake=${BENCH_BAKE:-30}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
mkdir -p "$out"

source bench/worker-cluster.sh
bench_database rollouts bench/deployments-seed.sql -v tenants="$tenants" -v rollouts="$rollouts" -v bake="$bake"
bench_worker "$out/rollouts-worker.log"
started=$(date +%s)
bench_wait_for_none "SELECT count(*) FROM deployments WHERE finished_at IS NULL" $(( bake * 6 + 600 )) "rollouts open"
wall=$(( $(date +%s) - started ))
ticks=$(getconf CLK_TCK)
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$worker_pid/stat")
bench_worker_stop

read -r transitions live rolled_back <<<"$(psql -tA -F' ' -d "$db_url" -c "
  SELECT (SELECT count(*) FROM rollout_events), (SELECT count(*) FROM deployments WHERE state = 'live'),
         (SELECT count(*) FROM deployments WHERE state IN ('rolled_back', 'failed'))")"
read -r decisions median p99 worst <<<"$(psql -tA -F' ' -d "$db_url" -c "
  WITH ordered AS (
      SELECT e.action, e.at, d.bake_seconds,
             lag(e.at) OVER (PARTITION BY e.deployment_id ORDER BY e.seq) AS previous_at,
             lag(e.action) OVER (PARTITION BY e.deployment_id ORDER BY e.seq) AS previous_action
      FROM rollout_events e JOIN deployments d ON d.tenant_id = e.tenant_id AND d.id = e.deployment_id),
  late AS (
      SELECT extract(epoch FROM at - (previous_at + bake_seconds * interval '1 second')) AS seconds FROM ordered
      WHERE action IN ('step_passed', 'promote', 'rollback') AND previous_action = 'step_started')
  SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds)::numeric, 3), round(max(seconds)::numeric, 3) FROM late")"
cpu_ms=$(awk -v t="$cpu_ticks" -v hz="$ticks" -v n="$transitions" 'BEGIN { printf "%.2f", n ? t * 1000 / hz / n : 0 }')

{
  echo
  echo "### Rollouts on the sandbox ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo
  echo "| rollouts | tenants | bake | live | rolled back / failed | transitions | step decisions | lateness median | p99 | max | worker CPU per transition | wall |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  echo "| $rollouts | $tenants | ${bake} s | $live | $rolled_back | $transitions | $decisions | ${median} s | ${p99} s | ${worst} s | ${cpu_ms} ms | ${wall} s |"
} | tee -a "$results"
