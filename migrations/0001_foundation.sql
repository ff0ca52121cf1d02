-- Why: the foundation needs only what every later feature relies on: a home for settings that
-- belong to the installation, and the convention that identifiers are UUIDs made in Purser
-- (UUIDv7, time-ordered) and times are timestamptz. Identity, tenants and RLS arrive with 0002.
CREATE TABLE installation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    installed_at timestamptz NOT NULL DEFAULT now(),
    name text NOT NULL DEFAULT 'Purser'
);
INSERT INTO installation DEFAULT VALUES;
