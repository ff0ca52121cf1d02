-- Why: schedules learn a monthly recurrence (a day of the month, at a local time in a time zone) so
-- that per-tenant schedules can fire in the tenant's own zone (the monthly cost review at 00:05 on
-- the 1st); and budgets: a spending limit per tenant, team or gateway key over the calendar month in
-- the tenant's zone or a custom period, with thresholds that each fire once per period.

ALTER TABLE job_schedules ADD COLUMN month_day smallint CHECK (month_day BETWEEN 1 AND 28);
ALTER TABLE job_schedules ADD CONSTRAINT job_schedules_monthly CHECK (month_day IS NULL OR (at_time IS NOT NULL AND weekday IS NULL));

-- scope 'tenant' has scope_value ''; 'team' names a team and 'key' a gateway key_ref, as usage
-- events carry them. A 'month' budget runs over each calendar month in the tenant's time zone; a
-- 'custom' one over [starts_on, ends_on) in local days. Thresholds are whole percentages.
CREATE TABLE budgets (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scope text NOT NULL CHECK (scope IN ('tenant', 'team', 'key')),
    scope_value text NOT NULL DEFAULT '' CHECK (length(scope_value) <= 200),
    amount_micros bigint NOT NULL CHECK (amount_micros > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period text NOT NULL CHECK (period IN ('month', 'custom')),
    starts_on date,
    ends_on date,
    thresholds smallint[] NOT NULL DEFAULT '{70,90,100}'
        CHECK (cardinality(thresholds) BETWEEN 1 AND 10 AND 1 <= ALL (thresholds) AND 1000 >= ALL (thresholds)),
    -- People told by e-mail (people: destinations) when a threshold fires.
    owners uuid[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CHECK ((scope = 'tenant') = (scope_value = '')),
    CHECK ((period = 'custom') = (starts_on IS NOT NULL AND ends_on IS NOT NULL)),
    CHECK (starts_on IS NULL OR ends_on > starts_on)
);
CREATE INDEX budgets_id ON budgets (id);

-- A threshold fired for a budget in one period (keyed by the period's first local day): the
-- primary key makes each fire once, however many workers evaluate at once.
CREATE TABLE budget_alerts (
    tenant_id uuid NOT NULL,
    budget_id uuid NOT NULL,
    period_start date NOT NULL,
    level smallint NOT NULL,
    spend_micros bigint NOT NULL,
    amount_micros bigint NOT NULL,
    fired_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, budget_id, period_start, level),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES budgets (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON budgets TO purser_app;
GRANT SELECT, INSERT ON budget_alerts TO purser_app;

DO $$
DECLARE
    secured text;
BEGIN
    FOREACH secured IN ARRAY ARRAY['budgets', 'budget_alerts']
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
