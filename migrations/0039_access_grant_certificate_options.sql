-- Why: an access request may narrow what the certificates of its grant carry, within what its
-- policy allows (migration 0036): no port forwarding where the policy permits it, fewer source
-- addresses (blocks inside the policy's), or a forced command where the policy forces none. NULL
-- means "as the policy says". The grant copies them from its access request; a certificate carries
-- the narrower of the grant's and the policy's as it reads when signed.
ALTER TABLE access_requests
    ADD COLUMN permit_port_forwarding boolean,
    ADD COLUMN source_addresses text[] CHECK (cardinality(source_addresses) BETWEEN 1 AND 32),
    ADD COLUMN force_command text CHECK (length(force_command) BETWEEN 1 AND 1000);
ALTER TABLE access_grants
    ADD COLUMN permit_port_forwarding boolean,
    ADD COLUMN source_addresses text[] CHECK (cardinality(source_addresses) BETWEEN 1 AND 32),
    ADD COLUMN force_command text CHECK (length(force_command) BETWEEN 1 AND 1000);
