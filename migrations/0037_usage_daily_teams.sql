-- Why: a team budget's status (what a gateway reads for a hard stop, under 5 ms) summed the cube
-- usage_daily filtered by team, and the cube holds day × provider × model × team × feature: some
-- 1,200 rows a tenant-day at the benchmark's cardinalities, 8–16 ms for a month. A rollup at
-- tenant × day × team holds a handful of rows a tenant-day. It carries the same measures as the
-- other daily rollups, is filled from usage_daily (which holds every event) and from then on is
-- upserted with the others wherever they are written (ingest, re-rating, the time-zone rebuild).
-- Like the rollups since migration 0035, it has no foreign key to tenants (ingest checks the
-- tenant once per batch; tenants are never deleted).
CREATE TABLE usage_daily_teams (
    tenant_id uuid NOT NULL,
    day date NOT NULL,
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
    PRIMARY KEY (tenant_id, day, team)
);
INSERT INTO usage_daily_teams
SELECT tenant_id, day, team, sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
       sum(gpu_seconds), sum(cost_micros), sum(gpu_cost_micros), sum(unpriced_events)
FROM usage_daily GROUP BY tenant_id, day, team;

GRANT SELECT, INSERT, UPDATE, DELETE ON usage_daily_teams TO purser_app;
ALTER TABLE usage_daily_teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_daily_teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON usage_daily_teams
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON usage_daily_teams TO purser_staff USING (true) WITH CHECK (true);
