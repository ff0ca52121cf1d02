-- Why: Purser tells people things. A feature records "notify of this event" inside its own
-- transaction (an outbox row per destination plus a job); a worker delivers it. Tenants choose
-- their channels (email, Slack, Teams, PagerDuty, signed webhooks) and which events go where;
-- people choose which events they want by email. Every attempt is logged.

CREATE TABLE notification_channels (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    kind text NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'pagerduty', 'webhook')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- A URL, or for email a list of addresses separated by commas.
    target text NOT NULL CHECK (length(target) BETWEEN 1 AND 2000),
    -- Sealed under the master key: a webhook's signing secret, a PagerDuty routing key.
    secret text,
    -- Event names, or '*' for every event.
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_channels_tenant ON notification_channels (tenant_id);

CREATE TABLE notification_preferences (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id uuid NOT NULL REFERENCES users (id),
    events text[] NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- The outbox and its delivery log: one row per event and destination.
CREATE TABLE notification_deliveries (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    channel_id uuid REFERENCES notification_channels (id) ON DELETE SET NULL,
    kind text NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'pagerduty', 'webhook')),
    -- Where it goes, as shown in the log (never a secret).
    destination text NOT NULL,
    event text NOT NULL,
    subject text NOT NULL,
    message jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    last_status integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX notification_deliveries_tenant ON notification_deliveries (tenant_id, created_at DESC, id DESC);

CREATE TABLE notification_attempts (
    delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    attempt integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'refused', 'breaker_open')),
    status integer,
    error text,
    milliseconds integer,
    PRIMARY KEY (delivery_id, attempt)
);

-- One circuit breaker per channel: open after consecutive failures, one trial after a cool-down.
CREATE TABLE notification_breakers (
    channel_id uuid PRIMARY KEY REFERENCES notification_channels (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    state text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
    failures integer NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_channels, notification_preferences, notification_breakers TO purser_app;
GRANT SELECT, INSERT, UPDATE ON notification_deliveries, notification_attempts TO purser_app;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['notification_channels', 'notification_preferences', 'notification_deliveries',
                             'notification_attempts', 'notification_breakers'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_rows ON %I
            USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                   OR current_setting('purser.worker', true) = 'on' OR current_setting('purser.staff', true) = 'on')
            WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                   OR current_setting('purser.worker', true) = 'on' OR current_setting('purser.staff', true) = 'on')$p$, t);
    END LOOP;
END
$$;
