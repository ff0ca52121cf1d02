// "Notify of this event", said inside the feature's own transaction: one delivery row per
// destination (the tenant's subscribed channels, and people who want it by email) and a job for
// each, so nothing is sent for a change that rolls back, and nothing is lost for one that commits.
import Foundation
import Postgres

public enum Outbox {
    public static let deliverKind = "notify.deliver"

    /// Records deliveries of `message` to every enabled channel of `tenant` subscribed to its event,
    /// and by email to each of `people` who has not turned the event off; returns how many.
    /// `tx` must have the tenant set (or be a worker's).
    @discardableResult
    public static func notify(_ tx: Connection, tenant: UUID, message: NotificationMessage, people: [UUID] = []) throws -> Int {
        var count = 0
        for row in try tx.query("""
            SELECT id, kind, target FROM notification_channels
            WHERE tenant_id = $1 AND enabled AND ($2 = ANY(events) OR '*' = ANY(events))
            """, [tenant, message.event]) {
            try deliver(tx, tenant: tenant, channel: try row.require(0), kind: try row.require(1),
                    destination: try row.require(2), message: message)
            count += 1
        }
        if !people.isEmpty {
            for row in try tx.query("""
                SELECT u.email FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.tenant_id = $2
                WHERE u.id = ANY($1::uuid[]) AND u.status = 'active' AND (p.events IS NULL OR $3 = ANY(p.events))
                """, [people.map(\.postgresText), tenant, message.event]) {
                var chosen = message
                chosen.chosen = true
                try deliver(tx, tenant: tenant, channel: nil, kind: "email", destination: try row.require(0), message: chosen)
                count += 1
            }
        }
        return count
    }

    /// One email to one address (an invitation), whatever anyone's preferences.
    public static func email(_ tx: Connection, tenant: UUID, to address: String, message: NotificationMessage) throws {
        try deliver(tx, tenant: tenant, channel: nil, kind: "email", destination: address, message: message)
    }

    /// One delivery of `message` and its job.
    static func deliver(_ tx: Connection, tenant: UUID, channel: UUID?, kind: String, destination: String,
                        message: NotificationMessage) throws {
        let id = UUID.v7()
        try tx.query("""
            INSERT INTO notification_deliveries (id, tenant_id, channel_id, kind, destination, event, subject, message)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
            """, [id, tenant, channel, kind, String(destination.prefix(2000)), message.event, message.subject,
                  try JSONText(encoding: message)])
        try JobQueue.enqueue(tx, kind: deliverKind, payload: try JSONText(encoding: ["delivery": id.postgresText]),
                             options: JobOptions(tenant: tenant, uniqueKey: "delivery:" + id.postgresText, maxAttempts: 8, timeout: 60))
    }
}
