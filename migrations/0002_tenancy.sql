-- Why: tenants, people and memberships, and the two walls between tenants. The application works
-- as purser_app, a role that owns no tables (owners and superusers bypass row-level security), and
-- every tenant-owned table forces row-level security keyed on the transaction's purser.tenant_id.
-- Roles are cluster-wide and many databases share a cluster, so the role is made only if missing.
-- Making the role needs CREATEROLE; where the owner lacks it, an administrator creates purser_app
-- and grants it to the owner beforehand, and this block then changes nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'purser_app') THEN
        CREATE ROLE purser_app NOLOGIN;
    END IF;
    -- The owner that runs serve and work switches to purser_app on every pooled connection.
    IF NOT pg_has_role(current_user, 'purser_app', 'MEMBER') THEN
        EXECUTE format('GRANT purser_app TO %I', current_user);
    END IF;
END
$$;

GRANT SELECT ON schema_migrations, installation TO purser_app;

-- Plans hold each tier's defaults; later issues add SLA targets here.
CREATE TABLE plans (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,30}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    api_requests_per_minute integer NOT NULL CHECK (api_requests_per_minute > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO plans (id, name, api_requests_per_minute) VALUES
    ('standard', 'Standard', 600),
    ('premium', 'Premium', 3000),
    ('enterprise', 'Enterprise', 12000);

-- The tenant registry itself is not tenant-owned: a slug in a URL is resolved before any tenant is set.
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    -- Prefixes the numbers people say out loud (ACME-42).
    key text NOT NULL UNIQUE CHECK (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan_id text NOT NULL REFERENCES plans (id),
    time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);

-- People: customer users (through memberships) and provider staff (staff_role set).
CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    staff_role text CHECK (staff_role IN ('cse', 'platform_engineer', 'provider_admin')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited', 'deactivated')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id uuid NOT NULL REFERENCES users (id),
    role text NOT NULL CHECK (role IN ('tenant_admin', 'approver', 'requester', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

GRANT SELECT ON plans TO purser_app;
GRANT SELECT, INSERT, UPDATE ON tenants, users TO purser_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO purser_app;

-- The second wall. A tenant-owned row is visible and writable only inside a transaction that set
-- its tenant; a person also sees their own memberships (to list their tenants at sign-in); staff
-- reach across tenants only where the application says so for the transaction.
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid);
CREATE POLICY own_memberships ON memberships FOR SELECT
    USING (user_id = nullif(current_setting('purser.user_id', true), '')::uuid);
CREATE POLICY staff_access ON memberships
    USING (current_setting('purser.staff', true) = 'on')
    WITH CHECK (current_setting('purser.staff', true) = 'on');
