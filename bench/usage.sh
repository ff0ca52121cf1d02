#!/usr/bin/env bash
# The usage benchmark, on its own throwaway PostgreSQL and `purser serve`:
#   1. generates BENCH_USAGE_EVENTS events (10 million) over BENCH_USAGE_TENANTS tenants (50) and
#      BENCH_USAGE_DAYS days (90) with the issue's cardinalities (bench/usage-generate.py),
#   2. ingests them through POST /api/v1/usage in batches of 10,000 (a staff pipeline's token naming
#      each tenant, on a plan whose rate limit does not throttle) from BENCH_USAGE_WRITERS writers,
#      sampling the server's resident memory, and checks every event was stored once,
#   3. copies the same rows with a bare COPY (psql \copy, same writers) into a plain table: the
#      physical limit of this machine, in the same run,
#   4. times a tenant's 30-day spend grouped by model from the rollup (usage_daily_models) and the naive
#      GROUP BY over its raw events (server execution time, median of 5),
# and appends a table to bench/out/results.md. Loopback only; on these machines compare the ratios,
# not the absolute figures across runs. A trial: BENCH_USAGE_EVENTS=40000 BENCH_USAGE_TENANTS=4.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/opt/swift/usr/bin:$PATH"
events=${BENCH_USAGE_EVENTS:-10000000}
tenants=${BENCH_USAGE_TENANTS:-50}
days=${BENCH_USAGE_DAYS:-90}
writers=${BENCH_USAGE_WRITERS:-4}
port=${BENCH_USAGE_PORT:-18090}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
purser=${PURSER:-}
if [ -z "$purser" ]; then
  swift build -c release --product purser 2>&1 | tail -n 1
  purser=$root/.build/release/purser
fi
mkdir -p "$out"
data=$(mktemp -d /tmp/purser-usage-data-XXXXXX)
cluster=$(mktemp -d /tmp/purser-usage-bench-XXXXXX)
chmod 755 "$cluster"
server_pid=
sampler_pid=
cleanup() {
  for pid in $sampler_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
  rm -rf "$data"
}
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", n / (b - a)}'; }

admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_usage"
db_url=${admin_url/\/postgres\?//purser_usage?}
sql() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
DATABASE_URL=$db_url "$purser" migrate >/dev/null

# --- Tenants, a pipeline's token, list prices ---------------------------------------------------
end=$(date +%s)
sql "INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
     VALUES ('bench', 'Benchmark', 100000000, 400000000)" >/dev/null
sql "INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
     SELECT gen_random_uuid(), 'u' || lpad(n::text, 2, '0'), 'U' || lpad(n::text, 2, '0'), 'Usage ' || n, 'bench',
            to_timestamp($end) - interval '$((days + 2)) days'
     FROM generate_series(1, $tenants) n" >/dev/null
printf "%s\n" "usage arrives in tall stacks of batches" | DATABASE_URL=$db_url "$purser" admin create-staff --email pipeline@purser.test \
  --name Pipeline --role platform_engineer --password-stdin >/dev/null
token=$(DATABASE_URL=$db_url "$purser" admin create-token --email pipeline@purser.test --scopes usage:write --expires 1d)
sql "INSERT INTO prices (id, kind, provider, item, currency, effective_from, input_per_million, output_per_million,
                         cached_input_per_million, source, source_read_on, created_at)
     SELECT gen_random_uuid(), 'tokens', p, m, 'USD', '2024-01-01', i, o, i / 2, 'bench', '2024-11-01', now()
     FROM (VALUES ('openai', 'gpt-4o', 2500000, 10000000), ('openai', 'gpt-4o-mini', 150000, 600000),
                  ('openai', 'o1-mini', 3000000, 12000000), ('anthropic', 'claude-3-5-sonnet', 3000000, 15000000),
                  ('anthropic', 'claude-3-5-haiku', 800000, 4000000), ('anthropic', 'claude-3-opus', 15000000, 75000000),
                  ('vertex', 'gemini-1.5-pro', 1250000, 5000000), ('vertex', 'gemini-1.5-flash', 75000, 300000)) v(p, m, i, o)" >/dev/null

# --- The server ----------------------------------------------------------------------------------
DATABASE_URL=$db_url PURSER_MASTER_KEY=$(openssl rand -base64 32) PURSER_LISTEN=127.0.0.1:$port \
  PURSER_METRICS_LISTEN=127.0.0.1:$((port + 1)) "$purser" serve >/dev/null 2>"$out/usage-purser.log" &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.1; done

