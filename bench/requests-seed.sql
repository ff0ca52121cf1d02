-- The service-request benchmark's data, for bench/requests.sh: tenants co01…coNN on the `bench`
-- plan with one requester each, five staff, two groups, :requests requests over the past 180 days
-- with about three comments each. Run as the cluster's superuser (row-level security does not
-- apply), after `purser admin` has made the accounts that sign in (co01's requester, one staff
-- member); it adds only what is missing, so those keep their passwords.
--   psql -v ON_ERROR_STOP=1 -v tenants=50 -v requests=100000 -d "$db_url" -f bench/requests-seed.sql
\set ON_ERROR_STOP on
BEGIN;

-- UUIDv7 as Purser makes them (48-bit milliseconds, version 7, variant 10), so ids sort by time.
CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)
            || substr(md5(random()::text), 1, 15))::uuid
$$;

INSERT INTO plans (id, name, api_requests_per_minute, tenant_requests_per_minute)
VALUES ('bench', 'Benchmark', 100000000, 400000000) ON CONFLICT (id) DO NOTHING;

INSERT INTO tenants (id, slug, key, name, plan_id, created_at)
SELECT pg_temp.uuid7(now() - interval '400 days'), 'co' || lpad(n::text, 2, '0'), 'CO' || lpad(n::text, 2, '0'),
       'Customer ' || lpad(n::text, 2, '0'), 'bench', now() - interval '400 days'
FROM generate_series(1, :tenants) n
ON CONFLICT DO NOTHING;

-- One requester per tenant that has no member yet.
CREATE TEMP TABLE seed_people ON COMMIT DROP AS
SELECT t.id AS tenant_id, pg_temp.uuid7(now() - interval '390 days') AS user_id, t.slug
FROM tenants t
WHERE t.slug ~ '^co[0-9]{2}$' AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = t.id);
INSERT INTO users (id, email, name, created_at)
SELECT user_id, 'requester@' || slug || '.test', 'Requester of ' || slug, now() - interval '390 days' FROM seed_people;
INSERT INTO memberships (tenant_id, user_id, role) SELECT tenant_id, user_id, 'requester' FROM seed_people;

-- Five staff in all (the one who signs in was made with `purser admin create-staff`).
INSERT INTO users (id, email, name, staff_role, created_at)
SELECT pg_temp.uuid7(now() - interval '390 days'), 'staff-' || n || '@purser.test', 'Staff ' || n,
       (ARRAY['cse', 'platform_engineer'])[1 + n % 2], now() - interval '390 days'
FROM generate_series(1, 5 - (SELECT count(*) FROM users WHERE staff_role IS NOT NULL)::int) n
ON CONFLICT DO NOTHING;

INSERT INTO request_groups (id, name, lead_id, types)
SELECT pg_temp.uuid7(now() - interval '380 days'), g.name,
       (SELECT id FROM users WHERE staff_role IS NOT NULL ORDER BY email LIMIT 1), g.types
FROM (VALUES ('Support', ARRAY['incident', 'question']), ('Platform', ARRAY['deployment', 'access', 'change'])) g (name, types)
ON CONFLICT (name) DO NOTHING;
INSERT INTO request_group_members (group_id, user_id)
SELECT g.id, s.id FROM request_groups g CROSS JOIN users s WHERE s.staff_role IS NOT NULL
ON CONFLICT DO NOTHING;

-- Lookup tables indexed from 0.
CREATE TEMP TABLE seed_tenants ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY t.slug) - 1)::int AS idx, t.id,
       (SELECT m.user_id FROM memberships m WHERE m.tenant_id = t.id AND m.status = 'active'
        ORDER BY m.created_at, m.user_id LIMIT 1) AS requester,
       coalesce((SELECT c.last_number FROM request_counters c WHERE c.tenant_id = t.id), 0) AS last_number
FROM tenants t WHERE t.slug ~ '^co[0-9]{2}$';
CREATE TEMP TABLE seed_staff ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id FROM users WHERE staff_role IS NOT NULL;

-- The requests: tenants skewed (co01 the largest, about 7 % of all), a third active
-- (new / open / pending_customer), about half assigned, half in the group for their type,
-- open ones with an SLA due time within three days either side of now, 5 % breached.
CREATE TEMP TABLE seed_requests ON COMMIT DROP AS
WITH drawn AS (
    SELECT g AS n,
           least((SELECT count(*) FROM seed_tenants) - 1, floor((SELECT count(*) FROM seed_tenants) * power(random(), 1.5)))::int AS tenant_idx,
           now() - random() * interval '180 days' AS created_at,
           random() AS r_state, random() AS r_type, random() AS r_priority, random() AS r_assignee,
           random() AS r_group, random() AS r_breached, random() AS r_due, random() AS r_done,
           floor(random() * 7)::int AS comments
    FROM generate_series(1, :requests) g
), shaped AS (
    SELECT d.*,
           CASE WHEN r_state < 0.08 THEN 'new' WHEN r_state < 0.26 THEN 'open' WHEN r_state < 0.33 THEN 'pending_customer'
                WHEN r_state < 0.60 THEN 'resolved' ELSE 'closed' END AS state,
           CASE WHEN r_type < 0.30 THEN 'incident' WHEN r_type < 0.55 THEN 'question' WHEN r_type < 0.75 THEN 'change'
                WHEN r_type < 0.90 THEN 'access' ELSE 'deployment' END AS type,
           CASE WHEN r_priority < 0.05 THEN 'P1' WHEN r_priority < 0.25 THEN 'P2' WHEN r_priority < 0.75 THEN 'P3'
                ELSE 'P4' END AS priority
    FROM drawn d
)
SELECT s.n, t.id AS tenant_id, pg_temp.uuid7(s.created_at) AS id,
       (t.last_number + row_number() OVER (PARTITION BY t.id ORDER BY s.created_at, s.n))::int AS number,
       s.state, s.type, s.priority, t.requester, s.created_at, s.comments,
       CASE WHEN s.r_assignee < 0.5 THEN (SELECT id FROM seed_staff WHERE idx = floor(s.r_assignee * 2 * (SELECT count(*) FROM seed_staff))::int) END AS assignee,
       CASE WHEN s.r_group < 0.5 THEN (SELECT g.id FROM request_groups g WHERE s.type = ANY (g.types) ORDER BY g.name LIMIT 1) END AS group_id,
       s.state IN ('new', 'open', 'pending_customer') AS active,
       s.r_breached < 0.05 AS breached,
       CASE WHEN s.state IN ('resolved', 'closed')
            THEN s.created_at + s.r_done * least(now() - s.created_at, interval '14 days') END AS resolved_at,
       s.r_due
