// What someone with direct database access (and without the master key) can do to the audit log,
// for the tests that check verify-audit notices it.
import Foundation
import Postgres
@testable import Purser

enum AuditTampering {
    /// Edits row `sequence` of `chain` and recomputes every hash after it, head included, so the
    /// chain holds together again: only signed checkpoints can tell.
    static func rewrite(_ owner: Connection, chain: String, sequence: Int64, reason: String = "rewritten") throws {
        try owner.query("UPDATE audit_events SET reason = $3 WHERE chain = $1 AND sequence = $2", [chain, sequence, reason])
        try rehash(owner, chain: chain)
    }

    /// Recomputes the hash links of `chain` from its first row, and its head.
    static func rehash(_ owner: Connection, chain: String) throws {
        var previous = AuditLog.genesis
        for row in try owner.query("SELECT sequence FROM audit_events WHERE chain = $1 ORDER BY sequence", [chain]) {
            let sequence = try row.require(0, as: Int64.self)
            previous = try owner.query(
                """
                UPDATE audit_events e SET previous_hash = $3, hash = sha256($3::bytea || \(AuditLog.canonical))
                WHERE chain = $1 AND sequence = $2 RETURNING hash
                """, [chain, sequence, previous])[0].require(0, as: Bytea.self)
        }
        try owner.query("UPDATE audit_chains SET last_hash = $2 WHERE chain = $1", [chain, previous])
    }
}
