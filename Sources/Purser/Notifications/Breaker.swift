// A circuit breaker per notification channel or per deployment target's provider (`table`), in
// PostgreSQL so every worker shares it: after `threshold` consecutive failures it opens and calls
// wait without trying; after the cool-down one call is let through as a trial (half open), which
// closes it on success or opens it again. The cool-down runs on the World's clock: `now` is bound
// into every statement.
import Foundation
import Postgres

public struct Breaker: Sendable {
    public var threshold = 5
    public var coolDown: TimeInterval = 60
    /// Where the breakers live: one row per key (a channel, a target) with its tenant.
    public var table = Table.notificationChannels
    public init(threshold: Int = 5, coolDown: TimeInterval = 60, table: Table = .notificationChannels) {
        self.threshold = threshold
        self.coolDown = coolDown
        self.table = table
    }

    /// A table of breakers: (key, tenant_id, state, failures, changed_at). Names are fixed here, never input.
    public struct Table: Sendable {
        let name: String
        let key: String
        public static let notificationChannels = Table(name: "notification_breakers", key: "channel_id")
        public static let providerTargets = Table(name: "provider_breakers", key: "target_id")
    }

    /// Whether a call to `channel` (a channel or target id) may be tried `now` (taking the half-open trial if it is due).
    func admits(_ channel: UUID, tenant: UUID, at now: Date, in tx: Connection) throws -> Bool {
        try tx.query(
            """
            INSERT INTO \(table.name) (\(table.key), tenant_id, changed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
            """, [channel, tenant, now])
        let row = try tx.query(
            """
            SELECT state, extract(epoch FROM $2::timestamptz - changed_at) FROM \(table.name)
            WHERE \(table.key) = $1 FOR UPDATE
            """, [channel, now])[0]
        switch try row.require(0, as: String.self) {
        case "closed": return true
        case "open" where try row.require(1, as: Double.self) >= coolDown:
            try tx.query("UPDATE \(table.name) SET state = 'half_open', changed_at = $2 WHERE \(table.key) = $1", [channel, now])
            return true
        // A trial whose worker died is given up after another cool-down.
        case "half_open" where try row.require(1, as: Double.self) >= coolDown:
            try tx.query("UPDATE \(table.name) SET changed_at = $2 WHERE \(table.key) = $1", [channel, now])
            return true
        default: return false
        }
    }

    func record(success: Bool, channel: UUID, at now: Date, in tx: Connection) throws {
        if success {
            try tx.query(
                """
                UPDATE \(table.name) SET state = 'closed', failures = 0, changed_at = $2
                WHERE \(table.key) = $1 AND (state <> 'closed' OR failures <> 0)
                """, [channel, now])
        } else {
            try tx.query(
                """
                UPDATE \(table.name) SET failures = failures + 1,
                    state = CASE WHEN state = 'half_open' OR failures + 1 >= $2 THEN 'open' ELSE state END,
                    changed_at = CASE WHEN state = 'half_open' OR (state = 'closed' AND failures + 1 >= $2) THEN $3 ELSE changed_at END
                WHERE \(table.key) = $1
                """, [channel, threshold, now])
        }
    }
}
