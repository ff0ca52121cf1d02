#!/usr/bin/env bash
# The monitoring benchmark, on a throwaway cluster of its own, loopback only:
#   1. probes: BENCH_PROBE_TARGETS HTTP targets (10,000) every BENCH_PROBE_INTERVAL seconds (30), due
#      times spread evenly over the period, against a loopback stand-in — HAProxy answering 200 from
#      `http-request return` on 100 ports and logging each request's arrival to the millisecond (one
#      line per probe; a Python server cannot keep up with ~333 probes a second on these cores).
#      BENCH_PROBE_WORKERS `purser work` processes (2) run for BENCH_PROBE_ROUNDS periods (8). Records
#        - start lateness: when the probe reached the stand-in after its due time (p50, p99, max),
#          and the claim's lateness (probe_results.at, when its batch was claimed);
#        - probes due in each round and how many of them were made;
#        - CPU (user + system, /proc) of the workers per probe, and of PostgreSQL and the stand-in;
#   2. an Alertmanager burst: BENCH_ALERTS firing alerts (1,000) of one service posted to
#      POST /api/v1/integrations/alertmanager of a `purser serve` as one delivery, and as many more of
#      another service as one-alert deliveries from 8 concurrent clients; records the time each took,
#      the incidents opened and the incident.opened messages put in the outbox (one page per incident:
#      one message per destination — the tenant's on-call e-mail channel and its administrator).
# Appends its tables to bench/out/results.md. BENCH_MONITORING=off in bench/run.sh leaves it out.
# A tiny trial: BENCH_PROBE_TARGETS=300 BENCH_PROBE_ROUNDS=2 BENCH_ALERTS=50.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
purser=${PURSER:-$root/.build/release/purser}
targets=${BENCH_PROBE_TARGETS:-10000}
interval=${BENCH_PROBE_INTERVAL:-30}
rounds=${BENCH_PROBE_ROUNDS:-8}
worker_count=${BENCH_PROBE_WORKERS:-2}
alerts=${BENCH_ALERTS:-1000}
# The stand-in listens on BENCH_STAND_IN_PORTS ports from BENCH_STAND_IN_PORT: the targets are spread
# over them, so probes open connections as they would to that many endpoints (libcurl keeps a few
# per handle), instead of all reusing a handful.
stand_in_port=${BENCH_STAND_IN_PORT:-18100}
stand_in_ports=${BENCH_STAND_IN_PORTS:-100}
serve_port=${BENCH_MONITORING_PORT:-18096}
# Time for the workers to start before the first probe falls due: a new schedule first fires a
# period (15 s) after a worker makes it, and the first tick should be following by then.
lead=${BENCH_PROBE_LEAD:-25}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
mkdir -p "$out"
tenant=00000000-0000-4000-8000-000000000001

source bench/worker-cluster.sh
bench_database monitoring bench/monitoring-seed.sql -v targets="$targets" -v interval="$interval" -v port="$stand_in_port" \
  -v ports="$stand_in_ports" -v lead="$lead"
stand_in=$(mktemp -d /tmp/purser-stand-in-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
  rm -rf "$stand_in"
}
trap cleanup EXIT
sql() { psql -qtA -F' ' -v ON_ERROR_STOP=1 -d "$db_url" -c "$1"; }
first_due=$(sql "SELECT first_due FROM bench_first_due")
window_end=$((first_due + rounds * interval))

# --- The stand-in --------------------------------------------------------------------------------
cat >"$stand_in/haproxy.cfg" <<CFG
global
  maxconn 4000
  log stdout format raw local0
defaults
  mode http
  log global
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend probes
  bind 127.0.0.1:$stand_in_port-$((stand_in_port + stand_in_ports - 1))
  log-format "%[date(0,ms)] %HP"
  http-request return status 200 content-type text/plain string up
CFG
haproxy -db -f "$stand_in/haproxy.cfg" >"$stand_in/arrivals.log" 2>"$out/monitoring-stand-in.log" &
stand_in_pid=$!
pids+=("$stand_in_pid")
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$stand_in_port/ready" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$stand_in_port/ready" || { cat "$out/monitoring-stand-in.log" >&2; exit 1; }

# --- The workers ---------------------------------------------------------------------------------
# The tenant's administrator: incidents are filed in someone's name (the burst's token is theirs).
printf '%s\n' "an outage pages once, not a thousand times" | DATABASE_URL=$db_url "$purser" admin create-user --tenant watch \
  --email oncall-lead@watch.test --name "On-call lead" --role tenant_admin --password-stdin >/dev/null
workers=()
for n in $(seq 1 "$worker_count"); do
  DATABASE_URL=$db_url PURSER_ROOT=$root PURSER_METRICS_LISTEN=off PURSER_LOG_LEVEL=warning PURSER_ALLOW_HTTP_DESTINATIONS=1 \
    PURSER_DESTINATION_ALLOW=127.0.0.1/32 "$purser" work >"$out/monitoring-worker-$n.log" 2>&1 &
  workers+=($!)
  pids+=($!)
done

