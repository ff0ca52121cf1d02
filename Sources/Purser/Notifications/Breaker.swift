// A circuit breaker per channel, in PostgreSQL so every worker shares it: after `threshold`
// consecutive failures it opens and deliveries wait without trying; after the cool-down one
// delivery is let through as a trial (half open), which closes it on success or opens it again.
import Foundation
import Postgres

public struct Breaker: Sendable {
    public var threshold = 5
    public var coolDown: TimeInterval = 60
    public init(threshold: Int = 5, coolDown: TimeInterval = 60) {
        self.threshold = threshold
        self.coolDown = coolDown
    }

    /// Whether a delivery to `channel` may be tried now (taking the half-open trial if it is due).
    func admits(_ channel: UUID, tenant: UUID, in tx: Connection) throws -> Bool {
        try tx.query("INSERT INTO notification_breakers (channel_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                     [channel, tenant])
        let row = try tx.query("""
            SELECT state, extract(epoch FROM now() - changed_at) FROM notification_breakers WHERE channel_id = $1 FOR UPDATE
            """, [channel])[0]
        switch try row.require(0, as: String.self) {
        case "closed": return true
        case "open" where try row.require(1, as: Double.self) >= coolDown:
            try tx.query("UPDATE notification_breakers SET state = 'half_open', changed_at = now() WHERE channel_id = $1", [channel])
            return true
        // A trial whose worker died is given up after another cool-down.
        case "half_open" where try row.require(1, as: Double.self) >= coolDown:
            try tx.query("UPDATE notification_breakers SET changed_at = now() WHERE channel_id = $1", [channel])
            return true
        default: return false
        }
    }

    func record(success: Bool, channel: UUID, in tx: Connection) throws {
        if success {
            try tx.query("""
                UPDATE notification_breakers SET state = 'closed', failures = 0, changed_at = now()
                WHERE channel_id = $1 AND (state <> 'closed' OR failures <> 0)
                """, [channel])
        } else {
            try tx.query("""
                UPDATE notification_breakers SET failures = failures + 1,
                    state = CASE WHEN state = 'half_open' OR failures + 1 >= $2 THEN 'open' ELSE state END,
                    changed_at = CASE WHEN state = 'half_open' OR (state = 'closed' AND failures + 1 >= $2) THEN now() ELSE changed_at END
                WHERE channel_id = $1
                """, [channel, threshold])
        }
    }
}
