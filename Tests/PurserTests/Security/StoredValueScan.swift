// Looks through every text-like column of every table of a test database (text, varchar, jsonb,
// arrays of them, and bytea read as escaped text) for values matching a pattern: a sealed value,
// or a secret that must never be stored in the clear.
import Foundation
import Postgres
import TestSupport

struct StoredColumn: Hashable, CustomStringConvertible {
    let table: String
    let column: String
    var description: String { "\(table).\(column)" }
}

enum StoredValueScan {
    /// Every column of an ordinary table of `public` that can hold text.
    static func columns(_ connection: Connection) throws -> [(column: StoredColumn, type: String)] {
        try connection.query(
            """
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea') OR c.data_type = 'ARRAY')
            ORDER BY 1, 2
            """
        ).map { (StoredColumn(table: try $0.require(0), column: try $0.require(1)), try $0.require(2)) }
    }

    /// The columns holding at least one value matching the POSIX regular expression `pattern`.
    static func columns(matching pattern: String, in connection: Connection) throws -> Set<StoredColumn> {
        var found: Set<StoredColumn> = []
        for (column, type) in try columns(connection) {
            let value = type == "bytea" ? "encode(\"\(column.column)\", 'escape')" : "\"\(column.column)\"::text"
            let hits = try connection.query("SELECT count(*) FROM \"\(column.table)\" WHERE \(value) ~ $1", [pattern])[0]
                .require(0, as: Int.self)
            if hits > 0 { found.insert(column) }
        }
        return found
    }

    /// A value sealed by the key `keyID` (`keyID.` then at least a nonce and a tag in base64).
    static func sealedPattern(keyID: String) -> String {
        "(^|[^A-Za-z0-9_-])" + keyID + "\\.[A-Za-z0-9+/]{38,}={0,2}"
    }

    /// `text` as a literal in a regular expression.
    static func literal(_ text: String) -> String {
        text.map { "\\^$.|?*+()[]{}".contains($0) ? "\\\($0)" : String($0) }.joined()
    }
}
