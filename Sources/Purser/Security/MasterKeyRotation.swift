// Re-sealing every secret at rest under the keyring's first key, and re-signing the audit log's
// checkpoints and purge points with it, so that older keys can leave PURSER_MASTER_KEY. Each sealed
// column is listed once here with the context it was sealed under.
import Foundation
import Postgres

public enum MasterKeyRotation {
    /// A column of sealed values (`SealedValue.text`), and the context each row's value is bound to.
    struct SealedColumn {
        let table: String
        let idColumn: String
        let column: String
        let context: @Sendable (UUID) -> String
    }

    static let columns: [SealedColumn] = [
        SealedColumn(table: "users", idColumn: "id", column: "totp_secret", context: SecondFactor.context),
    ]

    /// Re-seals every value not already under the first key; returns how many changed. Run with a
    /// connection that sees every row (the owner's).
    public static func reseal(keyring: Keyring, in tx: Connection) throws -> Int {
        var changed = 0
        let current = keyring.keys[0].id
        for column in columns {
            let rows = try tx.query("""
                SELECT \(column.idColumn), \(column.column) FROM \(column.table)
                WHERE \(column.column) IS NOT NULL AND split_part(\(column.column), '.', 1) <> $1 FOR UPDATE
                """, [current])
            for row in rows {
                let id = try row.require(0, as: UUID.self)
                guard let sealed = SealedValue(text: try row.require(1, as: String.self)) else { continue }
                let fresh = try keyring.reseal(sealed, context: column.context(id))
                try tx.query("UPDATE \(column.table) SET \(column.column) = $2 WHERE \(column.idColumn) = $1", [id, fresh.text])
                changed += 1
            }
        }
        return changed
    }

    /// Re-signs, under the first key, every audit checkpoint and purge point whose signature an
    /// older key of the ring verifies; a signature no key verifies is left for verify-audit to
    /// report. Returns how many were re-signed.
    public static func resignAudit(keyring: Keyring, in tx: Connection) throws -> Int {
        let current = keyring.keys[0].id
        var changed = 0
        for row in try tx.query("""
            SELECT chain, sequence, hash, key_id, tag FROM audit_checkpoints WHERE key_id <> $1 FOR UPDATE
            """, [current]) {
            let chain = try row.require(0, as: String.self), sequence = try row.require(1, as: Int64.self)
            let hash = try row.require(2, as: Bytea.self)
            guard keyring.verify(AuditLog.checkpointMessage(chain, sequence, hash), keyID: try row.require(3),
                                 tag: try row.require(4, as: Bytea.self).bytes) else { continue }
            let (keyID, tag) = keyring.authenticate(AuditLog.checkpointMessage(chain, sequence, hash))
            try tx.query("UPDATE audit_checkpoints SET key_id = $3, tag = $4 WHERE chain = $1 AND sequence = $2",
                         [chain, sequence, keyID, Bytea(tag)])
            changed += 1
        }
        for row in try tx.query("""
            SELECT chain, purged_through, purged_hash, purge_key_id, purge_tag FROM audit_chains
            WHERE purged_through > 0 AND purge_key_id <> $1 FOR UPDATE
            """, [current]) {
            let chain = try row.require(0, as: String.self), through = try row.require(1, as: Int64.self)
            let hash = try row.require(2, as: Bytea.self)
            guard keyring.verify(AuditLog.purgeMessage(chain, through, hash), keyID: try row.require(3),
                                 tag: try row.require(4, as: Bytea.self).bytes) else { continue }
            let (keyID, tag) = keyring.authenticate(AuditLog.purgeMessage(chain, through, hash))
            try tx.query("UPDATE audit_chains SET purge_key_id = $2, purge_tag = $3 WHERE chain = $1", [chain, keyID, Bytea(tag)])
            changed += 1
        }
        return changed
    }
}
