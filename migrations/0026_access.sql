-- Why: just-in-time access. Nobody holds standing access to a customer's GPU hosts or an elevated
-- portal role: a person asks (an access request) under one of the tenant's access policies, the
-- policy's approvers decide, and an approved request becomes a grant with a window that starts at
-- approval (or at the start the requester chose) and ends on the second. Enforcement reads the
-- window (certificates carry valid_before; `require` compares ends_at with the clock), so the
-- expiry job only records and tells. Denied, withdrawn, lapsed, expired and revoked rows stay:
-- the history is listed and searched with its audit trail.

-- Who may ask for what, for how long, with whose approval.
CREATE TABLE access_policies (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- ssh: a login on the hosts carrying host_label; role: a portal role in this tenant.
    kind text NOT NULL CHECK (kind IN ('ssh', 'role')),
    host_label text CHECK (length(host_label) BETWEEN 1 AND 100),
    ssh_login text CHECK (ssh_login ~ '^[a-z_][a-z0-9_-]{0,31}$'),
    role text CHECK (role IN ('tenant_admin', 'approver', 'requester', 'viewer', 'cse', 'platform_engineer', 'provider_admin')),
    -- Roles (customer or staff) whose holders may ask under this policy.
    requester_roles text[] NOT NULL,
    max_seconds integer NOT NULL CHECK (max_seconds BETWEEN 60 AND 31 * 86400),
    -- Approvals from the customer's side (people holding access.approve in the tenant, in approver_roles).
    customer_approvals integer NOT NULL DEFAULT 1 CHECK (customer_approvals BETWEEN 0 AND 5),
    approver_roles text[] NOT NULL DEFAULT '{approver,tenant_admin}',
    -- Approvals from the provider's side (access.approve_provider), counted apart.
    provider_approvals integer NOT NULL DEFAULT 0 CHECK (provider_approvals BETWEEN 0 AND 5),
    -- none, request (a linked service request of type access or incident), incident (an incident only).
    link_required text NOT NULL DEFAULT 'none' CHECK (link_required IN ('none', 'request', 'incident')),
    business_hours_only boolean NOT NULL DEFAULT false,
    break_glass_roles text[] NOT NULL DEFAULT '{}',
    break_glass_max_seconds integer NOT NULL DEFAULT 3600 CHECK (break_glass_max_seconds BETWEEN 60 AND 86400),
    -- How long an access request may wait for its approvals before it lapses.
    lapse_seconds integer NOT NULL DEFAULT 86400 CHECK (lapse_seconds BETWEEN 60 AND 30 * 86400),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'ssh' AND host_label IS NOT NULL AND ssh_login IS NOT NULL AND role IS NULL)
        OR (kind = 'role' AND role IS NOT NULL AND host_label IS NULL AND ssh_login IS NULL)),
    CHECK (customer_approvals + provider_approvals >= 1)
);
CREATE INDEX access_policies_id ON access_policies (id);

CREATE TABLE access_requests (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    policy_id uuid NOT NULL,
    requester_id uuid NOT NULL REFERENCES users (id),
    kind text NOT NULL CHECK (kind IN ('ssh', 'role')),
    role text,
    -- The host (gpu_hosts, owned by the hosts feature; a pool host has no tenant, so no key here).
    host_id uuid,
    host_name text,
    -- The certificate's principal: tenant- and host-specific (SSHPrincipal.forHost).
    principal text,
    public_key text CHECK (length(public_key) <= 16384),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    duration_seconds integer NOT NULL CHECK (duration_seconds BETWEEN 60 AND 31 * 86400),
    requested_start timestamptz,
    linked_request_id uuid,
    -- An extension asks again for the grant it extends.
    extends_grant_id uuid,
    break_glass boolean NOT NULL DEFAULT false,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied', 'withdrawn', 'lapsed')),
    lapse_at timestamptz NOT NULL,
    lapse_job_id bigint,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES access_policies (tenant_id, id),
    FOREIGN KEY (tenant_id, linked_request_id) REFERENCES requests (tenant_id, id)
);
CREATE INDEX access_requests_id ON access_requests (id);
CREATE INDEX access_requests_recent ON access_requests (tenant_id, created_at DESC, id DESC);
CREATE INDEX access_requests_pending ON access_requests (tenant_id, created_at) WHERE state = 'pending';

-- One decision per person per access request; the customer's and the provider's sides count apart.
CREATE TABLE access_approvals (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    request_id uuid NOT NULL,
    approver_id uuid NOT NULL REFERENCES users (id),
    side text NOT NULL CHECK (side IN ('customer', 'provider')),
    decision text NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_id, approver_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES access_requests (tenant_id, id)
);

CREATE TABLE access_grants (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    request_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    kind text NOT NULL CHECK (kind IN ('ssh', 'role')),
    role text,
    host_id uuid,
    host_name text,
    principal text,
    public_key text,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'expired', 'revoked')),
    expire_job_id bigint,
    revoked_at timestamptz,
    revoked_by uuid REFERENCES users (id),
    end_reason text CHECK (length(end_reason) <= 2000),
    linked_request_id uuid,
    break_glass boolean NOT NULL DEFAULT false,
    -- The service request filed as the break-glass review, and when someone else resolved it.
    review_request_id uuid,
    reviewed_at timestamptz,
    certificate_serials bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES access_requests (tenant_id, id),
    FOREIGN KEY (tenant_id, linked_request_id) REFERENCES requests (tenant_id, id),
    FOREIGN KEY (tenant_id, review_request_id) REFERENCES requests (tenant_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX access_grants_id ON access_grants (id);
-- A person's live grants, read for every visitor and token loaded (elevation).
CREATE INDEX access_grants_user ON access_grants (user_id, ends_at) WHERE state = 'active';
CREATE INDEX access_grants_active ON access_grants (tenant_id, ends_at) WHERE state = 'active';
CREATE INDEX access_grants_all_active ON access_grants (ends_at) WHERE state = 'active';
CREATE INDEX access_grants_linked ON access_grants (tenant_id, linked_request_id) WHERE linked_request_id IS NOT NULL;
CREATE INDEX access_grants_review ON access_grants (tenant_id, review_request_id) WHERE review_request_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON access_policies, access_requests, access_grants TO purser_app;
GRANT SELECT, INSERT ON access_approvals TO purser_app;

ALTER TABLE access_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE access_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE access_approvals ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_approvals FORCE ROW LEVEL SECURITY;
ALTER TABLE access_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON access_policies
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON access_requests
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON access_approvals
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON access_grants
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
-- A person's own grants in every tenant, read when their visitor or token is loaded (as memberships are).
CREATE POLICY own_grants ON access_grants FOR SELECT
    USING (user_id = nullif(current_setting('purser.user_id', true), '')::uuid);
CREATE POLICY staff_rows ON access_policies TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON access_requests TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON access_approvals TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON access_grants TO purser_staff USING (true) WITH CHECK (true);

-- A grant made, ended or moved changes what its person may do: every node forgets that person's
-- remembered visitor and tokens at commit (visitor_changed, migrations 0012 and 0017), so an
-- elevation shows at once and a revoked one is gone at once. Expiry needs no notice: `require`
-- compares the window with the clock.
CREATE TRIGGER visitor_changed AFTER INSERT OR UPDATE OR DELETE ON access_grants
    FOR EACH ROW EXECUTE FUNCTION visitor_changed();
