#!/usr/bin/env bash
# `make fuzz`: the schemathesis run of `make test` (OpenAPITests/theServerConformsToTheDocument:
# a live Purser on a throwaway PostgreSQL, checked against its own OpenAPI document), but from a
# fresh seed each time, with more cases per operation and a longer time budget. `make test` keeps
# its fixed seed, so it fails only on a change; this is where new cases are found.
#
# It prints the seed before and after the run; PURSER_SCHEMATHESIS_SEED=<seed> make fuzz replays
# it (with the same PURSER_SCHEMATHESIS_MAX_EXAMPLES and PURSER_SCHEMATHESIS_MAX_TIME).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# A fresh seed unless one is given to replay.
PURSER_SCHEMATHESIS_SEED=${PURSER_SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# Cases per operation (`make test`: 25), and the time budget in seconds (`make test` has none):
# schemathesis keeps drawing new cases until the budget is spent.
PURSER_SCHEMATHESIS_MAX_EXAMPLES=${PURSER_SCHEMATHESIS_MAX_EXAMPLES:-200}
PURSER_SCHEMATHESIS_MAX_TIME=${PURSER_SCHEMATHESIS_MAX_TIME:-600}
export PURSER_SCHEMATHESIS_SEED PURSER_SCHEMATHESIS_MAX_EXAMPLES PURSER_SCHEMATHESIS_MAX_TIME
# After the build, the whole run (cluster, server, schemathesis, shrinking a failure, cleanup) is
# stopped at the budget plus five minutes: 15 minutes by default.
limit=$((PURSER_SCHEMATHESIS_MAX_TIME + 300))

settings="seed $PURSER_SCHEMATHESIS_SEED, $PURSER_SCHEMATHESIS_MAX_EXAMPLES examples per operation, ${PURSER_SCHEMATHESIS_MAX_TIME}s"
echo "make fuzz: schemathesis $settings"
trap 'echo "make fuzz: schemathesis $settings; replay with PURSER_SCHEMATHESIS_SEED=$PURSER_SCHEMATHESIS_SEED make fuzz"' EXIT

# Built before the clock starts (scripts/test.sh's own build then finds nothing to do).
scripts/install-packages.sh $(cat scripts/packages-build.txt) $(cat scripts/packages-test.txt)
echo "Building…"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Wrapping|Planning)' || true
swift build --build-tests >/dev/null  # fail here, with the compiler's message, if the build failed

# timeout runs the tests in a process group of its own, out of the reach of Ctrl-C: pass it on,
# then wait for scripts/test.sh to stop its cluster.
timeout --kill-after=30 "$limit" scripts/test.sh --filter 'OpenAPITests/theServerConformsToTheDocument' &
runner=$!
trap 'kill -TERM -- "-$runner" 2>/dev/null || kill -TERM "$runner" 2>/dev/null || true' INT TERM
status=0
wait "$runner" || status=$?
while kill -0 "$runner" 2>/dev/null; do
  status=0
  wait "$runner" || status=$?
done
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "make fuzz: stopped after ${limit}s" >&2
fi
exit "$status"
