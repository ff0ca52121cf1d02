#!/usr/bin/env bash
# `make test-scale`: Purser past one machine, on loopback. Each part starts its own peers on
# ephemeral ports (HAProxy, PgBouncer, a streaming replica, a pg_auto_failover group) and stops them.
# Suites named `…ScaleTests` run only here (TestEnvironment.scaleRun).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
started=$(date +%s)

PURSER_TEST_SCALE=1 scripts/test.sh --filter 'ScaleTests' "$@"

echo "make test-scale: $(( $(date +%s) - started )) s"
