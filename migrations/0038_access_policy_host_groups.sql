-- Why: an SSH access policy names more than one group of hosts, and may name hosts of the
-- provider's shared pool (gpu_hosts rows without a tenant) instead of the tenant's own; policies
-- are also written through the API, where one is archived rather than deleted (its access requests
-- and grants keep pointing at it, and the history shows its name).
--
-- host_labels: the hosts carrying any one of these labels (1–20), from host_source: 'tenant' (the
-- tenant's own hosts) or 'pool' (the provider's shared pool; such a policy is written only by the
-- provider's admins and every access request under it owes at least one provider approval).
ALTER TABLE access_policies
    ADD COLUMN host_labels text[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(host_labels) <= 20 AND array_position(host_labels, NULL) IS NULL),
    ADD COLUMN host_source text NOT NULL DEFAULT 'tenant' CHECK (host_source IN ('tenant', 'pool')),
    ADD COLUMN archived_at timestamptz;

UPDATE access_policies SET host_labels = ARRAY[host_label] WHERE host_label IS NOT NULL;

-- Dropping the column drops the kind check that named it; the same check comes back on the labels.
ALTER TABLE access_policies DROP COLUMN host_label;
ALTER TABLE access_policies ADD CONSTRAINT access_policies_kind_fields CHECK (
    (kind = 'ssh' AND cardinality(host_labels) >= 1 AND ssh_login IS NOT NULL AND role IS NULL)
    OR (kind = 'role' AND role IS NOT NULL AND cardinality(host_labels) = 0 AND ssh_login IS NULL AND host_source = 'tenant'));
