#!/usr/bin/env bash
# PgBouncer in transaction-pooling mode in front of a test cluster, on a Unix socket in DIR (never a
# system service). `start DIR URL` takes the libpq URL of the cluster's `postgres` database
# (postgresql:///postgres?host=SOCKETDIR&port=PORT&user=USER, as scripts/test-cluster.sh prints it)
# and prints the same URL through PgBouncer; every database passes through (`*`), so the tests'
# per-test databases do too. `stop DIR` stops it and removes DIR. Runs as the `postgres` account
# when we are root (PgBouncer refuses root). Authentication: trust, as the cluster's own.
set -euo pipefail
command=$1
dir=$2
as_server=()
[ "$(id -u)" -eq 0 ] && as_server=(runuser -u postgres --)
port=6432

case "$command" in
  start)
    url=$3
    host=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$url")
    server_port=$(sed -n 's/.*[?&]port=\([^&]*\).*/\1/p' <<<"$url")
    user=$(sed -n 's/.*[?&]user=\([^&]*\).*/\1/p' <<<"$url")
    [ -n "$host" ] && [ -n "$server_port" ] && [ -n "$user" ] || { echo "pgbouncer.sh: expected ?host=…&port=…&user=… in $url" >&2; exit 2; }
    mkdir -p "$dir"
    printf '"%s" ""\n' "$user" >"$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$server_port

[pgbouncer]
pool_mode = transaction
listen_addr =
listen_port = $port
unix_socket_dir = $dir
unix_socket_mode = 0777
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $user
max_client_conn = 1000
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_db_connections = 40
server_idle_timeout = 30
server_check_delay = 0
# Bounded waits: a client whose server is gone hears so within seconds, not PgBouncer's 120 s.
query_wait_timeout = 15
server_login_retry = 1
server_connect_timeout = 5
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
    "${as_server[@]}" pgbouncer -d "$dir/pgbouncer.ini" </dev/null >/dev/null 2>&1 || { cat "$dir/pgbouncer.log" >&2; exit 1; }
    # Bounded wait for the socket (PgBouncer forks into the background before it listens).
    for _ in $(seq 1 100); do
      [ -S "$dir/.s.PGSQL.$port" ] && break
      sleep 0.05
    done
    [ -S "$dir/.s.PGSQL.$port" ] || { echo "pgbouncer did not open its socket within 5 s" >&2; cat "$dir/pgbouncer.log" >&2; exit 1; }
    echo "postgresql:///postgres?host=$dir&port=$port&user=$user"
    ;;
  stop)
    if [ -f "$dir/pgbouncer.pid" ]; then
      pid=$(cat "$dir/pgbouncer.pid")
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR URL | stop DIR" >&2
    exit 2
    ;;
esac
