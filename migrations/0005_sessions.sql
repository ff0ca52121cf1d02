-- Why: people sign in from a browser. A session is a 256-bit random token in a cookie; only its
-- SHA-256 is stored, so a copy of this table signs nobody in. Sessions, throttles, one-time links
-- and recovery codes belong to a person, not a tenant, and are found by their hash before any
-- tenant is known, like api_tokens.

CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id),
    -- 'second_factor': the password was right, the TOTP code is still owed.
    stage text NOT NULL CHECK (stage IN ('second_factor', 'signed_in')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- The absolute end; the idle end is last_seen_at plus the idle timeout.
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    address text CHECK (length(address) <= 64),
    user_agent text CHECK (length(user_agent) <= 300)
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- Failed sign-ins per account and per address; shared by every node.
CREATE TABLE sign_in_throttle (
    key text PRIMARY KEY CHECK (length(key) <= 300),
    failures integer NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    blocked_until timestamptz
);

-- The second factor: the TOTP secret sealed under the master key (key id beside the ciphertext),
-- and the last time step accepted, so that a code is never accepted twice.
ALTER TABLE users
    ADD COLUMN totp_secret text,
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint,
    ADD COLUMN password_changed_at timestamptz;

CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id),
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Links that work once: an invitation (sets a password or accepts a membership) or a reset.
CREATE TABLE one_time_links (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id),
    tenant_id uuid REFERENCES tenants (id),
    purpose text NOT NULL CHECK (purpose IN ('invite', 'reset')),
    -- An invitation may set a password only on the account it created; anyone who had an account
    -- already accepts by signing in, so an invitation can never take an account over.
    creates_account boolean NOT NULL DEFAULT false,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX one_time_links_user ON one_time_links (user_id);

-- An invitation to someone who already has an account elsewhere waits as a pending membership;
-- a tenant admin deactivates a membership rather than deleting it, so history keeps its names.
-- A pending member is listed under the name the inviter typed, so an invitation never shows a
-- tenant the name someone uses elsewhere.
ALTER TABLE memberships
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'deactivated')),
    ADD COLUMN invited_name text CHECK (length(invited_name) BETWEEN 1 AND 200),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- A token made by another token (through the API) ends with it: revoking the parent revokes its
-- children, and a child never outlives its parent.
ALTER TABLE api_tokens ADD COLUMN parent_id uuid REFERENCES api_tokens (id);
CREATE INDEX api_tokens_parent ON api_tokens (parent_id) WHERE parent_id IS NOT NULL;

-- Rate limits: a per-token limit and a larger per-tenant one, both per minute, from the plan.
ALTER TABLE plans ADD COLUMN tenant_requests_per_minute integer;
UPDATE plans SET tenant_requests_per_minute = api_requests_per_minute * 4;
ALTER TABLE plans ALTER COLUMN tenant_requests_per_minute SET NOT NULL,
    ADD CONSTRAINT plans_tenant_rate CHECK (tenant_requests_per_minute > 0);

-- Token buckets shared by every node. Nodes take tokens in small leases (rate_limit_take), so the
-- shared row is written once per lease rather than once per request.
CREATE TABLE rate_limit_buckets (
    key text PRIMARY KEY CHECK (length(key) <= 200),
    tokens double precision NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE FUNCTION rate_limit_take(p_key text, p_capacity double precision, p_per_second double precision,
                                p_want integer, OUT granted integer, OUT remaining double precision)
LANGUAGE plpgsql AS $$
DECLARE
    stamp timestamptz := clock_timestamp();
    available double precision;
BEGIN
    INSERT INTO rate_limit_buckets (key, tokens, updated_at) VALUES (p_key, p_capacity, stamp)
    ON CONFLICT (key) DO NOTHING;
    SELECT least(p_capacity, tokens + greatest(0, extract(epoch FROM stamp - updated_at)) * p_per_second)
      INTO available FROM rate_limit_buckets WHERE key = p_key FOR UPDATE;
    granted := greatest(0, least(p_want, floor(available)))::integer;
    remaining := available - granted;
    UPDATE rate_limit_buckets SET tokens = remaining, updated_at = stamp WHERE key = p_key;
END
$$;

-- Idempotency-Key on POST: the first response for (caller, route, key) is kept for a day and
-- replayed; status is NULL while the first request still runs.
CREATE TABLE idempotency_keys (
    owner text NOT NULL,
    route text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status integer,
    content_type text,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, route, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Audit retention: per tenant, seven years unless the tenant says otherwise. Purging removes the
-- oldest rows and remembers the last purged row's hash, from which verification continues.
ALTER TABLE tenants ADD COLUMN audit_retention_days integer NOT NULL DEFAULT 2557
    CHECK (audit_retention_days BETWEEN 30 AND 36600);
-- The purge point is signed under the master key, so nobody with database access alone can pass
-- off a deletion of recent rows as retention.
ALTER TABLE audit_chains
    ADD COLUMN purged_through bigint NOT NULL DEFAULT 0,
    ADD COLUMN purged_hash bytea,
    ADD COLUMN purge_key_id text,
    ADD COLUMN purge_tag bytea;

GRANT SELECT, INSERT, UPDATE ON sessions, one_time_links TO purser_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle, recovery_codes, rate_limit_buckets, idempotency_keys TO purser_app;
GRANT EXECUTE ON FUNCTION rate_limit_take(text, double precision, double precision, integer) TO purser_app;
