#!/usr/bin/env bash
# The usage benchmark, on its own throwaway PostgreSQL and `purser serve`, loopback only:
#   1. generates BENCH_USAGE_EVENTS events (10 million) over BENCH_USAGE_TENANTS tenants (50) and
#      BENCH_USAGE_DAYS days (90) with the issue's cardinalities (bench/usage-generate.py, two processes;
#      BENCH_USAGE_ORDER spread scatters every batch over the 90 days, time sends events as they occurred),
#   2. ingests them through POST /api/v1/usage as NDJSON in batches of 10,000 (a staff pipeline's
#      token naming each tenant, on a plan whose rate limit does not throttle) from
#      BENCH_USAGE_WRITERS concurrent writers, sampling the server's resident memory, then checks
#      every event was stored once, a re-sent batch is all duplicates, and a tenant's rollups
#      reconcile with its raw events to the micro-unit,
#   3. copies the same rows with a bare COPY (one psql \copy FROM STDIN per writer, as many writers)
#      into a plain table without indexes: the physical limit of this machine, in the same run,
#   4. times a tenant's 30-day spend grouped by model: GET /api/v1/reports/costs (server time, from
#      the access log) and the statement on the model rollup beside the naive GROUP BY over its raw
#      events (server execution time, EXPLAIN ANALYZE, median of 5),
#   5. times GET /api/v1/budgets/{id}/status for a tenant, a team and a key budget (server time,
#      BENCH_USAGE_SAMPLES requests each, one at a time),
# and appends a table to bench/out/results.md. Each phase is bounded (BENCH_USAGE_TIMEOUT seconds for
# the ingest). The cluster is the tests' (fsync off, for the API and the COPY alike) with the memory
# and WAL of a production server (BENCH_USAGE_PG_SETTINGS; set it empty for the tests' defaults:
# 128 MB of shared buffers cannot hold the indexes ten million events write into); the benchmark's
# database runs with synchronous_commit on. On these machines compare the ratios, not the absolute
# figures across runs. A trial: BENCH_USAGE_EVENTS=100000 BENCH_USAGE_TENANTS=5.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/opt/swift/usr/bin:$PATH"
events=${BENCH_USAGE_EVENTS:-10000000}
tenants=${BENCH_USAGE_TENANTS:-50}
days=${BENCH_USAGE_DAYS:-90}
writers=${BENCH_USAGE_WRITERS:-4}
order=${BENCH_USAGE_ORDER:-spread}  # or time: see bench/usage-generate.py
samples=${BENCH_USAGE_SAMPLES:-200}
ingest_timeout=${BENCH_USAGE_TIMEOUT:-3600}
# A quarter of this machine's 23 GB for shared buffers, checkpoints by time rather than by WAL volume.
pg_settings=${BENCH_USAGE_PG_SETTINGS-"-c shared_buffers=6GB -c effective_cache_size=16GB -c max_wal_size=16GB \
  -c checkpoint_timeout=30min -c wal_buffers=64MB -c work_mem=64MB -c maintenance_work_mem=1GB"}
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
die() { echo "bench/usage.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", n / (b - a)}'; }
# CPU seconds used so far by PostgreSQL (the postmaster, its live children, and the children it has
# reaped: autovacuum workers, finished backends) and by the server: "pg purser". On a shared machine
# CPU per event moves far less with others' load than events per second do.
cpu_seconds() {
  local postmaster ticks
  postmaster=$(head -n 1 "$cluster/data/postmaster.pid")
  ticks=$(getconf CLK_TCK)
  {
    awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat"
    for child in $(cat "/proc/$postmaster/task/$postmaster/children" 2>/dev/null); do
      awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || true
    done
  } | awk -v t="$ticks" '{s += $1} END {printf "%.2f ", s / t}'
  awk -v t="$ticks" '{printf "%.2f\n", ($14 + $15) / t}' "/proc/$server_pid/stat"
}
# Microseconds of CPU per row between two cpu_seconds readings: "pg purser".
cpu_per_row() {
  awk -v n="$generated" -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN {printf "%.1f %.1f\n", (c - a) * 1e6 / n, (d - b) * 1e6 / n}'
}

