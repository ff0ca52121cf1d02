#!/usr/bin/env bash
# `make test`: installs what the tests need, starts a throwaway PostgreSQL, migrates a template
# database, runs `swift test` against it, and stops the cluster whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-packages.sh $(cat scripts/packages-build.txt) $(cat scripts/packages-test.txt)
scripts/python-tools.sh

# PURSER_TEST_LINT=0 skips the format check while working on one feature; make test always checks.
if [ "${PURSER_TEST_LINT:-1}" != 0 ]; then
  echo "Checking the format (.swift-format)…"
  swift format lint --strict --recursive --parallel Sources Tests
fi

echo "Building…"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Wrapping|Planning)' || true
swift build --build-tests >/dev/null  # fail here, with the compiler's message, if the build failed

cluster=$(mktemp -d /tmp/purser-test-XXXXXX)
chmod 755 "$cluster"
trap 'scripts/scale/pgbouncer.sh stop "$cluster/pgbouncer"; scripts/test-cluster.sh stop "$cluster"' EXIT
admin_url=$(scripts/test-cluster.sh start "$cluster")
psql -q -d "$admin_url" -c "CREATE DATABASE purser_template"
template_url=${admin_url/\/postgres\?//purser_template?}
DATABASE_URL=$template_url PURSER_ROOT=$root .build/debug/purser migrate

export PURSER_TEST_DATABASE_URL=$admin_url
# The pooled run of make test-scale: Purser's pools reach the test databases through PgBouncer in
# transaction mode; creating databases and LISTEN stay direct (TestDatabase.pooledURL).
if [ "${PURSER_TEST_POOLER:-}" = pgbouncer ]; then
  PURSER_TEST_POOLER_URL=$(scripts/scale/pgbouncer.sh start "$cluster/pgbouncer" "$admin_url")
  export PURSER_TEST_POOLER_URL
fi
export PURSER_TEST_TEMPLATE=purser_template
export PURSER_TEST_ROOT=$root
export PURSER_TEST_VENV=$root/.venv
export PURSER_TEST_ARTIFACTS=$root/.build/test-artifacts
mkdir -p "$PURSER_TEST_ARTIFACTS"
if [ "${PURSER_TEST_DIRECT:-0}" = 1 ]; then
  # A focused run beside other work: `swift test` holds SwiftPM's build lock for as long as the tests
  # run, so this runs a copy of the test binary instead and leaves the lock (and the binary) free.
  args=()
  for arg in "$@"; do [ "$arg" = --skip-build ] || args+=("$arg"); done
  cp .build/debug/purserPackageTests.xctest "$cluster/tests.xctest"
  "$cluster/tests.xctest" --testing-library swift-testing "${args[@]}"
else
  swift test --skip-build "$@"
fi
