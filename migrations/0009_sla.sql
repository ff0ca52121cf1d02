-- Why: the SLA engine and the rest of a request's life. Policies per tenant (falling back to the
-- plan's, then Purser's own); a request's clocks kept on its row as JSON (lists show them without a
-- join) with the earliest due time and a breached flag beside them for the queue's sorting and
-- filters; one pending job per request, at the next warning or due time (sla_job_id); warning
-- and breach events for reports; staff groups with a lead; watchers; attachments; saved views.

ALTER TABLE plans ADD COLUMN sla_policy jsonb;

CREATE TABLE sla_policies (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    policy jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Groups (queues) belong to the provider, not to a tenant.
CREATE TABLE request_groups (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    lead_id uuid REFERENCES users (id),
    -- New requests of these types go to this group.
    types text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE request_group_members (
    group_id uuid NOT NULL REFERENCES request_groups (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);

ALTER TABLE requests DROP COLUMN group_name;
ALTER TABLE requests
    ADD COLUMN group_id uuid REFERENCES request_groups (id),
    ADD COLUMN sla jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN sla_due_at timestamptz,
    ADD COLUMN sla_breached boolean NOT NULL DEFAULT false,
    ADD COLUMN escalated boolean NOT NULL DEFAULT false,
    ADD COLUMN sla_job_id bigint;
CREATE INDEX requests_recent ON requests (created_at DESC, id DESC);
CREATE INDEX requests_sla_due ON requests (sla_due_at, id) WHERE sla_due_at IS NOT NULL;
CREATE INDEX requests_breached ON requests (created_at DESC, id DESC) WHERE sla_breached;
CREATE INDEX requests_assignee ON requests (assignee_id, created_at DESC, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX requests_group ON requests (group_id, created_at DESC, id DESC) WHERE group_id IS NOT NULL;

CREATE TABLE sla_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES requests (id),
    clock text NOT NULL CHECK (clock IN ('first_response', 'resolution', 'deployment')),
    kind text NOT NULL CHECK (kind IN ('warning', 'breach')),
    due_at timestamptz NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id, clock, kind)
);
CREATE INDEX sla_events_tenant_time ON sla_events (tenant_id, occurred_at DESC);

CREATE TABLE request_watchers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    request_id uuid NOT NULL REFERENCES requests (id),
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (request_id, user_id)
);

CREATE TABLE request_attachments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES requests (id),
    filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    content_type text NOT NULL,
    size integer NOT NULL CHECK (size >= 0),
    sha256 text NOT NULL,
    content bytea NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_attachments_request ON request_attachments (request_id, created_at);

-- A staff member's named queue filters (the query string of /staff/requests).
CREATE TABLE saved_views (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    query text NOT NULL CHECK (length(query) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON sla_policies, request_groups, request_group_members, request_watchers, saved_views
    TO purser_app;
GRANT SELECT, INSERT ON sla_events, request_attachments TO purser_app;

ALTER TABLE sla_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE sla_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE sla_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE sla_events FORCE ROW LEVEL SECURITY;
ALTER TABLE request_watchers ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_watchers FORCE ROW LEVEL SECURITY;
ALTER TABLE request_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON sla_policies
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (current_setting('purser.staff', true) = 'on');
CREATE POLICY tenant_rows ON sla_events
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON request_watchers
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON request_attachments
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');

-- A request's activity (every field change, who, when) is read from the audit log by target.
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, occurred_at);
