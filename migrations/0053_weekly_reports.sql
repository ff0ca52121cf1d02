-- Why: the weekly report of each tenant (built at 09:00 local time on Monday by its per-tenant
-- schedule, for the Monday–Sunday before in the tenant's zone) is kept as an archive: one row per
-- tenant and week, the figures as the report was built (usage and spend beside the week before,
-- each endpoint's uptime, p95 latency, TTFT and error rate beside its objectives, the incidents and
-- their durations, the SLA met share), so a past week reads the same later. Its id names it in links.
CREATE TABLE weekly_reports (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    week_start date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    requests bigint NOT NULL,
    cost_micros bigint NOT NULL,
    previous_cost_micros bigint NOT NULL,
    incidents integer NOT NULL,
    figures jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    built_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, week_start)
);

GRANT SELECT, INSERT, UPDATE ON weekly_reports TO purser_app;

ALTER TABLE weekly_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE weekly_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON weekly_reports
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON weekly_reports TO purser_staff USING (true) WITH CHECK (true);
