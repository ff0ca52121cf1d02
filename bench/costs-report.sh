#!/usr/bin/env bash
# The cost report's reads at the usage benchmark's cardinalities, on a throwaway PostgreSQL: rollup
# rows written directly (BENCH_COSTS_TENANTS tenants × BENCH_COSTS_DAYS days; per tenant 3 providers,
# 8 models, 5 teams, 10 features, 10 keys — every combination every day, the cube's worst case),
# then the server's execution time (EXPLAIN ANALYZE, median of 5) of
#   - a tenant's 30-day report grouped by model (the rows statement of CostReport, on the model grain), and
#   - a budget's status: its month's spend from the key slice (tenant or key) and the team slice (team).
# Raw events and the naive GROUP BY are bench/usage.sh's. A trial: BENCH_COSTS_TENANTS=2 BENCH_COSTS_DAYS=30.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
tenants=${BENCH_COSTS_TENANTS:-50}
days=${BENCH_COSTS_DAYS:-90}
purser=${PURSER:-.build/debug/purser}
cluster=$(mktemp -d /tmp/purser-costs-bench-XXXXXX)
chmod 755 "$cluster"
trap 'scripts/test-cluster.sh stop "$cluster"' EXIT
admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_costs"
db_url=${admin_url/\/postgres\?//purser_costs?}
sql() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
DATABASE_URL=$db_url "$purser" migrate >/dev/null

sql "INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
     SELECT gen_random_uuid(), 'c' || lpad(n::text, 2, '0'), 'C' || lpad(n::text, 2, '0'), 'Costs ' || n, 'standard',
            '2026-01-01' FROM generate_series(1, $tenants) n" >/dev/null
sql "INSERT INTO usage_daily (tenant_id, day, provider, model, team, feature, events, requests, input_tokens, output_tokens,
                              cached_input_tokens, cost_micros)
     SELECT t.id, d::date, 'p' || p, 'model-' || p || '-' || m, 'team-' || tm, 'feature-' || f, 10, 10, 10000, 2000, 500,
            1000 + (p * 8 + m) * 7
     FROM tenants t, generate_series('2026-11-30'::date - ($days - 1), '2026-11-30'::date, interval '1 day') d,
          generate_series(1, 3) p, generate_series(1, 8) m, generate_series(1, 5) tm, generate_series(1, 10) f" >/dev/null
sql "INSERT INTO usage_daily_models (tenant_id, day, provider, model, events, requests, input_tokens, output_tokens,
                                     cached_input_tokens, cost_micros)
     SELECT tenant_id, day, provider, model, sum(events), sum(requests), sum(input_tokens), sum(output_tokens),
            sum(cached_input_tokens), sum(cost_micros)
     FROM usage_daily GROUP BY 1, 2, 3, 4" >/dev/null
sql "INSERT INTO usage_daily_keys (tenant_id, day, key_ref, events, requests, cost_micros)
     SELECT t.id, d::date, 'key-' || k, 1200, 1200, 120000
     FROM tenants t, generate_series('2026-11-30'::date - ($days - 1), '2026-11-30'::date, interval '1 day') d,
          generate_series(1, 10) k" >/dev/null
sql "INSERT INTO usage_daily_teams (tenant_id, day, team, events, requests, input_tokens, output_tokens, cached_input_tokens,
                                    cost_micros)
     SELECT tenant_id, day, team, sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
            sum(cost_micros)
     FROM usage_daily GROUP BY 1, 2, 3" >/dev/null
# An index or slice to try beside the rollups (e.g. for team budgets), applied before VACUUM ANALYZE.
[ -n "${BENCH_COSTS_EXTRA_SQL:-}" ] && sql "$BENCH_COSTS_EXTRA_SQL" >/dev/null
sql "VACUUM ANALYZE" >/dev/null
tenant=$(sql "SELECT id FROM tenants ORDER BY slug LIMIT 1")
rows=$(sql "SELECT count(*) FROM usage_daily")

median() {
  for _ in 1 2 3 4 5; do
    psql -qtA -d "$db_url" -c "EXPLAIN (ANALYZE, FORMAT JSON) $1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])'
  done | sort -n | sed -n 3p
}
report=$(median "SELECT coalesce(s.currency, 'USD'), r.model, NULL::text, sum(r.events)::bigint, sum(r.requests)::bigint,
                 sum(r.input_tokens)::bigint, sum(r.output_tokens)::bigint, sum(r.cached_input_tokens)::bigint,
                 round(sum(r.gpu_seconds) / 3600, 2)::text, sum(r.cost_micros)::bigint, sum(r.gpu_cost_micros)::bigint,
                 sum(r.unpriced_events)::bigint
                 FROM usage_daily_models r JOIN tenants t ON t.id = r.tenant_id LEFT JOIN tenant_cost_settings s ON s.tenant_id = r.tenant_id
                 WHERE r.day BETWEEN '2026-11-01'::date AND '2026-11-30'::date AND r.tenant_id = '$tenant'
                 GROUP BY 1, 2, 3 ORDER BY sum(r.cost_micros) DESC, 2, 3 LIMIT 1000")
tenant_budget=$(median "SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_daily_keys
                        WHERE tenant_id = '$tenant' AND day BETWEEN '2026-11-01'::date AND '2026-11-30'::date")
team_budget=$(median "SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_daily_teams
                      WHERE tenant_id = '$tenant' AND day BETWEEN '2026-11-01'::date AND '2026-11-30'::date AND team = 'team-3'")
echo "costs-report: $tenants tenants × $days days, $rows cube rows"
echo "  30-day report by model (server execution, median of 5): $report ms"
echo "  budget status, tenant or key (key slice): $tenant_budget ms; team (team slice): $team_budget ms"
