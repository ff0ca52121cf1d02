-- The access expiry benchmark's data, for bench/access-expiry.sh: :tenants tenants (ax01…) with a
-- requester and a role policy, and :grants approved grants spread over them whose ends all fall
-- within one minute, starting :lead seconds from now, each with its access.expire job due at its
-- end (as an approval writes them). Run as the cluster's superuser (row-level security does not apply).
--   psql -v ON_ERROR_STOP=1 -v tenants=20 -v grants=1000 -v lead=30 -d "$db_url" -f bench/access-seed.sql
\set ON_ERROR_STOP on
BEGIN;

CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)
            || substr(md5(random()::text), 1, 15))::uuid
$$;

INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
SELECT pg_temp.uuid7(now()), 'ax' || lpad(n::text, 2, '0'), 'AX' || lpad(n::text, 2, '0'), 'Access ' || lpad(n::text, 2, '0'), 'enterprise', now()
FROM generate_series(1, :tenants) n;

CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY t.slug) - 1)::int AS idx, t.id AS tenant_id, t.slug, pg_temp.uuid7(now()) AS user_id,
       pg_temp.uuid7(now()) AS policy_id
FROM tenants t WHERE t.slug ~ '^ax[0-9]{2}$';

INSERT INTO users (id, email, name, created_at) SELECT user_id, 'requester@' || slug || '.test', 'Requester of ' || slug, now() FROM seed;
INSERT INTO memberships (tenant_id, user_id, role) SELECT tenant_id, user_id, 'requester' FROM seed;
INSERT INTO access_policies (tenant_id, id, name, kind, role, requester_roles, max_seconds)
SELECT tenant_id, policy_id, 'Approver for a while', 'role', 'approver', '{requester}', 86400 FROM seed;

CREATE TEMP TABLE seed_grants ON COMMIT DROP AS
SELECT n, s.tenant_id, s.user_id, s.policy_id, pg_temp.uuid7(now()) AS request_id, pg_temp.uuid7(now()) AS grant_id,
       date_trunc('minute', now() + (:lead + 60) * interval '1 second') + (n % 60) * interval '1 second'
           + (n * 0.37 % 1) * interval '1 second' AS ends_at
FROM generate_series(0, :grants - 1) n JOIN seed s ON s.idx = n % :tenants;

INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, role, reason, duration_seconds, state, lapse_at, decided_at)
SELECT tenant_id, request_id, policy_id, user_id, 'role', 'approver', 'bench', 3600, 'approved', now() + interval '1 day', now()
FROM seed_grants;
INSERT INTO access_grants (tenant_id, id, request_id, user_id, kind, role, starts_at, ends_at)
SELECT tenant_id, grant_id, request_id, user_id, 'role', 'approver', now(), ends_at FROM seed_grants;
INSERT INTO jobs (kind, payload, tenant_id, run_at, priority, max_attempts, timeout_seconds)
SELECT 'access.expire', jsonb_build_object('grant', grant_id::text), tenant_id, ends_at, 10, 20, 30 FROM seed_grants;
UPDATE access_grants g SET expire_job_id = j.id FROM jobs j
WHERE j.kind = 'access.expire' AND j.payload ->> 'grant' = g.id::text;

COMMIT;
