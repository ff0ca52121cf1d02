-- Why: deleting a chain's checkpoints (or the chain's row) used to leave a database that verified,
-- so a rewritten chain passed. Checkpoints of a chain are now numbered and each signs the digest
-- of the one before it and the time it was taken; and every checkpoint run signs a checkpoint set:
-- a digest of every chain's newest checkpoint, the checkpoints the run took, and the digest of the
-- set before it. A removed checkpoint leaves a gap or a set naming it; a removed chain row leaves a
-- set naming the chain; a checkpoint that is too old tells that rows went unsigned.

-- Checkpoints written before: format 1, numbered in order of their rows, their time the time
-- they were written (neither of which they sign).
ALTER TABLE audit_checkpoints
    ADD COLUMN format smallint NOT NULL DEFAULT 1,
    ADD COLUMN number bigint,
    ADD COLUMN previous_digest bytea,
    ADD COLUMN taken_at timestamptz;
UPDATE audit_checkpoints c SET number = numbered.number, taken_at = c.created_at
FROM (SELECT chain, sequence, row_number() OVER (PARTITION BY chain ORDER BY sequence) AS number FROM audit_checkpoints) numbered
WHERE numbered.chain = c.chain AND numbered.sequence = c.sequence;
ALTER TABLE audit_checkpoints
    ALTER COLUMN format DROP DEFAULT,
    ALTER COLUMN number SET NOT NULL,
    ALTER COLUMN taken_at SET NOT NULL,
    ADD CONSTRAINT audit_checkpoints_format CHECK (format IN (1, 2)),
    ADD CONSTRAINT audit_checkpoints_linked CHECK (format = 1 OR previous_digest IS NOT NULL),
    ADD CONSTRAINT audit_checkpoints_number CHECK (number > 0),
    ADD CONSTRAINT audit_checkpoints_chain_number UNIQUE (chain, number);

CREATE TABLE audit_checkpoint_sets (
    number bigint PRIMARY KEY CHECK (number > 0),
    taken_at timestamptz NOT NULL,
    previous_digest bytea NOT NULL,
    heads_digest bytea NOT NULL,
    chains integer NOT NULL CHECK (chains >= 0),
    moved text NOT NULL,
    key_id text NOT NULL,
    tag bytea NOT NULL
);

-- Append-only for the application, like the checkpoints (key rotation re-signs as the owner).
GRANT SELECT, INSERT ON audit_checkpoint_sets TO purser_app;
