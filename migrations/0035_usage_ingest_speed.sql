-- Why: ingest spent much of its time checking, row by row, that each row it wrote names a tenant
-- that exists: the foreign keys from usage_events, usage_event_ids and the rollups to tenants
-- each fire a trigger per row, and a batch of 10,000 events writes some 30,000 to 50,000 rows. The
-- ingest transaction reads its tenant's row first (and refuses a tenant that does not exist), so
-- the check is made once per batch instead. Tenants are never deleted: purser_app holds no DELETE
-- on tenants and nothing in Purser deletes one (a tenant is suspended). Were a tenant ever removed by
-- hand, its usage rows would stay behind, invisible to every other tenant (row-level security keys
-- them on their own tenant_id), until removed with it. Other tables keep their keys.
--
-- And a rollup at the grain of the spend-by-model report: usage_daily (day × provider × model ×
-- team × feature) is nearly as fine as raw events at a few thousand events a tenant a day, so a
-- 30-day report by model read from it saved little over reading raw events. usage_daily_models
-- holds a few hundred rows a tenant a month; it is filled from usage_daily (which holds every event)
-- and from then on upserted with the others in the ingest transaction.
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_fkey;
ALTER TABLE usage_event_ids DROP CONSTRAINT usage_event_ids_tenant_id_fkey;
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_tenant_id_fkey;
ALTER TABLE usage_daily_keys DROP CONSTRAINT usage_daily_keys_tenant_id_fkey;
ALTER TABLE usage_daily_endpoints DROP CONSTRAINT usage_daily_endpoints_tenant_id_fkey;
ALTER TABLE usage_daily_gpu DROP CONSTRAINT usage_daily_gpu_tenant_id_fkey;
ALTER TABLE usage_hourly DROP CONSTRAINT usage_hourly_tenant_id_fkey;

CREATE TABLE usage_daily_models (
    tenant_id uuid NOT NULL,
    day date NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_input_tokens bigint NOT NULL DEFAULT 0,
    gpu_seconds numeric NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    gpu_cost_micros bigint NOT NULL DEFAULT 0,
    unpriced_events bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, provider, model)
);
INSERT INTO usage_daily_models
SELECT tenant_id, day, provider, model, sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
       sum(gpu_seconds), sum(cost_micros), sum(gpu_cost_micros), sum(unpriced_events)
FROM usage_daily GROUP BY tenant_id, day, provider, model;

GRANT SELECT, INSERT, UPDATE, DELETE ON usage_daily_models TO purser_app;
ALTER TABLE usage_daily_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_daily_models FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON usage_daily_models
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON usage_daily_models TO purser_staff USING (true) WITH CHECK (true);
