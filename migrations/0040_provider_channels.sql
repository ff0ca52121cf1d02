-- Why: some of what Purser tells belongs to no tenant. A GPU host of the provider's shared pool has
-- no tenant, so when it goes down with no grant naming it, no tenant's channels hear, and staff
-- were told only by way of a tenant. Provider channels are the staff's own destinations for such
-- events (a NOC mailbox, an on-call webhook), with a delivery log of their own apart from every
-- tenant's. Both are the provider's rows, not a tenant's: no tenant_id; row-level security lets
-- only staff transactions and workers (purser.staff / purser.worker) see them.
CREATE TABLE provider_channels (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('email', 'webhook')),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    -- Email: addresses separated by commas. Webhook: the https URL (staff-only; what signs is the secret).
    target text NOT NULL CHECK (length(target) BETWEEN 1 AND 2000),
    -- A webhook's signing secret, sealed under the master key (SealedColumn.providerChannelSecret).
    secret text,
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    CHECK ((kind = 'webhook') = (secret IS NOT NULL))
);

CREATE TABLE provider_deliveries (
    id uuid PRIMARY KEY,
    channel_id uuid REFERENCES provider_channels (id) ON DELETE SET NULL,
    -- A staff member the mail is for (checked again when it is sent), or NULL for a channel.
    recipient_id uuid REFERENCES users (id),
    kind text NOT NULL CHECK (kind IN ('email', 'webhook')),
    -- As shown in the log: an address, or a URL's scheme and host.
    destination text NOT NULL,
    event text NOT NULL,
    subject text NOT NULL,
    message jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    last_status integer,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz
);
CREATE INDEX provider_deliveries_created ON provider_deliveries (created_at DESC, id DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON provider_channels TO purser_app;
GRANT SELECT, INSERT, UPDATE ON provider_deliveries TO purser_app;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['provider_channels', 'provider_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY provider_rows ON %I
            USING (current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
            WITH CHECK (current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')$p$, t);
        EXECUTE format('CREATE POLICY staff_rows ON %I TO purser_staff USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
