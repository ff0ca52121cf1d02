-- The rollout benchmark's data, for bench/deployments-rollouts.sh: :tenants tenants (dp01…) with a
-- requester, a sandbox target (operations of 1 s, 60,000 requests a minute, so every gate window
-- holds enough requests), :rollouts endpoints spread over them, each with version 1.0.0 live and an
-- approved canary (10 → 50 → 100 %, :bake seconds per step, an error-rate gate) of 1.1.0 whose
-- reconcile job is due now. Run as the cluster's superuser (row-level security does not apply).
--   psql -v ON_ERROR_STOP=1 -v tenants=50 -v rollouts=1000 -v bake=30 -d "$db_url" -f bench/deployments-seed.sql
\set ON_ERROR_STOP on
BEGIN;

CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)
            || substr(md5(random()::text), 1, 15))::uuid
$$;

INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
SELECT pg_temp.uuid7(now()), 'dp' || lpad(n::text, 2, '0'), 'DP' || lpad(n::text, 2, '0'), 'Deployer ' || lpad(n::text, 2, '0'), 'enterprise', now()
FROM generate_series(1, :tenants) n;

CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY t.slug) - 1)::int AS idx, t.id AS tenant_id, t.slug, pg_temp.uuid7(now()) AS user_id,
       pg_temp.uuid7(now()) AS environment_id, pg_temp.uuid7(now()) AS target_id, pg_temp.uuid7(now()) AS model_id,
       pg_temp.uuid7(now()) AS old_version, pg_temp.uuid7(now()) AS new_version
FROM tenants t WHERE t.slug ~ '^dp[0-9]{2}$';

INSERT INTO users (id, email, name, created_at) SELECT user_id, 'requester@' || slug || '.test', 'Requester of ' || slug, now() FROM seed;
INSERT INTO memberships (tenant_id, user_id, role) SELECT tenant_id, user_id, 'requester' FROM seed;
INSERT INTO environments (tenant_id, id, name, position, created_at) SELECT tenant_id, environment_id, 'production', 1, now() FROM seed;
INSERT INTO deployment_targets (tenant_id, id, name, kind, settings, created_at)
SELECT tenant_id, target_id, 'sandbox', 'sandbox', '{"operation_seconds": 1, "requests_per_minute": 60000}', now() FROM seed;
INSERT INTO models (tenant_id, id, name, family, source, licence, created_at)
SELECT tenant_id, model_id, 'llama-3.1-8b-instruct', 'llama', 'open_weights', 'Llama 3.1 Community', now() FROM seed;
INSERT INTO model_versions (tenant_id, id, model_id, version, artifact_uri, digest, format, parameter_count, context_length, created_at)
SELECT tenant_id, v.id, model_id, v.version, 's3://bench/llama/' || v.version, 'sha256:' || repeat('ab', 32), 'safetensors', 8030261248, 131072, now()
FROM seed CROSS JOIN LATERAL (VALUES (old_version, '1.0.0'), (new_version, '1.1.0')) v (id, version);

CREATE TEMP TABLE seed_rollouts ON COMMIT DROP AS
SELECT n, s.*, pg_temp.uuid7(now()) AS endpoint_id, pg_temp.uuid7(now()) AS request_id, pg_temp.uuid7(now()) AS deployment_id
FROM generate_series(0, :rollouts - 1) n JOIN seed s ON s.idx = n % :tenants;

INSERT INTO endpoints (tenant_id, id, target_id, environment_id, name, live_version_id, created_at, updated_at)
SELECT tenant_id, endpoint_id, target_id, environment_id, 'chat-' || n, old_version, now(), now() FROM seed_rollouts;
INSERT INTO request_counters (tenant_id, last_number)
SELECT tenant_id, count(*) FROM seed_rollouts GROUP BY tenant_id
ON CONFLICT (tenant_id) DO UPDATE SET last_number = request_counters.last_number + EXCLUDED.last_number;
INSERT INTO requests (tenant_id, id, number, subject, type, priority, state, requester_id, created_at, updated_at, version, sla)
SELECT tenant_id, request_id, row_number() OVER (PARTITION BY tenant_id ORDER BY n), 'Deploy llama 1.1.0 to chat-' || n,
       'deployment', 'P3', 'open', user_id, now(), now(), 1, '{}'
FROM seed_rollouts;
INSERT INTO deployments (tenant_id, id, model_version_id, environment_id, target_id, endpoint_id, instance_type, instance_count,
    strategy, steps, bake_seconds, progress_deadline_seconds, gates, rollback_policy, state, request_id, requested_by,
    created_at, updated_at, approved_at, state_changed_at)
SELECT tenant_id, deployment_id, new_version, environment_id, target_id, endpoint_id, 'ml.g4dn.xlarge', 1, 'canary', '[10, 50, 100]',
       :bake, 3600, '[{"signal": "error_rate", "max": 0.02}]', 'automatic', 'approved', request_id, user_id, now(), now(), now(), now()
FROM seed_rollouts;
WITH made AS (
    INSERT INTO jobs (kind, payload, tenant_id, run_at, max_attempts, timeout_seconds)
    SELECT 'deployment.reconcile', jsonb_build_object('tenant', tenant_id, 'deployment', deployment_id), tenant_id, now(), 20, 120
    FROM seed_rollouts RETURNING id, payload
)
UPDATE deployments d SET reconcile_job_id = made.id FROM made WHERE d.id = (made.payload->>'deployment')::uuid;
COMMIT;
