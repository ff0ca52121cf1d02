-- Why: an hour of spend per tenant × model (and per team) well above its trailing baseline (the
-- same hour over the previous seven days: median and MAD) is an anomaly, recorded once per group
-- and hour with the figures it was judged on, listed on the costs page and notified (cost.anomaly).
CREATE TABLE cost_anomalies (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    dimension text NOT NULL CHECK (dimension IN ('model', 'team')),
    value text NOT NULL,
    -- The hour judged (UTC hour start) and its spend, against the median and MAD of the same hour before.
    hour timestamptz NOT NULL,
    spend_micros bigint NOT NULL,
    baseline_micros bigint NOT NULL,
    mad_micros bigint NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    detected_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, dimension, value, hour)
);
CREATE INDEX cost_anomalies_id ON cost_anomalies (id);
CREATE INDEX cost_anomalies_recent ON cost_anomalies (tenant_id, hour DESC);

GRANT SELECT, INSERT ON cost_anomalies TO purser_app;

ALTER TABLE cost_anomalies ENABLE ROW LEVEL SECURITY;
ALTER TABLE cost_anomalies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON cost_anomalies
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON cost_anomalies TO purser_staff USING (true) WITH CHECK (true);
