#!/usr/bin/env bash
# The certificate signing benchmark: Purser's SSH CA, made on a throwaway cluster with `purser admin
# init-ssh-ca`, signs BENCH_CERTIFICATES user certificates (default 20,000) for keys made beforehand
# (`purser admin measure-ssh-signing`): certificates per second, one thread. Appends a table to
# bench/out/results.md. Tiny trial: BENCH_CERTIFICATES=500 PURSER=.build/debug/purser.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
purser=${PURSER:-$root/.build/release/purser}
certificates=${BENCH_CERTIFICATES:-20000}
out=${BENCH_OUT:-$root/bench/out}
results=${BENCH_RESULTS:-$out/results.md}
mkdir -p "$out"

source bench/worker-cluster.sh
bench_database sign /dev/null
DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" admin init-ssh-ca >/dev/null
line=$(DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" admin measure-ssh-signing --count "$certificates")
echo "$line"
rate=$(sed -E 's/.*: ([0-9]+) certificates\/s/\1/' <<<"$line")
build=$(basename "$(dirname "$purser")")

{
  echo
  echo "### SSH certificate signing ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $build build)"
  echo
  echo "| certificates | certificates/s (one thread) |"
  echo "| --- | --- |"
  echo "| $certificates | $rate |"
} | tee -a "$results"