# CPU ticks (user + system) of processes; PostgreSQL's: the postmaster with its ended children's
# time, and every live backend (a backend that ends in between moves its time into the former).
ticks() { local sum=0 pid; for pid in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$sum"; }
postgres_ticks() {
  local postmaster sum
  postmaster=$(head -n 1 "$cluster/data/postmaster.pid")
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
  for pid in $(ps -o pid= --ppid "$postmaster"); do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$sum"
}
sleep_until() { local wait; wait=$(($1 - $(date +%s))); [ "$wait" -gt 0 ] && sleep "$wait"; return 0; }

echo "probing $targets targets every $interval s for $rounds rounds from $(date -u -d "@$first_due" +%H:%M:%S)…"
sleep_until "$first_due"
cpu_start=$(date +%s.%N)
read -r workers_before postgres_before stand_in_before <<<"$(ticks "${workers[@]}") $(postgres_ticks) $(ticks "$stand_in_pid")"
# The last round's probes, and what was claimed late, finish within a tick after the window.
sleep_until $((window_end + 15))
read -r workers_after postgres_after stand_in_after <<<"$(ticks "${workers[@]}") $(postgres_ticks) $(ticks "$stand_in_pid")"
cpu_end=$(date +%s.%N)
for pid in "${workers[@]}"; do kill -TERM "$pid"; done
for pid in "${workers[@]}"; do wait "$pid" || true; done
# Each tick's run, for reading beside the late probes ($out/monitoring-late.txt: target, claimed at,
# seconds late; times from the first due time).
sql "SELECT id, round(extract(epoch FROM started_at) - $first_due, 3), round(extract(epoch FROM finished_at) - $first_due, 3), state
     FROM jobs WHERE kind = 'monitoring.tick' ORDER BY started_at" >"$out/monitoring-ticks.txt"
probes_in_cpu_window=$(sql "SELECT count(*) FROM probe_results WHERE at >= to_timestamp($cpu_start) AND at < to_timestamp($cpu_end)")
outcomes=$(sql "SELECT string_agg(outcome || ' ' || n, ', ' ORDER BY outcome) FROM (SELECT outcome, count(*) n FROM probe_results GROUP BY 1) o")

# Lateness: each target's due times follow the claim's rule (a period on from the due time, or from
# the claim when periods were missed); each result's arrival at the stand-in is the first not yet
# matched at or after its claim.
sql "SELECT substr(t.name, 7), extract(epoch FROM r.at) FROM probe_results r JOIN probe_targets t ON t.tenant_id = r.tenant_id AND t.id = r.target_id
     ORDER BY 1, 2" >"$stand_in/claims.txt"
read -r claim_p50 claim_p99 claim_max start_p50 start_p99 start_max late_over_1s starts_matched per_round due_total made_total <<<"$(
  python3 - "$stand_in/claims.txt" "$stand_in/arrivals.log" "$first_due" "$interval" "$targets" "$rounds" "$out/monitoring-late.txt" <<'PY'
import sys, collections
claims_file, arrivals_file, first_due, interval, targets, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
end = first_due + rounds * interval
claims = collections.defaultdict(list)
for line in open(claims_file):
    n, at = line.split()
    claims[int(n)].append(float(at))
arrivals = collections.defaultdict(list)
for line in open(arrivals_file):
    parts = line.split()
    if len(parts) == 2 and parts[1].startswith("/p/"):
        arrivals[int(parts[1][3:])].append(int(parts[0]) / 1000)
claim_late, start_late, late_ones, made = [], [], [], [0] * rounds
for n in range(1, targets + 1):
    due = round(first_due + (n - 1) * interval / targets, 6)
    seen = sorted(arrivals.get(n, []))
    i = 0
    for at in sorted(claims.get(n, [])):
        if due < end:
            claim_late.append(at - due)
            if at - due > 1:
                late_ones.append((n, at, at - due))
            made[int((due - first_due) // interval)] += 1
        while i < len(seen) and seen[i] < at - 0.001:
            i += 1
        if i < len(seen):
            if due < end:
                start_late.append(max(0.0, seen[i] - due))
            i += 1
        due = due + interval if due + interval > at else at + interval
def pct(values, q):
    if not values: return "-"
    v = sorted(values)
    return "%.3f" % v[min(len(v) - 1, int(q * len(v)))]
with open(sys.argv[7], "w") as late:
    for n, at, seconds in sorted(late_ones, key=lambda entry: entry[1]):
        late.write("%d %.3f %.3f\n" % (n, at - first_due, seconds))
print(pct(claim_late, .5), pct(claim_late, .99), pct(claim_late, 1), pct(start_late, .5), pct(start_late, .99), pct(start_late, 1),
      sum(1 for s in start_late if s > 1), len(start_late), "/".join(str(m) for m in made), targets * rounds, sum(made))
PY
)"

hz=$(getconf CLK_TCK)
per_probe() { awk -v t="$1" -v hz="$hz" -v n="$probes_in_cpu_window" 'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }'; }
share() { awk -v t="$1" -v hz="$hz" -v s="$(awk -v a="$cpu_start" -v b="$cpu_end" 'BEGIN {print b - a}')" 'BEGIN { printf "%.1f", t / hz / s * 100 }'; }
workers_cpu=$((workers_after - workers_before)) postgres_cpu=$((postgres_after - postgres_before))
stand_in_cpu=$((stand_in_after - stand_in_before))

# --- The Alertmanager burst ----------------------------------------------------------------------
token=$(DATABASE_URL=$db_url "$purser" admin create-token --email oncall-lead@watch.test --tenant watch --scopes alerts:write --expires 1d)
sql "INSERT INTO notification_channels (id, tenant_id, kind, name, target, events, created_at)
     VALUES (gen_random_uuid(), '$tenant', 'email', 'On call', 'oncall@watch.test', ARRAY['incident.opened'], now())" >/dev/null
DATABASE_URL=$db_url PURSER_LISTEN=127.0.0.1:$serve_port PURSER_METRICS_LISTEN=off PURSER_LOG_LEVEL=warning \
  "$purser" serve >/dev/null 2>"$out/monitoring-serve.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$serve_port/readyz" 2>/dev/null && break; sleep 0.1; done
hook=http://127.0.0.1:$serve_port/api/v1/integrations/alertmanager
# alert SERVICE N: one firing alert of SERVICE, fingerprint N.
alert() {
  printf '{"status":"firing","labels":{"alertname":"HighErrorRate","service":"%s","severity":"critical","instance":"node-%s"},' "$1" "$2"
  printf '"annotations":{"summary":"5xx above 5%%"},"startsAt":"2026-11-28T01:00:00Z","fingerprint":"%s-%s"}' "$1" "$2"
}
delivery() { # SERVICE FIRST LAST
  printf '{"version":"4","status":"firing","receiver":"purser","groupKey":"{}:{service=\\"%s\\"}","alerts":[' "$1"
  for n in $(seq "$2" "$3"); do [ "$n" != "$2" ] && printf ','; alert "$1" "$n"; done
  printf ']}'
}
delivery checkout 1 "$alerts" >"$stand_in/burst.json"
started=$(date +%s.%N)
one_status=$(curl -sS -o "$stand_in/burst-answer.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @"$stand_in/burst.json" "$hook")
one_seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
for n in $(seq 1 "$alerts"); do delivery search "$n" "$n" >"$stand_in/one-$n.json"; done
started=$(date +%s.%N)
many_statuses=$(seq 1 "$alerts" | xargs -P 8 -I{} curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @"$stand_in/one-{}.json" "$hook" | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')
many_seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
burst_row() { # SERVICE
  sql "SELECT (SELECT count(*) FROM incidents WHERE tenant_id = '$tenant' AND service = '$1'),
              (SELECT count(*) FROM incident_alerts WHERE tenant_id = '$tenant' AND service = '$1'),
              (SELECT count(*) FROM notification_deliveries d WHERE d.event = 'incident.opened'
                 AND d.message->>'dedupKey' IN (SELECT id::text FROM incidents WHERE tenant_id = '$tenant' AND service = '$1')),
              (SELECT count(DISTINCT destination) FROM notification_deliveries d WHERE d.event = 'incident.opened'
                 AND d.message->>'dedupKey' IN (SELECT id::text FROM incidents WHERE tenant_id = '$tenant' AND service = '$1'))"
}
read -r one_incidents one_alerts one_messages one_destinations <<<"$(burst_row checkout)"
read -r many_incidents many_alerts many_messages many_destinations <<<"$(burst_row search)"

{
  echo
  echo "### Monitoring: $targets endpoints every $interval s, $worker_count workers ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(basename "$(dirname "$purser")") build)"
  echo
  echo "Stand-in: HAProxy \`http-request return status 200\` on $stand_in_ports loopback ports, arrivals logged to the millisecond. $rounds rounds."
  echo
  echo "| probes due | made | per round | start lateness p50 | p99 | max | started > 1 s late | claim lateness p50 | p99 | max |"
  echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| $due_total | $made_total | $per_round | ${start_p50} s | ${start_p99} s | ${start_max} s | $late_over_1s of $starts_matched | ${claim_p50} s | ${claim_p99} s | ${claim_max} s |"
  echo
  echo "CPU over $(awk -v a="$cpu_start" -v b="$cpu_end" 'BEGIN {printf "%.0f", b - a}') s and $probes_in_cpu_window probes ($outcomes in all):" \
    "workers $(per_probe $workers_cpu) ms a probe ($(share $workers_cpu) % of one core), PostgreSQL $(per_probe $postgres_cpu) ms a probe" \
    "($(share $postgres_cpu) %), stand-in $(per_probe $stand_in_cpu) ms a probe ($(share $stand_in_cpu) %)."
  echo
  echo "| Alertmanager burst | HTTP | time | incidents | alerts stored | incident.opened messages | destinations |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| $alerts alerts of one service in one delivery | $one_status | ${one_seconds} s | $one_incidents | $one_alerts | $one_messages | $one_destinations |"
  echo "| $alerts one-alert deliveries of one service, 8 at a time | $many_statuses | ${many_seconds} s | $many_incidents | $many_alerts | $many_messages | $many_destinations |"
} | tee -a "$results"
