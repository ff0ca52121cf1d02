#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` prints the libpq URL of its
# `postgres` database; `stop DIR` stops it and removes DIR. Runs the server as the `postgres`
# account when we are root, since PostgreSQL refuses root. Reached only through a Unix socket.
set -euo pipefail
command=$1
dir=$2
bin=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bin/initdb" ] || bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_server=()
[ "$(id -u)" -eq 0 ] && as_server=(runuser -u postgres --)
port=55432

case "$command" in
  start)
    mkdir -p "$dir/run"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
    "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U purser --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Durability is not what tests measure: fsync off makes CREATE DATABASE … TEMPLATE fast.
    # PURSER_CLUSTER_SETTINGS adds server options (`-c name=value …`): the benchmarks size memory
    # and WAL as a production server would; the tests leave it unset and run on the defaults.
    "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t 60 \
      -o "-k $dir/run -c listen_addresses='' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 ${PURSER_CLUSTER_SETTINGS:-}" \
      start >/dev/null </dev/null || { cat "$dir/postgresql.log" >&2; exit 1; }
    echo "postgresql:///postgres?host=$dir/run&port=$port&user=purser"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 </dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
