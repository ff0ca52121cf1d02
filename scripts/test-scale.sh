#!/usr/bin/env bash
# `make test-scale`: Purser past one machine, on loopback. Each part starts its own peers on
# ephemeral ports (HAProxy, PgBouncer, a streaming replica, a pg_auto_failover group) and stops them.
# Suites named `…ScaleTests` run only here (TestEnvironment.scaleRun).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
started=$(date +%s)
# The format is make test's to check; here it would only repeat it twice.
export PURSER_TEST_LINT=${PURSER_TEST_LINT:-0}

PURSER_TEST_SCALE=1 scripts/test.sh --filter 'ScaleTests' "$@"

# The HTTP and job suites again on the same build, with every Purser pool going through PgBouncer in
# transaction mode (PURSER_POOL_MODE=transaction; scripts/scale/pgbouncer.sh, started and stopped by
# scripts/test.sh); creating the test databases and LISTEN go straight to PostgreSQL.
pooled_suites='RequestsAPITests|RequestPagesTests|RequestFilterTests|APIGateTests|IdempotencyScopeTests|CrossTenantRouteTests'
pooled_suites+='|SignInTests|AccountTests|ReauthenticationTests|ResetLinkTests|SecondFactorTests|TakeoverTests|VisitorMemoryTests'
pooled_suites+='|TokenTests|TokenScopeTests|TenantAndPersonStoreTests|JobQueueTests|JobPagesTests|WorkCommandTests'
PURSER_TEST_POOLER=pgbouncer scripts/test.sh --filter "$pooled_suites" "$@"

echo "make test-scale: $(( $(date +%s) - started )) s"
