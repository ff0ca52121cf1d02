-- Why: every usage event is rated at ingest with the price in force at its occurred_at. The price
-- catalogue is the provider's list (a reference table, shared by every tenant): per provider and
-- model, integer micro-units of a currency per million input, output and cached-input tokens; per
-- provider and GPU type, micro-units per GPU-hour; each with the source it was read from and when.
-- A tenant may have a markup or discount in basis points and negotiated prices that replace the
-- list. Effective periods of one item never overlap (exclusion constraints), so an event matches at
-- most one price and at most one markup; a change that reaches back re-rates the period in a job
-- (usage_reratings records each).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE prices (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('tokens', 'gpu')),
    provider text NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_.-]{0,49}$'),
    -- The model (tokens) or the GPU type (gpu), as events name it.
    item text NOT NULL CHECK (length(item) BETWEEN 1 AND 200),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from timestamptz NOT NULL,
    effective_to timestamptz CHECK (effective_to > effective_from),
    input_per_million bigint CHECK (input_per_million >= 0),
    output_per_million bigint CHECK (output_per_million >= 0),
    cached_input_per_million bigint CHECK (cached_input_per_million >= 0),
    per_gpu_hour bigint CHECK (per_gpu_hour >= 0),
    source text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
    source_read_on date NOT NULL,
    created_at timestamptz NOT NULL,
    created_by uuid REFERENCES users (id),
    CHECK (CASE kind WHEN 'tokens' THEN input_per_million IS NOT NULL AND output_per_million IS NOT NULL AND per_gpu_hour IS NULL
                     ELSE per_gpu_hour IS NOT NULL AND input_per_million IS NULL AND output_per_million IS NULL
                          AND cached_input_per_million IS NULL END),
    CONSTRAINT prices_no_overlap EXCLUDE USING gist (
        kind WITH =, provider WITH =, item WITH =, currency WITH =, tstzrange(effective_from, effective_to) WITH &&)
);

CREATE TABLE tenant_prices (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('tokens', 'gpu')),
    provider text NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_.-]{0,49}$'),
    item text NOT NULL CHECK (length(item) BETWEEN 1 AND 200),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from timestamptz NOT NULL,
    effective_to timestamptz CHECK (effective_to > effective_from),
    input_per_million bigint CHECK (input_per_million >= 0),
    output_per_million bigint CHECK (output_per_million >= 0),
    cached_input_per_million bigint CHECK (cached_input_per_million >= 0),
    per_gpu_hour bigint CHECK (per_gpu_hour >= 0),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at timestamptz NOT NULL,
    created_by uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id),
    CHECK (CASE kind WHEN 'tokens' THEN input_per_million IS NOT NULL AND output_per_million IS NOT NULL AND per_gpu_hour IS NULL
                     ELSE per_gpu_hour IS NOT NULL AND input_per_million IS NULL AND output_per_million IS NULL
                          AND cached_input_per_million IS NULL END),
    CONSTRAINT tenant_prices_no_overlap EXCLUDE USING gist (
        tenant_id WITH =, kind WITH =, provider WITH =, item WITH =, currency WITH =,
        tstzrange(effective_from, effective_to) WITH &&)
);

-- Basis points on the list price: 1500 is +15 %, -1000 a 10 % discount.
CREATE TABLE tenant_markups (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    effective_from timestamptz NOT NULL,
    effective_to timestamptz CHECK (effective_to > effective_from),
    markup_bp integer NOT NULL CHECK (markup_bp BETWEEN -10000 AND 100000),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at timestamptz NOT NULL,
    created_by uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tenant_markups_no_overlap EXCLUDE USING gist (tenant_id WITH =, tstzrange(effective_from, effective_to) WITH &&)
);

-- Each re-rating of a period: why, what it covered, what it changed.
CREATE TABLE usage_reratings (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    period_from timestamptz NOT NULL,
    period_to timestamptz,
    events_changed bigint NOT NULL,
    cost_delta_micros bigint NOT NULL,
    finished_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX usage_reratings_recent ON usage_reratings (tenant_id, finished_at DESC);

GRANT SELECT, INSERT, UPDATE ON prices TO purser_app;
GRANT SELECT, INSERT, UPDATE ON tenant_prices, tenant_markups TO purser_app;
GRANT SELECT, INSERT ON usage_reratings TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['tenant_prices', 'tenant_markups', 'usage_reratings']
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

-- Rounds an exact amount of micro-units to a whole one, half to even (banker's rounding): 1.5 → 2,
-- 2.5 → 2, -2.5 → -2. PostgreSQL's round(numeric) rounds half away from zero.
CREATE FUNCTION round_half_even(x numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (CASE WHEN x - floor(x) = 0.5 THEN floor(x) + (floor(x)::numeric % 2 <> 0)::int ELSE round(x) END)::bigint
$$;
GRANT EXECUTE ON FUNCTION round_half_even(numeric) TO purser_app;
