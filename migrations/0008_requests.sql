-- Why: service requests, the daily work of customers and customer success engineers. Each has a
-- UUID and a short number people say out loud (ACME-42) from the tenant's key, allocated from a
-- per-tenant counter row in the creating transaction: the row lock serialises concurrent filings
-- and a rolled-back filing gives its number back, so numbers have neither gaps nor duplicates.

CREATE TABLE request_counters (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    last_number integer NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

CREATE TABLE requests (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    number integer NOT NULL CHECK (number > 0),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 50000),
    type text NOT NULL CHECK (type IN ('deployment', 'access', 'incident', 'change', 'question')),
    priority text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    state text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'open', 'pending_customer', 'resolved', 'closed')),
    requester_id uuid NOT NULL REFERENCES users (id),
    assignee_id uuid REFERENCES users (id),
    group_name text CHECK (length(group_name) BETWEEN 1 AND 100),
    tags text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, number)
);
CREATE INDEX requests_tenant_recent ON requests (tenant_id, created_at DESC, id DESC);
CREATE INDEX requests_queue ON requests (state, priority, created_at DESC) WHERE state IN ('new', 'open', 'pending_customer');

-- The conversation: public replies, and internal notes that customers never see (pages, API, email).
CREATE TABLE request_comments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES requests (id),
    author_id uuid NOT NULL REFERENCES users (id),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
    internal boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_comments_request ON request_comments (request_id, created_at);

GRANT SELECT, INSERT, UPDATE ON request_counters, requests TO purser_app;
GRANT SELECT, INSERT ON request_comments TO purser_app;

ALTER TABLE request_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_counters FORCE ROW LEVEL SECURITY;
ALTER TABLE requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON request_counters
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid OR current_setting('purser.staff', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid OR current_setting('purser.staff', true) = 'on');
ALTER TABLE request_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON request_comments
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON requests
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
