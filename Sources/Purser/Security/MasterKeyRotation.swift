// Re-sealing every secret at rest under the keyring's first key, so that older keys can leave
// PURSER_MASTER_KEY. Each sealed column is listed once here with the context it was sealed under.
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
}
