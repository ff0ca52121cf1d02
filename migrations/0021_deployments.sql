-- Why: deployments of a model version to an environment on a target, the approvals they need and
-- the endpoints they change. Every table is tenant-owned (keyed (tenant_id, id), row-level
-- security enabled and forced, the tenant policy and staff_rows). A deployment files (or joins) a
-- service request of type deployment in the same transaction (request_id); its reconcile job's id
-- is kept on the row and moved like requests.sla_job_id.

-- Where versions go, in order (validation 1 → staging 2 → production 3): a promotion gate reads the
-- environment just before this one.
CREATE TABLE environments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
    position integer NOT NULL CHECK (position > 0),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, position)
);
CREATE INDEX environments_id ON environments (id);

-- A provider account (region, credentials sealed under the master key, bound to the target:
-- SealedColumn.deploymentTargetCredentials, re-sealed by key rotation), the simulated sandbox, or a
-- GPU host pool (refused at deployment until a host driver exists). endpoint_url overrides the
-- provider's API address (a moto server in tests); settings hold the sandbox's simulation.
CREATE TABLE deployment_targets (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('sandbox', 'sagemaker', 'host_pool')),
    region text CHECK (region ~ '^[a-z]{2}(-[a-z]+)+-[0-9]$'),
    endpoint_url text CHECK (endpoint_url ~ '^https?://[^[:space:]]+$'),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    sealed_credentials text,
    -- What may be shown of the credentials (an access key id's last four characters).
    credentials_hint text CHECK (length(credentials_hint) <= 40),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    CHECK (kind <> 'sagemaker' OR (region IS NOT NULL AND sealed_credentials IS NOT NULL))
);
CREATE INDEX deployment_targets_id ON deployment_targets (id);

-- What callers reach: the live version and its variants' weights ([{"version_id", "variant", "weight"}]).
CREATE TABLE endpoints (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    target_id uuid NOT NULL,
    environment_id uuid NOT NULL,
    name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    url text CHECK (length(url) <= 2000),
    live_version_id uuid,
    variant_weights jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(variant_weights) = 'array'),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, environment_id, target_id, name),
    FOREIGN KEY (tenant_id, target_id) REFERENCES deployment_targets (tenant_id, id),
    FOREIGN KEY (tenant_id, environment_id) REFERENCES environments (tenant_id, id),
    FOREIGN KEY (tenant_id, live_version_id) REFERENCES model_versions (tenant_id, id)
);
CREATE INDEX endpoints_id ON endpoints (id);

-- Per tenant and environment (no row: one customer approval by an approver, no sign-off).
-- approver_roles are exact role names; a role counts its seniors (tenant_admin counts as approver).
CREATE TABLE approval_policies (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    environment_id uuid NOT NULL,
    required_approvals integer NOT NULL CHECK (required_approvals BETWEEN 0 AND 10),
    approver_roles text[] NOT NULL CHECK (cardinality(approver_roles) >= 1),
    provider_signoff boolean NOT NULL,
    reset_on_change boolean NOT NULL,
    validity_seconds integer NOT NULL CHECK (validity_seconds > 0),
    -- How long the version must have been live in the previous environment before this one takes it.
    promotion_gate_seconds integer NOT NULL DEFAULT 0 CHECK (promotion_gate_seconds >= 0),
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, environment_id),
    FOREIGN KEY (tenant_id, environment_id) REFERENCES environments (tenant_id, id)
);