admin_url=$(PURSER_CLUSTER_SETTINGS=$pg_settings scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_usage" -c "ALTER DATABASE purser_usage SET synchronous_commit = on"
db_url=${admin_url/\/postgres\?//purser_usage?}
sql() { psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
DATABASE_URL=$db_url "$purser" migrate >/dev/null

# --- Tenants, a pipeline's token, list prices, budgets ------------------------------------------
end=$(date +%s)
sql "INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
     VALUES ('bench', 'Benchmark', 100000000, 400000000)" >/dev/null
sql "INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
     SELECT gen_random_uuid(), 'u' || lpad(n::text, 2, '0'), 'U' || lpad(n::text, 2, '0'), 'Usage ' || n, 'bench',
            to_timestamp($end) - interval '$((days + 2)) days'
     FROM generate_series(1, $tenants) n" >/dev/null
printf "%s\n" "usage arrives in tall stacks of batches" | DATABASE_URL=$db_url "$purser" admin create-staff --email pipeline@purser.test \
  --name Pipeline --role platform_engineer --password-stdin >/dev/null
token=$(DATABASE_URL=$db_url "$purser" admin create-token --email pipeline@purser.test --scopes usage:write,costs:read --expires 1d)
sql "INSERT INTO prices (id, kind, provider, item, currency, effective_from, input_per_million, output_per_million,
                         cached_input_per_million, source, source_read_on, created_at)
     SELECT gen_random_uuid(), 'tokens', p, m, 'USD', '2024-01-01', i, o, i / 2, 'bench', '2024-11-01', now()
     FROM (VALUES ('openai', 'gpt-4o', 2500000, 10000000), ('openai', 'gpt-4o-mini', 150000, 600000),
                  ('openai', 'o1-mini', 3000000, 12000000), ('anthropic', 'claude-3-5-sonnet', 3000000, 15000000),
                  ('anthropic', 'claude-3-5-haiku', 800000, 4000000), ('anthropic', 'claude-3-opus', 15000000, 75000000),
                  ('vertex', 'gemini-1.5-pro', 1250000, 5000000), ('vertex', 'gemini-1.5-flash', 75000, 300000)) v(p, m, i, o)" >/dev/null
tenant=$(sql "SELECT id FROM tenants WHERE slug = 'u01'")
budget_ids=($(sql "
  INSERT INTO budgets (tenant_id, id, name, scope, scope_value, amount_micros, currency, period, created_at, updated_at)
  VALUES ('$tenant', gen_random_uuid(), 'All spend', 'tenant', '', 50000000000, 'USD', 'month', now(), now()),
         ('$tenant', gen_random_uuid(), 'Team 3', 'team', 'team-3', 9000000000, 'USD', 'month', now(), now()),
         ('$tenant', gen_random_uuid(), 'Key 7', 'key', 'key-7', 4000000000, 'USD', 'month', now(), now())
  RETURNING id"))
budget_tenant=${budget_ids[0]} budget_team=${budget_ids[1]} budget_key=${budget_ids[2]}

# --- The server (its access log, one JSON line a request, gives server times) ---------------------
access_log=$out/usage-access.log
DATABASE_URL=$db_url PURSER_MASTER_KEY=$(openssl rand -base64 32) PURSER_LISTEN=127.0.0.1:$port \
  PURSER_METRICS_LISTEN=127.0.0.1:$((port + 1)) "$purser" serve >"$access_log" 2>"$out/usage-purser.log" &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || die "the server did not start (see $out/usage-purser.log)"

echo "generating $events events over $tenants tenants and $days days ($order)…"
half=$(((tenants + 1) / 2))
python3 bench/usage-generate.py "$data" "$events" "$tenants" "$days" "$end" 1 "$half" "$order" &
generator_pid=$!
python3 bench/usage-generate.py "$data" "$events" "$tenants" "$days" "$end" $((half + 1)) "$tenants" "$order"
wait "$generator_pid"
generated=$(find "$data/ndjson" -name '*.ndjson' -exec cat {} + | wc -l)
[ "$generated" -eq $(((events / tenants) * tenants)) ] || die "generated $generated events"

# --- Through the API -----------------------------------------------------------------------------
rss_file=$out/usage-rss.txt
: >"$rss_file"
( while kill -0 "$server_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" >>"$rss_file"; sleep 0.5; done ) &
sampler_pid=$!
idle_rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status")
export token port
send() {
  local file=$1 slug
  slug=$(basename "$file" | cut -d- -f1)
  curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$file" "http://127.0.0.1:$port/api/v1/usage?tenant=$slug"
}
export -f send
# The batches in the order they are sent: each tenant's in order, the tenants interleaved (u01's
# first, u02's first, …, u01's second), so concurrent writers mostly carry different tenants.
batches() { find "$data/$1" -type f -printf '%f\n' | sort -t- -k2,2 -k1,1 | sed "s|^|$data/$1/|"; }
echo "ingesting through the API with $writers writers…"
read -r pg_before purser_before < <(cpu_seconds)
started=$(now)
codes=$(batches ndjson | timeout "$ingest_timeout" xargs -P "$writers" -I{} bash -c 'send {}' \
  | sort | uniq -c | awk '{printf "%s%s × %s", (NR > 1 ? ", " : ""), $1, $2}')
finished=$(now)
read -r pg_after purser_after < <(cpu_seconds)
read -r api_pg_us api_purser_us < <(cpu_per_row "$pg_before" "$purser_before" "$pg_after" "$purser_after")
kill "$sampler_pid" 2>/dev/null || true
api_load=$(cut -d' ' -f1-3 /proc/loadavg)
api_seconds=$(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}')
api_rate=$(rate "$generated" "$started" "$finished")
rss_max=$(sort -n "$rss_file" | tail -n 1)
peak_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status")
read -r in_table in_ids < <(sql "SELECT (SELECT count(*) FROM usage_events), (SELECT count(*) FROM usage_event_ids)" | tr '|' ' ')
echo "API: $generated events in $api_seconds s ($api_rate events/s); answers: $codes; stored $in_table, ids $in_ids; RSS max ${rss_max:-?} KiB; CPU per event: PostgreSQL $api_pg_us µs, Purser $api_purser_us µs"
[ "$in_table" = "$generated" ] && [ "$in_ids" = "$generated" ] || die "stored $in_table events and $in_ids ids of $generated"
resend=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$(find "$data/ndjson" -name 'u01-*.ndjson' | sort | head -n 1)" "http://127.0.0.1:$port/api/v1/usage?tenant=u01")
echo "a batch sent again: $resend"
# Rollups against raw events, one tenant, every measure the reports sum.
mismatch=$(sql "SELECT count(*) FROM (
  SELECT day, provider, model, sum(events) e, sum(requests) r, sum(input_tokens) i, sum(output_tokens) o,
         sum(cached_input_tokens) c, sum(cost_micros) m, sum(unpriced_events) u
  FROM usage_daily_models WHERE tenant_id = '$tenant' GROUP BY 1, 2, 3
  EXCEPT
  SELECT (occurred_at AT TIME ZONE 'UTC')::date, provider, model, count(*), sum(requests), sum(input_tokens), sum(output_tokens),
         sum(cached_input_tokens), sum(coalesce(cost_micros, 0)), count(*) FILTER (WHERE cost_micros IS NULL)
  FROM usage_events WHERE tenant_id = '$tenant' GROUP BY 1, 2, 3) d")
[ "$mismatch" = 0 ] || die "$mismatch rows of u01's usage_daily_models differ from its raw events"

# --- A bare COPY of the same rows ----------------------------------------------------------------
sql "CREATE TABLE bench_copy (
       event_id text, occurred_at timestamptz, kind text, provider text, model text, item text, endpoint text, team text,
       feature text, key_ref text, input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, requests integer,
       latency_ms integer, ttft_ms integer, status text, host text, gpu_type text, gpu_seconds numeric)" >/dev/null
# Each writer streams its share of the files through one psql and one COPY: no process or
# transaction per file, so this is the limit of the rows themselves.
copy_pids=()
read -r pg_before purser_before < <(cpu_seconds)
started=$(now)
for n in $(seq 0 $((writers - 1))); do
  batches copy | awk -v w="$writers" -v n="$n" 'NR % w == n' | xargs cat \
    | timeout "$ingest_timeout" psql -qtA -v ON_ERROR_STOP=1 -d "$db_url" -c "\\copy bench_copy FROM PSTDIN" &
  copy_pids+=($!)
done
for pid in "${copy_pids[@]}"; do wait "$pid" || die "a COPY writer failed"; done
finished=$(now)
read -r pg_after purser_after < <(cpu_seconds)
read -r copy_pg_us _ < <(cpu_per_row "$pg_before" "$purser_before" "$pg_after" "$purser_after")
[ "$(sql "SELECT count(*) FROM bench_copy")" = "$generated" ] || die "the bare COPY did not copy every row"
copy_rate=$(rate "$generated" "$started" "$finished")
copy_load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bare COPY: $copy_rate rows/s; CPU per row: PostgreSQL $copy_pg_us µs"
sql "DROP TABLE bench_copy" >/dev/null
sql "ANALYZE" >/dev/null

# --- A tenant's 30-day report by model: rollup against raw events --------------------------------
execution() {  # the median server execution time of $1, in ms, over 5 runs
  for _ in 1 2 3 4 5; do
    sql "EXPLAIN (ANALYZE, TIMING OFF) $1" | awk '/Execution Time/ {print $3}'
  done | sort -g | sed -n 3p
}
from="to_timestamp($end) - interval '30 days'"
rollup_ms=$(execution "SELECT model, sum(cost_micros), sum(input_tokens + output_tokens + cached_input_tokens), sum(requests)
                       FROM usage_daily_models WHERE tenant_id = '$tenant' AND day >= ($from)::date GROUP BY model")
raw_ms=$(execution "SELECT model, sum(cost_micros), sum(input_tokens + output_tokens + cached_input_tokens), sum(requests)
                    FROM usage_events WHERE tenant_id = '$tenant' AND occurred_at >= $from GROUP BY model")
echo "30-day report by model: rollup $rollup_ms ms, raw $raw_ms ms"

# --- Server times: the report route and budget status --------------------------------------------
# "median p99 max count non-200" in ms of the access-log lines tagged LABEL.
server_times() {
  for _ in $(seq 1 50); do
    [ "$(grep -c "\"us-$1\"" "$access_log" || true)" -ge "$2" ] && break
    sleep 0.1
  done
  python3 - "$access_log" "us-$1" <<'PY'
import json, sys
times, bad = [], 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("request_id") != sys.argv[2]:
        continue
    times.append(entry["duration_us"] / 1000 if "duration_us" in entry else float(entry["duration_ms"]))
    bad += entry.get("status") != 200
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print("%.2f %.2f %.2f %d %d" % (pick(0.5), pick(0.99), times[-1], len(times), bad))
PY
}
# N requests of one URL, one at a time on one connection, each tagged us-LABEL.
timed() {
  local label=$1 count=$2 url=$3 urls=()
  for _ in $(seq 1 "$count"); do urls+=("$url"); done
  curl -fsS -H "Authorization: Bearer $token" -H "X-Request-Id: us-$label" "${urls[@]}" >/dev/null || die "$url answered an error"
  server_times "$label" "$count"
}
report_from=$(date -u -d "@$((end - 29 * 86400))" +%Y-%m-%d)
report_to=$(date -u -d "@$end" +%Y-%m-%d)
read -r report_med report_p99 report_max report_n report_bad < <(timed report 20 \
  "http://127.0.0.1:$port/api/v1/reports/costs?tenant=u01&from=$report_from&to=$report_to&group_by=model")
declare -A status_med status_p99 status_max status_bad
for pair in "tenant $budget_tenant" "team $budget_team" "key $budget_key"; do
  read -r kind id <<<"$pair"
  read -r m p x _ b < <(timed "budget-$kind" "$samples" "http://127.0.0.1:$port/api/v1/budgets/$id/status?tenant=u01")
  status_med[$kind]=$m status_p99[$kind]=$p status_max[$kind]=$x status_bad[$kind]=$b
done
[ "$report_bad" = 0 ] && [ "${status_bad[tenant]}${status_bad[team]}${status_bad[key]}" = 000 ] || die "a timed request did not answer 200"

{
  echo
  echo "## Usage ingestion ($(date -u +%Y-%m-%d), $generated events, $tenants tenants, $days days, batches $order, $writers writers, $(nproc) cores)"
  echo
  echo "| figure | value | target |"
  echo "| --- | --- | --- |"
  echo "| ingest through POST /api/v1/usage (NDJSON, 10,000 a call) | $api_rate events/s ($api_seconds s; answers $codes) | 100,000 events/s |"
  echo "| bare COPY of the same rows, one COPY per writer, same writers | $copy_rate rows/s | |"
  echo "| CPU per event through the API: PostgreSQL / Purser; per row of the bare COPY: PostgreSQL | $api_pg_us / $api_purser_us µs; $copy_pg_us µs | |"
  echo "| PostgreSQL settings beside the tests' | $(echo ${pg_settings:-none}) | |"
  echo "| load average (1, 5, 15 min) at the end of the API / COPY phase | $api_load / $copy_load | |"
  echo "| API ÷ COPY | $(awk -v a="$api_rate" -v b="$copy_rate" 'BEGIN {printf "%.2f", a / b}') | ≥ 0.5 |"
  echo "| events stored / ids; a batch re-sent | $in_table / $in_ids; $resend | every event once |"
  echo "| server RSS idle / max sampled during ingest / peak | $idle_rss / $(awk -v k="${rss_max:-0}" 'BEGIN {printf "%.0f", k / 1024}') / $peak_rss MiB | |"
  echo "| u01's model rollup against its raw events | $mismatch rows differ | 0 |"
  echo "| 30-day report by model, statement on usage_daily_models | $rollup_ms ms | < 50 ms |"
  echo "| the naive GROUP BY over raw events | $raw_ms ms | |"
  echo "| raw ÷ rollup | $(awk -v a="$raw_ms" -v b="$rollup_ms" 'BEGIN {printf "%.0f", a / b}') | ≥ 100 |"
  echo "| GET /api/v1/reports/costs?group_by=model, 30 days, server time (20 requests) | median $report_med ms, p99 $report_p99 ms, max $report_max ms | < 50 ms |"
  for kind in tenant team key; do
    echo "| GET /api/v1/budgets/{id}/status, $kind budget, server time ($samples requests) | median ${status_med[$kind]} ms, p99 ${status_p99[$kind]} ms, max ${status_max[$kind]} ms | < 5 ms |"
  done
} | tee -a "$results"
