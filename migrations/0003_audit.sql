-- Why: one append-only record of every change, sign-in, denial and decision. Each tenant's events
-- form a hash chain (each row hashes its content and the previous row's hash), so an edited,
-- removed or reordered row is detectable; checkpoints of each chain's head carry an HMAC under the
-- master key, so someone with database access alone cannot rewrite history and recompute hashes.
-- Events without a tenant (a staff sign-in, an unknown email) form the 'provider' chain.

-- The head of each chain: writers lock its row, which serialises them per chain.
CREATE TABLE audit_chains (
    chain text PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id),
    last_sequence bigint NOT NULL CHECK (last_sequence >= 0),
    last_hash bytea NOT NULL
);

CREATE TABLE audit_events (
    chain text NOT NULL,
    sequence bigint NOT NULL CHECK (sequence > 0),
    id uuid NOT NULL UNIQUE,
    tenant_id uuid REFERENCES tenants (id),
    occurred_at timestamptz NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'token', 'staff', 'system')),
    actor_id uuid,
    action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{1,99}$'),
    target_type text,
    target_id text,
    reason text,
    request_id text,
    address text,
    user_agent text,
    before jsonb,
    after jsonb,
    previous_hash bytea NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (chain, sequence)
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC);

CREATE TABLE audit_checkpoints (
    chain text NOT NULL,
    sequence bigint NOT NULL,
    hash bytea NOT NULL,
    key_id text NOT NULL,
    tag bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain, sequence)
);

-- Append-only for the application: no UPDATE or DELETE on events or checkpoints.
GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO purser_app;
GRANT SELECT, INSERT, UPDATE ON audit_chains TO purser_app;

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_chains ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chains FORCE ROW LEVEL SECURITY;
-- A tenant's transaction reads and writes its own chain; a transaction with no tenant writes the
-- provider chain; staff read every chain.
CREATE POLICY tenant_events ON audit_events
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on')
    WITH CHECK (tenant_id IS NOT DISTINCT FROM nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on');
CREATE POLICY tenant_chains ON audit_chains
    USING (tenant_id IS NOT DISTINCT FROM nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on')
    WITH CHECK (tenant_id IS NOT DISTINCT FROM nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on');
