-- Why: the monthly cost review of each tenant (built at 00:05 local time on the 1st by its
-- per-tenant schedule, from the rollups) is kept as an archive: one row per tenant and month, the
-- figures as the review was built (spend by model, team and feature, the month-over-month change,
-- top movers and hints), so a review reads the same later even after re-rating.
CREATE TABLE cost_reviews (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_micros bigint NOT NULL,
    previous_micros bigint NOT NULL,
    figures jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    built_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, month)
);

GRANT SELECT, INSERT, UPDATE ON cost_reviews TO purser_app;

ALTER TABLE cost_reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE cost_reviews FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON cost_reviews
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON cost_reviews TO purser_staff USING (true) WITH CHECK (true);
