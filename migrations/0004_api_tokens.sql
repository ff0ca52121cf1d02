-- Why: API clients authenticate with bearer tokens. A token is `pur_<lookup>_<secret>`: the lookup
-- finds the row, only a SHA-256 of the secret is stored, and the token is shown once. Tokens are
-- found before any tenant is known (the token says which), so this table is read by lookup across
-- tenants; every other read of tenant data still goes through row-level security.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    lookup text NOT NULL UNIQUE CHECK (lookup ~ '^[a-z2-7]{12}$'),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id),
    -- Nil for a staff token, which names its tenant per request.
    tenant_id uuid REFERENCES tenants (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

GRANT SELECT, INSERT, UPDATE ON api_tokens TO purser_app;
