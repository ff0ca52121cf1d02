# Sourced by the worker benchmarks (access-expiry.sh, deployments-rollouts.sh): a throwaway
# PostgreSQL with one migrated database, one `purser work` on it, and a bounded wait for the work to
# end. Expects `root` and `purser` set; sets `cluster`, `db_url` and `worker_pid`, and stops both on exit.

# bench_database NAME SEED_FILE [psql -v assignments…]: starts the cluster, migrates NAME, seeds it.
bench_database() {
  local name=$1 seed=$2
  shift 2
  cluster=$(mktemp -d "/tmp/purser-bench-$name-XXXXXX")
  chmod 755 "$cluster"
  worker_pid=
  trap bench_cleanup EXIT
  local admin_url
  admin_url=$(scripts/test-cluster.sh start "$cluster")
  psql -q -d "$admin_url" -c "CREATE DATABASE bench_$name"
  db_url=${admin_url/\/postgres\?//bench_$name?}
  export PURSER_MASTER_KEY="k1:$(head -c 32 /dev/urandom | base64)"
  DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" migrate >/dev/null
  psql -q -v ON_ERROR_STOP=1 "$@" -d "$db_url" -f "$seed"
}

bench_cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null || true
  scripts/test-cluster.sh stop "$cluster"
}

# bench_worker LOG: one `purser work` on the database, its output in LOG.
bench_worker() {
  DATABASE_URL=$db_url PURSER_ROOT=$root PURSER_METRICS_LISTEN=off "$purser" work >"$1" 2>&1 &
  worker_pid=$!
}

# bench_wait_for_none SQL LIMIT_SECONDS WHAT: polls the count SQL every second until it is 0, or gives
# up after LIMIT_SECONDS saying how many WHAT were left.
bench_wait_for_none() {
  local sql=$1 limit=$2 what=$3 started open
  started=$(date +%s)
  while :; do
    open=$(psql -tA -d "$db_url" -c "$sql")
    [ "$open" = 0 ] && return 0
    if [ $(( $(date +%s) - started )) -gt "$limit" ]; then echo "still $open $what; giving up" >&2; return 0; fi
    sleep 1
  done
}

# bench_worker_stop: ends the worker (SIGTERM, so it finishes the job in hand).
bench_worker_stop() {
  kill -TERM "$worker_pid"
  wait "$worker_pid" || true
  worker_pid=
}
