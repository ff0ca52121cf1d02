-- The monitoring benchmark's data (bench/monitoring.sh): one tenant on a plan that does not throttle,
-- and :targets HTTP probe targets every :interval seconds at the loopback stand-in
-- (http://127.0.0.1:<:port + n mod :ports>/p/<n>: as many endpoints as ports), their first due times spread evenly over one period starting
-- :lead seconds after the seeding's whole second (kept in bench_first_due for the analysis). Seeded as
-- the superuser (row-level security does not apply).
INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
VALUES ('bench', 'Benchmark', 100000000, 400000000);

INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'watch', 'WATCH', 'Watched', 'bench', now());

CREATE TABLE bench_first_due AS SELECT floor(extract(epoch FROM now()))::bigint + :lead AS first_due;

INSERT INTO probe_targets (tenant_id, id, source, name, url, kind, interval_seconds, timeout_ms, next_due_at, created_at, updated_at)
SELECT '00000000-0000-4000-8000-000000000001', gen_random_uuid(), 'manual', 'probe-' || n,
       'http://127.0.0.1:' || (:port + n % :ports) || '/p/' || n, 'http', :interval, 2000,
       to_timestamp(f.first_due + (n - 1) * :interval::float8 / :targets), now(), now()
FROM generate_series(1, :targets) n, bench_first_due f;

ANALYZE probe_targets;
