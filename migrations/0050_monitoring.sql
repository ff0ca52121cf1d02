-- Monitoring: what is probed (probe_targets: every live deployment endpoint, and URLs staff add),
-- what the probes found (probe_results, raw, kept for a retention window; probe_hourly, hourly
-- rollups kept after), planned maintenance (maintenance_windows, excluded from uptime), and each
-- tenant's public status page token (status_pages). Every table is tenant-owned: keys lead with
-- tenant_id, row-level security enabled and forced with the tenant and staff policies.

CREATE TABLE probe_targets (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    -- Set for a deployment endpoint's target (made and kept in step by the monitoring tick).
    endpoint_id uuid,
    source text NOT NULL CHECK (source IN ('endpoint', 'manual')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- http: a GET and its status; openai_chat: a streaming chat completion (time to first token);
    -- sagemaker: behind a provider API (not probed yet: shown as such).
    kind text NOT NULL CHECK (kind IN ('http', 'openai_chat', 'sagemaker')),
    model text NOT NULL DEFAULT '' CHECK (length(model) <= 200),
    -- A bearer token or API key for the probe, sealed (SealedColumn.probeCredentials, row = id).
    sealed_credentials text,
    credentials_hint text CHECK (length(credentials_hint) <= 40),
    interval_seconds integer NOT NULL DEFAULT 60 CHECK (interval_seconds BETWEEN 15 AND 3600),
    timeout_ms integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 500 AND 20000),
    -- Objectives of this endpoint; NULL: the SLA policy's (tenant → plan → Purser).
    availability_objective numeric(6, 3) CHECK (availability_objective > 0 AND availability_objective < 100),
    latency_objective_ms integer CHECK (latency_objective_ms > 0),
    ttft_objective_ms integer CHECK (ttft_objective_ms > 0),
    enabled boolean NOT NULL DEFAULT true,
    next_due_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
    state_since timestamptz,
    last_probe_at timestamptz,
    last_error text CHECK (length(last_error) <= 500),
    -- When each burn-rate alert last went out (one per alert window, not one per tick).
    fast_burn_at timestamptz,
    slow_burn_at timestamptz,
    -- The incident a confirmed failure opened, until the endpoint is up again.
    incident_id uuid,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES endpoints (tenant_id, id) ON DELETE CASCADE
);
-- The tick claims due targets of every tenant (as the worker) by due time.
CREATE INDEX probe_targets_due ON probe_targets (next_due_at) WHERE enabled;

CREATE TABLE probe_results (
    tenant_id uuid NOT NULL,
    target_id uuid NOT NULL,
    at timestamptz NOT NULL,
    -- up / down count toward uptime; purser_error (Purser could not probe) and maintenance do not.
    outcome text NOT NULL CHECK (outcome IN ('up', 'down', 'purser_error', 'maintenance')),
    status smallint,
    latency_ms integer,
    ttft_ms integer,
    tokens integer,
    -- The first try failed and a retry was made: down = confirmed by it, up = not confirmed.
    retried boolean NOT NULL DEFAULT false,
    error text CHECK (length(error) <= 500),
    PRIMARY KEY (tenant_id, target_id, at),
    FOREIGN KEY (tenant_id, target_id) REFERENCES probe_targets (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE probe_hourly (
    tenant_id uuid NOT NULL,
    target_id uuid NOT NULL,
    hour timestamptz NOT NULL,
    probes integer NOT NULL,
    up integer NOT NULL,
    down integer NOT NULL,
    purser_errors integer NOT NULL,
    maintenance integer NOT NULL,
    latency_p95_ms integer,
    ttft_p95_ms integer,
    PRIMARY KEY (tenant_id, target_id, hour),
    FOREIGN KEY (tenant_id, target_id) REFERENCES probe_targets (tenant_id, id) ON DELETE CASCADE
);

-- The rollup job starts from the last hour it rolled up.
CREATE INDEX probe_hourly_hour ON probe_hourly (hour);

CREATE TABLE maintenance_windows (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    -- NULL: every endpoint of the tenant.
    target_id uuid,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at > starts_at),
    FOREIGN KEY (tenant_id, target_id) REFERENCES probe_targets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX maintenance_windows_time ON maintenance_windows (tenant_id, ends_at);

-- The public status page's token, stored as its SHA-256 (shown once when made or rotated).
CREATE TABLE status_pages (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);
-- /status/{token} is found by its hash before the tenant is known (read as staff).
CREATE INDEX status_pages_token ON status_pages (token_hash);

GRANT SELECT, INSERT, UPDATE, DELETE ON probe_targets, probe_results, probe_hourly, maintenance_windows, status_pages
    TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['probe_targets', 'probe_results', 'probe_hourly', 'maintenance_windows', 'status_pages']
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
