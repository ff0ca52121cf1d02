-- What an SSH access policy puts in the certificates signed for its grants besides permit-pty:
-- whether port forwarding is permitted, the addresses (CIDRs) the certificate may be used from
-- (empty: anywhere) and a command sshd runs whatever the client asks (null: none). Existing
-- policies keep what their certificates carried so far.
ALTER TABLE access_policies
    ADD COLUMN permit_port_forwarding boolean NOT NULL DEFAULT false,
    ADD COLUMN source_addresses text[] NOT NULL DEFAULT '{}' CHECK (cardinality(source_addresses) <= 32),
    ADD COLUMN force_command text CHECK (length(force_command) BETWEEN 1 AND 1000);
