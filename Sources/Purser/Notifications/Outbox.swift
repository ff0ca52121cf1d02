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
        var destinations: [Destination] = try tx.query("""
            SELECT id, kind, target FROM notification_channels
            WHERE tenant_id = $1 AND enabled AND ($2 = ANY(events) OR '*' = ANY(events))
            """, [tenant, message.event]).map {
            Destination(channel: try $0.require(0), kind: try $0.require(1), address: try $0.require(2), message: message)
        }
        if !people.isEmpty {
            var chosen = message
            chosen.chosen = true
            destinations += try tx.query("""
                SELECT u.email FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.tenant_id = $2
                WHERE u.id = ANY($1::uuid[]) AND u.status = 'active' AND (p.events IS NULL OR $3 = ANY(p.events))
                """, [people.map(\.postgresText), tenant, message.event]).map {
                Destination(channel: nil, kind: "email", address: try $0.require(0), message: chosen)
            }
        }
        try deliver(tx, tenant: tenant, to: destinations)
        return destinations.count
    }

    /// Where one delivery goes: a channel, or (channel nil) an email address.
    struct Destination {
        let channel: UUID?
        let kind: String
        let address: String
        let message: NotificationMessage
    }

    /// One email to one address (an invitation), whatever anyone's preferences.
    public static func email(_ tx: Connection, tenant: UUID, to address: String, message: NotificationMessage) throws {
        try deliver(tx, tenant: tenant, to: [Destination(channel: nil, kind: "email", address: address, message: message)])
    }

    /// A delivery row and its job for each destination: two statements however many there are.
    static func deliver(_ tx: Connection, tenant: UUID, to destinations: [Destination]) throws {
        guard !destinations.isEmpty else { return }
        let ids = destinations.map { _ in UUID.v7() }
        try tx.query("""
            INSERT INTO notification_deliveries (id, tenant_id, channel_id, kind, destination, event, subject, message)
            SELECT d.id, $1, d.channel, d.kind, d.destination, d.event, d.subject, d.message::jsonb
            FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                AS d (id, channel, kind, destination, event, subject, message)
            """, [tenant, ids, NullableArray(destinations.map(\.channel)), destinations.map(\.kind),
                  destinations.map { String($0.address.prefix(2000)) }, destinations.map(\.message.event),
                  destinations.map(\.message.subject), try destinations.map { try JSONText(encoding: $0.message).text }])
        try JobQueue.enqueueMany(tx, kind: deliverKind, payloads: try ids.map { try JSONText(encoding: ["delivery": $0.postgresText]) },
                                 uniqueKeys: ids.map { "delivery:" + $0.postgresText }, tenant: tenant, maxAttempts: 8, timeout: 60)
    }
}