-- States and actions: Sources/Purser/Deployments/DeploymentState.swift. version counts changes
-- (If-Match; approvals record the version they approved). current_step indexes steps while
-- rolling_out; paused_from is the state resume returns to.
CREATE TABLE deployments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    model_version_id uuid NOT NULL,
    environment_id uuid NOT NULL,
    target_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    instance_type text CHECK (instance_type ~ '^[a-z0-9][a-z0-9.-]{0,62}$'),
    instance_count integer NOT NULL DEFAULT 1 CHECK (instance_count BETWEEN 1 AND 100),
    gpu_count integer CHECK (gpu_count BETWEEN 1 AND 64),
    strategy text NOT NULL CHECK (strategy IN ('direct', 'blue_green', 'canary')),
    steps jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
    bake_seconds integer NOT NULL CHECK (bake_seconds BETWEEN 0 AND 86400),
    progress_deadline_seconds integer NOT NULL CHECK (progress_deadline_seconds > 0),
    gates jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(gates) = 'array'),
    rollback_policy text NOT NULL CHECK (rollback_policy IN ('automatic', 'manual')),
    state text NOT NULL CHECK (state IN ('pending_approval', 'approved', 'provisioning', 'rolling_out', 'promoting',
        'live', 'paused', 'rolling_back', 'rolled_back', 'failed', 'aborted', 'rejected')),
    current_step integer NOT NULL DEFAULT 0 CHECK (current_step >= 0),
    paused_from text CHECK (paused_from IN ('provisioning', 'rolling_out', 'promoting')),
    state_reason text CHECK (length(state_reason) <= 2000),
    -- Set by the abort action: the rollback it starts ends in aborted rather than rolled_back.
    abort_requested boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    request_id uuid NOT NULL,
    requested_by uuid NOT NULL REFERENCES users (id),
    reconcile_job_id bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    approved_at timestamptz,
    state_changed_at timestamptz NOT NULL,
    live_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, model_version_id) REFERENCES model_versions (tenant_id, id),
    FOREIGN KEY (tenant_id, environment_id) REFERENCES environments (tenant_id, id),
    FOREIGN KEY (tenant_id, target_id) REFERENCES deployment_targets (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES endpoints (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id)
);
CREATE INDEX deployments_id ON deployments (id);
CREATE INDEX deployments_tenant_recent ON deployments (tenant_id, created_at DESC, id DESC);
CREATE INDEX deployments_recent ON deployments (created_at DESC, id DESC);
-- The promotion gate: when did this version go live in that environment.
CREATE INDEX deployments_version_live ON deployments (tenant_id, model_version_id, environment_id, live_at) WHERE live_at IS NOT NULL;
-- One active rollout per endpoint: a second approved deployment of the same endpoint is refused.
CREATE UNIQUE INDEX deployments_one_active_per_endpoint ON deployments (tenant_id, endpoint_id)
    WHERE state IN ('approved', 'provisioning', 'rolling_out', 'promoting', 'paused', 'rolling_back');

-- Every decision on a deployment: a customer's approval or rejection, or the provider's sign-off,
-- with the deployment version it was given for (a later change makes it stale when the policy resets).
CREATE TABLE deployment_approvals (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    deployment_id uuid NOT NULL,
    deployment_version integer NOT NULL CHECK (deployment_version > 0),
    approver_id uuid NOT NULL REFERENCES users (id),
    role text NOT NULL CHECK (length(role) BETWEEN 1 AND 40),
    kind text NOT NULL CHECK (kind IN ('customer', 'provider_signoff')),
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, deployment_id) REFERENCES deployments (tenant_id, id)
);
CREATE INDEX deployment_approvals_deployment ON deployment_approvals (tenant_id, deployment_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON environments, deployment_targets, endpoints, approval_policies TO purser_app;
GRANT SELECT, INSERT, UPDATE ON deployments TO purser_app;
GRANT SELECT, INSERT ON deployment_approvals TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['environments', 'deployment_targets', 'endpoints', 'approval_policies', 'deployments',
                                   'deployment_approvals']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', secured);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', secured);
        EXECUTE format($p$CREATE POLICY tenant_rows ON %I
            USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                   OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
            WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                        OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')$p$,
            secured);
        EXECUTE format('CREATE POLICY staff_rows ON %I TO purser_staff USING (true) WITH CHECK (true)', secured);
    END LOOP;
END
$$;
