// Re-sealing every secret at rest under the keyring's first key, and re-signing the audit log's
// checkpoints and purge points with it, so that older keys can leave PURSER_MASTER_KEY. The sealed
// columns are those of `SealedColumn.all`, the one registry every seal goes through.
import Foundation
import Postgres

public enum MasterKeyRotation {
    /// Seals what is still stored in the clear (channel targets saved before they were sealed,
    /// audited at `now`), then re-seals every value of every registered column not already under
    /// the first key; returns how many values changed. Run with a connection that sees every row
    /// (the owner's).
    public static func reseal(keyring: Keyring, at now: Date, in tx: Connection) throws -> Int {
        var changed = try ChannelTargets.sealPlaintext(keyring: keyring, at: now, in: tx)
        for column in SealedColumn.all {
            changed += try column.reseal(keyring: keyring, in: tx)
        }
        return changed
    }

    /// Re-signs, under the first key, every audit checkpoint and purge point whose signature an
    /// older key of the ring verifies; a signature no key verifies is left for verify-audit to
    /// report. Returns how many were re-signed.
    public static func resignAudit(keyring: Keyring, in tx: Connection) throws -> Int {
        let current = keyring.keys[0].id
        // Checkpoints and checkpoint sets: each format signs its own message.
        var changed = try AuditCheckpoints.resign(keyring: keyring, in: tx)
        for row in try tx.query(
            """
            SELECT chain, purged_through, purged_hash, purge_key_id, purge_tag FROM audit_chains
            WHERE purged_through > 0 AND purge_key_id <> $1 FOR UPDATE
            """, [current])
        {
            let chain = try row.require(0, as: String.self), through = try row.require(1, as: Int64.self)
            let hash = try row.require(2, as: Bytea.self)
            guard
                keyring.verify(
                    AuditLog.purgeMessage(chain, through, hash), keyID: try row.require(3),
                    tag: try row.require(4, as: Bytea.self).bytes)
            else { continue }
            let (keyID, tag) = keyring.authenticate(AuditLog.purgeMessage(chain, through, hash))
            try tx.query("UPDATE audit_chains SET purge_key_id = $2, purge_tag = $3 WHERE chain = $1", [chain, keyID, Bytea(tag)])
            changed += 1
        }
        return changed
    }
}
