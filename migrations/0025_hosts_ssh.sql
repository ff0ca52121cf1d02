-- Why: Purser's SSH certificate authority and the GPU hosts it opens. Nobody holds standing SSH
-- access to a GPU host: people get certificates for a grant's window, Purser gets one for minutes
-- at a time for its own health and drain commands, and hosts trust the CA's public key and its KRL.

-- The CA: one Ed25519 key, sealed with the master key (SealedColumn.sshAuthority, re-sealed by key
-- rotation). Created by `purser admin init-ssh-ca` (and `purser dev`); never replaced in place, since
-- every host trusts its public key.
CREATE TABLE ssh_certificate_authority (
    id uuid PRIMARY KEY,
    -- Only one CA per installation.
    singleton boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
    public_key text NOT NULL,
    sealed_key text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Certificate serials, unique across the CA: the KRL revokes by serial.
CREATE SEQUENCE ssh_certificate_serial AS bigint MINVALUE 1;

-- Early revocations, published whole in the KRL at GET /api/v1/ssh/krl (every host holds all of
-- them, so they are the CA's rows, not a tenant's). The KRL's version is the highest id.
CREATE TABLE ssh_revocations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id text NOT NULL CHECK (length(key_id) BETWEEN 1 AND 200),
    serial bigint CHECK (serial > 0),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    revoked_at timestamptz NOT NULL
);

GRANT SELECT, INSERT ON ssh_certificate_authority, ssh_revocations TO purser_app;
GRANT USAGE ON SEQUENCE ssh_certificate_serial TO purser_app;

-- GPU hosts: a tenant's own, or the provider's shared pool (tenant_id NULL). A pool host is seen by
-- staff and workers only; a tenant hears of one through its grants that name it (access_grants
-- carries the host's id and name) and through host.down sent to staff channels and to the tenants
-- whose active grants name it. The row carries what a stateless node needs to reach the host: its
-- address, port, the login Purser's health and drain commands run as, and its host keys.
CREATE TABLE gpu_hosts (
    tenant_id uuid REFERENCES tenants (id),
    id uuid NOT NULL PRIMARY KEY,
    -- Part of SSH principals (<tenant>.<name>.<login>), so no dots.
    name text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    address text NOT NULL CHECK (length(address) BETWEEN 1 AND 253),
    ssh_port integer NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
    ssh_login text NOT NULL DEFAULT 'purser' CHECK (ssh_login ~ '^[a-z_][a-z0-9_-]{0,31}$'),
    -- The host's public keys, one OpenSSH line each, for a UserKnownHostsFile.
    host_keys text[] NOT NULL CHECK (cardinality(host_keys) BETWEEN 1 AND 8),
    labels text[] NOT NULL DEFAULT '{}',
    -- [{"model": "H100 80GB HBM3", "count": 8, "memory_mib": 81559}]
    gpus jsonb NOT NULL DEFAULT '[]',
    runtime text NOT NULL CHECK (runtime IN ('vllm', 'tgi')),
    models text[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'draining', 'down')),
    -- The last health reading (GPUs as nvidia-smi reported them, uptime, disk) and when; the last error.
    health jsonb,
    health_at timestamptz,
    health_error text,
    -- When the host last answered; down is decided from it.
    answered_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    UNIQUE NULLS NOT DISTINCT (tenant_id, name)
);
CREATE INDEX gpu_hosts_tenant ON gpu_hosts (tenant_id, name);
CREATE INDEX gpu_hosts_labels ON gpu_hosts USING gin (labels);

GRANT SELECT, INSERT, UPDATE ON gpu_hosts TO purser_app;
ALTER TABLE gpu_hosts ENABLE ROW LEVEL SECURITY;
ALTER TABLE gpu_hosts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON gpu_hosts
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON gpu_hosts TO purser_staff USING (true) WITH CHECK (true);