echo "generating $events events over $tenants tenants and $days days…"
python3 bench/usage-generate.py "$data" "$events" "$tenants" "$days" "$end"
stored_events=$(find "$data/ndjson" -name '*.ndjson' -exec cat {} + | wc -l)

# --- Through the API -----------------------------------------------------------------------------
rss_file=$out/usage-rss.txt
: >"$rss_file"
( while kill -0 "$server_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" >>"$rss_file"; sleep 0.5; done ) &
sampler_pid=$!
export token port
send() {
  local file=$1 slug
  slug=$(basename "$file" | cut -d- -f1)
  curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$file" "http://127.0.0.1:$port/api/v1/usage?tenant=$slug"
}
export -f send
echo "ingesting through the API with $writers writers…"
started=$(now)
codes=$(find "$data/ndjson" -name '*.ndjson' | sort | xargs -P "$writers" -I{} bash -c 'send {}' | sort | uniq -c | tr '\n' ' ')
finished=$(now)
kill "$sampler_pid" 2>/dev/null || true
api_rate=$(rate "$stored_events" "$started" "$finished")
read -r in_table in_ids < <(sql "SELECT (SELECT count(*) FROM usage_events), (SELECT count(*) FROM usage_event_ids)" | tr '|' ' ')
rss_max=$(sort -n "$rss_file" | tail -n 1)
echo "API: $stored_events events in $(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}') s ($api_rate events/s); answers: $codes; stored $in_table, ids $in_ids; server RSS max ${rss_max:-?} KiB"

# --- A bare COPY of the same rows ----------------------------------------------------------------
sql "CREATE TABLE bench_copy (
       event_id text, occurred_at timestamptz, kind text, provider text, model text, item text, endpoint text, team text,
       feature text, key_ref text, input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, requests integer,
       latency_ms integer, ttft_ms integer, status text, host text, gpu_type text, gpu_seconds numeric)" >/dev/null
export db_url
copy_one() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "\\copy bench_copy FROM '$1'"; }
export -f copy_one
started=$(now)
find "$data/copy" -name '*.tsv' | sort | xargs -P "$writers" -I{} bash -c 'copy_one {}'
finished=$(now)
copy_rate=$(rate "$stored_events" "$started" "$finished")
echo "bare COPY: $copy_rate rows/s"

# --- A tenant's 30-day report by model: rollup against raw events --------------------------------
tenant=$(sql "SELECT id FROM tenants WHERE slug = 'u01'")
execution() {  # the median server execution time of $1, in ms, over 5 runs
  for _ in 1 2 3 4 5; do
    sql "EXPLAIN (ANALYZE, TIMING OFF) $1" | awk '/Execution Time/ {print $3}'
  done | sort -n | sed -n 3p
}
from="to_timestamp($end) - interval '30 days'"
rollup_ms=$(execution "SELECT model, sum(cost_micros), sum(input_tokens + output_tokens + cached_input_tokens), sum(requests)
                       FROM usage_daily_models WHERE tenant_id = '$tenant' AND day >= ($from)::date GROUP BY model")
raw_ms=$(execution "SELECT model, sum(cost_micros), sum(input_tokens + output_tokens + cached_input_tokens), sum(requests)
                    FROM usage_events WHERE tenant_id = '$tenant' AND occurred_at >= $from GROUP BY model")
echo "30-day report by model: rollup $rollup_ms ms, raw $raw_ms ms"

{
  echo
  echo "## Usage ingestion ($(date -u +%Y-%m-%d), $stored_events events, $tenants tenants, $days days, $writers writers)"
  echo
  echo "| figure | value |"
  echo "| --- | --- |"
  echo "| ingest through POST /api/v1/usage | $api_rate events/s |"
  echo "| bare COPY of the same rows | $copy_rate rows/s |"
  echo "| API ÷ COPY | $(awk -v a="$api_rate" -v b="$copy_rate" 'BEGIN {printf "%.2f", a / b}') |"
  echo "| events stored / ids | $in_table / $in_ids |"
  echo "| server RSS during ingest (max) | $(awk -v k="${rss_max:-0}" 'BEGIN {printf "%.0f MiB", k / 1024}') |"
  echo "| 30-day report by model, rollup | $rollup_ms ms |"
  echo "| the same over raw events | $raw_ms ms |"
  echo "| raw ÷ rollup | $(awk -v a="$raw_ms" -v b="$rollup_ms" 'BEGIN {printf "%.0f", a / b}') |"
} | tee -a "$results"
