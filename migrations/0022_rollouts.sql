-- Why: what the reconciler records as it drives a deployment (every transition with the figures
-- that decided it, for the timeline and the audit of automatic rollbacks), where a rollout stands
-- between job runs (rollout_progress), the breaker per deployment target (a provider outage pauses
-- rollouts instead of failing them), and the sandbox provider's simulated resources, kept here so
-- a worker killed mid-call resumes without duplicates and cleanup can be checked. All tenant-owned:
-- keys lead with tenant_id, row-level security enabled and forced, tenant policy and staff_rows.

-- One row per transition (seq counts from 1 per deployment). figures: {"candidate": reading,
-- "baseline": reading, "gates": [{"gate", "verdict", "value"}]}; window_* bound the readings.
CREATE TABLE rollout_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    deployment_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq > 0),
    at timestamptz NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    action text NOT NULL CHECK (action ~ '^[a-z_]{1,40}$'),
    step integer CHECK (step >= 0),
    weight integer CHECK (weight BETWEEN 0 AND 100),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    figures jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(figures) = 'object'),
    window_start timestamptz,
    window_end timestamptz,
    PRIMARY KEY (tenant_id, deployment_id, seq),
    FOREIGN KEY (tenant_id, deployment_id) REFERENCES deployments (tenant_id, id)
);

-- Where a rollout stands: the plan last applied (its revision names the provider configuration),
-- when the current stage's traffic was in service (bake and deadline count from it), the variant
-- that was live before (rollback returns to it), and whether the reconciler itself paused the
-- rollout for a provider outage (it then resumes it; a person's pause waits for a person).
CREATE TABLE rollout_progress (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    deployment_id uuid NOT NULL,
    provider_endpoint text NOT NULL,
    plan jsonb,
    baseline jsonb,
    stage_started_at timestamptz NOT NULL,
    in_service_at timestamptz,
    outage_paused boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, deployment_id),
    FOREIGN KEY (tenant_id, deployment_id) REFERENCES deployments (tenant_id, id)
);

-- The circuit breaker of a deployment target's provider (Breaker, as notification channels use it).
CREATE TABLE provider_breakers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    target_id uuid NOT NULL,
    state text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
    failures integer NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, target_id),
    FOREIGN KEY (tenant_id, target_id) REFERENCES deployment_targets (tenant_id, id)
);
CREATE INDEX provider_breakers_target ON provider_breakers (target_id);

-- The sandbox provider's endpoints: variants [{"name","weight","instances","version_id"}], the
-- configuration in force, an operation in progress until ready_at, and the count of weight
-- changes (step), which failure injection ("at step 2") reads.
CREATE TABLE sandbox_endpoints (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    target_id uuid NOT NULL,
    name text NOT NULL,
    phase text NOT NULL CHECK (phase IN ('creating', 'updating', 'in_service', 'failed')),
    configuration text NOT NULL,
    variants jsonb NOT NULL CHECK (jsonb_typeof(variants) = 'array'),
    step integer NOT NULL DEFAULT 1,
    weights_changed_at timestamptz NOT NULL,
    ready_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, target_id, name),
    FOREIGN KEY (tenant_id, target_id) REFERENCES deployment_targets (tenant_id, id)
);

-- The sandbox's models and endpoint configurations, by the deterministic names the drivers give.
CREATE TABLE sandbox_resources (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    target_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('model', 'configuration')),
    name text NOT NULL,
    endpoint text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, target_id, kind, name),
    FOREIGN KEY (tenant_id, target_id) REFERENCES deployment_targets (tenant_id, id)
);
CREATE INDEX sandbox_resources_endpoint ON sandbox_resources (tenant_id, target_id, endpoint);

GRANT SELECT, INSERT ON rollout_events TO purser_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON rollout_progress, provider_breakers, sandbox_endpoints, sandbox_resources TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['rollout_events', 'rollout_progress', 'provider_breakers', 'sandbox_endpoints',
                                   'sandbox_resources']
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
