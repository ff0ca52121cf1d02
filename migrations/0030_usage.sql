-- Why: usage events (tokens per request, GPU-seconds per host) are what cost reports, budgets and
-- anomaly alerts are computed from, at tens of millions of rows. Raw events live in usage_events,
-- partitioned by month on occurred_at so that old months are cheap to scan past and to drop; reports
-- never read them, they read the rollups below, upserted in the ingest transaction.
--
-- PostgreSQL cannot enforce a unique key across partitions unless it holds the partition key, so
-- the caller's event_id is made unique per tenant by usage_event_ids, filled by the same set-based
-- insert (ON CONFLICT DO NOTHING RETURNING): a re-sent event is counted as a duplicate, never stored twice.
--
-- Partitions are made by usage_partitions_ensure, a SECURITY DEFINER function owned by the role
-- that runs migrations: purser_app owns no tables, so it could not create one itself. A scheduled job
-- makes the coming months ahead; ingest calls it for the months a batch touches (a backfill of an
-- older month), which costs one catalog lookup per month when the partition exists.
--
-- Row-level security on a partitioned table applies the parent's policies to queries through the
-- parent; a partition queried by name would apply its own. Each partition therefore gets the same
-- policies (enabled, forced, tenant and staff), and purser_app is granted only the parent.

CREATE TABLE usage_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    occurred_at timestamptz NOT NULL,
    event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 128),
    received_at timestamptz NOT NULL,
    kind text NOT NULL CHECK (kind IN ('tokens', 'gpu')),
    provider text NOT NULL DEFAULT '' CHECK (length(provider) <= 100),
    model text NOT NULL DEFAULT '' CHECK (length(model) <= 200),
    endpoint text NOT NULL DEFAULT '' CHECK (length(endpoint) <= 200),
    team text NOT NULL DEFAULT '' CHECK (length(team) <= 100),
    feature text NOT NULL DEFAULT '' CHECK (length(feature) <= 100),
    key_ref text NOT NULL DEFAULT '' CHECK (length(key_ref) <= 200),
    input_tokens bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cached_input_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0),
    requests integer NOT NULL DEFAULT 1 CHECK (requests >= 0),
    latency_ms integer CHECK (latency_ms >= 0),
    ttft_ms integer CHECK (ttft_ms >= 0),
    status text CHECK (length(status) <= 32),
    host text NOT NULL DEFAULT '' CHECK (length(host) <= 200),
    gpu_type text NOT NULL DEFAULT '' CHECK (length(gpu_type) <= 100),
    gpu_seconds numeric(18, 3) NOT NULL DEFAULT 0 CHECK (gpu_seconds >= 0),
    -- The rating: NULL cost is "unpriced" (no price in the tenant's currency in force at occurred_at).
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    cost_micros bigint,
    price_id uuid,
    negotiated boolean NOT NULL DEFAULT false,
    markup_bp integer,
    rated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, occurred_at, event_id)
) PARTITION BY RANGE (occurred_at);
-- Re-rating finds a model's events in a period.
CREATE INDEX usage_events_item ON usage_events (tenant_id, provider, model, occurred_at);

CREATE TABLE usage_event_ids (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    event_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
-- Retention removes ids with their events, oldest first.
CREATE INDEX usage_event_ids_occurred ON usage_event_ids (tenant_id, occurred_at);

-- The rollups: every measure exact (integers and numeric), every dimension '' when absent.
-- usage_daily is the cube of the low-cardinality dimensions and holds every event; the others are
-- slices of it by a dimension of higher cardinality. `day` is the local date in the tenant's time zone.
CREATE TABLE usage_daily (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day date NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    team text NOT NULL,
    feature text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, provider, model, team, feature)
);

CREATE TABLE usage_daily_keys (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day date NOT NULL,
    key_ref text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, key_ref)
);

CREATE TABLE usage_daily_endpoints (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day date NOT NULL,
    endpoint text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, endpoint)
);

CREATE TABLE usage_daily_gpu (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day date NOT NULL,
    provider text NOT NULL,
    gpu_type text NOT NULL,
    host text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, provider, gpu_type, host)
);

-- Anomalies compare an hour of spend with the same hour of the previous days, per model and per team.
CREATE TABLE usage_hourly (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    hour timestamptz NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    team text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, provider, model, team)
);

-- A tenant is billed in one currency; its raw events are kept retention_days (rollups are kept).
CREATE TABLE tenant_cost_settings (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    retention_days integer NOT NULL DEFAULT 400 CHECK (retention_days BETWEEN 30 AND 3660),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

GRANT SELECT, INSERT, DELETE ON usage_events, usage_event_ids TO purser_app;
GRANT UPDATE (cost_micros, price_id, negotiated, markup_bp, currency, rated_at) ON usage_events TO purser_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_daily, usage_daily_keys, usage_daily_endpoints, usage_daily_gpu, usage_hourly
    TO purser_app;
GRANT SELECT, INSERT, UPDATE ON tenant_cost_settings TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['usage_events', 'usage_event_ids', 'usage_daily', 'usage_daily_keys', 'usage_daily_endpoints',
                                   'usage_daily_gpu', 'usage_hourly', 'tenant_cost_settings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', secured);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', secured);
        EXECUTE format($policy$CREATE POLICY tenant_rows ON %I
            USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                   OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
            WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                        OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')$policy$,
            secured);
        EXECUTE format('CREATE POLICY staff_rows ON %I TO purser_staff USING (true) WITH CHECK (true)', secured);
    END LOOP;
END
$$;

-- Makes the monthly partitions covering [p_from, p_to] (at most 60 months a call) that do not exist
-- yet, each with the parent's row-level security. Runs as the migration owner; purser_app may call it.
CREATE FUNCTION usage_partitions_ensure(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET timezone = 'UTC' AS $$
DECLARE
    m_start timestamptz := date_trunc('month', p_from);
    m_last timestamptz := date_trunc('month', p_to);
    part_name text;
    made integer := 0;
BEGIN
    IF p_to < p_from OR m_last > m_start + interval '60 months' THEN
        RAISE EXCEPTION 'usage partitions: % to % is not a range of at most 60 months', p_from, p_to USING ERRCODE = '22023';
    END IF;
    WHILE m_start <= m_last LOOP
        part_name := 'usage_events_' || to_char(m_start, 'YYYYMM');
        IF to_regclass(part_name) IS NULL THEN
            -- Two callers making the same month wait for each other; the second then finds it made.
            PERFORM pg_advisory_xact_lock(hashtext('usage_partitions_ensure'));
            IF to_regclass(part_name) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)',
                               part_name, m_start, m_start + interval '1 month');
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part_name);
                EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part_name);
                EXECUTE format($policy$CREATE POLICY tenant_rows ON %I
                    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
                    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')$policy$,
                    part_name);
                EXECUTE format('CREATE POLICY staff_rows ON %I TO purser_staff USING (true) WITH CHECK (true)', part_name);
                made := made + 1;
            END IF;
        END IF;
        m_start := m_start + interval '1 month';
    END LOOP;
    RETURN made;
END
$$;
REVOKE ALL ON FUNCTION usage_partitions_ensure(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_partitions_ensure(timestamptz, timestamptz) TO purser_app;