FROM shaped s JOIN seed_tenants t ON t.idx = s.tenant_idx;

INSERT INTO requests (tenant_id, id, number, subject, description, type, priority, state, requester_id, assignee_id,
                      group_id, tags, created_at, updated_at, resolved_at, version, sla, sla_due_at, sla_breached)
SELECT tenant_id, id, number,
       initcap(type) || ': ' || (ARRAY['model endpoint answers slowly', 'new fine-tuned model to production',
           'read access to the evaluation bucket', 'raise the GPU quota', 'how are tokens counted on the invoice',
           'rotate the inference API key', 'batch job stuck in queued', 'embedding service returns 503'])[1 + n % 8]
           || ' (' || n || ')',
       'Seeded for the benchmark. Since this morning the ' || type || ' concerns our production workload; '
           || 'we have checked the dashboards and the status page, and the numbers below are what we see. '
           || 'Please tell us what you need from our side to move this forward.',
       type, priority, state, requester, assignee, group_id,
       CASE WHEN n % 10 = 0 THEN ARRAY['billing'] WHEN n % 10 = 1 THEN ARRAY['gpu', 'quota'] ELSE '{}' END,
       created_at,
       CASE WHEN active THEN created_at + random() * (now() - created_at) ELSE resolved_at END,
       resolved_at, 1 + n % 4,
       -- Clocks shaped as the engine stores them, so that lists decode what production lists decode.
       jsonb_build_object(
           'first_response', jsonb_build_object('target', 3600, 'used', 1200, 'state', 'stopped', 'business', false,
                                                'since', extract(epoch FROM created_at + interval '20 minutes')),
           'resolution', jsonb_build_object('target', 28800, 'used', CASE WHEN active THEN 3600 ELSE 20000 END,
                                            'state', CASE WHEN active THEN 'running' ELSE 'stopped' END, 'business', true,
                                            'since', extract(epoch FROM created_at))
               || CASE WHEN active THEN jsonb_build_object('due_at', extract(epoch FROM due), 'warning_at',
                                                            extract(epoch FROM due - interval '2 hours')) ELSE '{}' END
               || CASE WHEN breached THEN jsonb_build_object('breached_at', extract(epoch FROM due)) ELSE '{}' END),
       due, breached
FROM (SELECT *, CASE WHEN active AND breached THEN now() - r_due * interval '3 days'
                     WHEN active THEN now() + (r_due * 6 - 3) * interval '1 day' END AS due
      FROM seed_requests) s;

INSERT INTO request_counters (tenant_id, last_number)
SELECT tenant_id, max(number) FROM seed_requests GROUP BY tenant_id
ON CONFLICT (tenant_id) DO UPDATE SET last_number = greatest(request_counters.last_number, excluded.last_number);

-- 0–6 comments each (three on average), an hour or more apart; one in ten an internal note.
INSERT INTO request_comments (tenant_id, id, request_id, author_id, body, internal, created_at)
SELECT r.tenant_id, pg_temp.uuid7(c.at), r.id,
       CASE WHEN c.internal OR c.k % 2 = 0 THEN coalesce(r.assignee, (SELECT id FROM seed_staff WHERE idx = r.n % (SELECT count(*) FROM seed_staff))) ELSE r.requester END,
       CASE WHEN c.internal THEN 'Internal: checked the logs for ' || r.id || ', looks like the upstream provider.'
            ELSE 'Reply ' || c.k || ': thanks, we will look at this and come back to you within the hour.' END,
       c.internal, c.at
FROM seed_requests r
CROSS JOIN LATERAL (
    SELECT k, random() < 0.1 AS internal,
           least(now(), r.created_at + k * interval '1 hour' + random() * interval '50 minutes') AS at
    FROM generate_series(1, r.comments) k
) c;

COMMIT;

-- Statistics and the visibility map, so that neither the planner's first guesses nor autovacuum
-- waking up halfway through the measurements shape the figures.
VACUUM (ANALYZE) requests, request_comments, request_counters, tenants, users, memberships, request_groups,
    request_group_members;
