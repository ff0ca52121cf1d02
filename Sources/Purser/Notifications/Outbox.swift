// "Notify of this event", said inside the feature's own transaction: one delivery row per
// destination (the tenant's subscribed channels, and people who want it by email) and a job for
// each, so nothing is sent for a change that rolls back, and nothing is lost for one that commits.
// Finding the destinations and recording the deliveries are one statement each, however many
// destinations there are, and a feature may find them early (before it takes a lock) and record
// the deliveries late (when the message can be written).
// Mail goes only to people who still belong to the tenant (an active membership) or are active
// staff: checked here when the mail is composed and again by the worker when it is sent. The log
// keeps no more of a URL destination than its scheme and host (the whole URL is sealed with its
// channel). Deliveries and their jobs are stamped with the caller's `now` (its World's time), so
// the log orders them and the queue runs them by the same clock.
import Foundation
import Postgres

public enum Outbox {
    public static let deliverKind = "notify.deliver"

    /// Where one delivery goes: a channel, or (channel nil) an email address.
    public struct Destination: Sendable {
        let channel: UUID?
        let kind: String
        let address: String
        /// Mail a person chose to get (so it offers List-Unsubscribe), rather than mail they must get.
        let chosen: Bool
        /// The person the mail is for, who must still belong to the tenant when it is sent; nil for
        /// a channel or a bare address (an invitation).
        var recipient: UUID? = nil
    }

    /// Records deliveries of `message` to every enabled channel of `tenant` subscribed to its event,
    /// and by email to each of `people` who has not turned the event off, at `now`; returns how many.
    /// `tx` must have the tenant set (or be a worker's).
    @discardableResult
    public static func notify(
        _ tx: Connection, tenant: UUID, message: NotificationMessage, people: [UUID] = [],
        at now: Date
    ) throws -> Int {
        let found = try destinations(tx, tenant: tenant, event: message.event, people: people)
        try deliver(tx, tenant: tenant, message: message, to: found, at: now)
        return found.count
    }

    /// The channels subscribed to `event`, and the addresses of `people` who want it and still
    /// belong to the tenant (or are active staff), in one statement.
    static func destinations(_ tx: Connection, tenant: UUID, event: String, people: [UUID]) throws -> [Destination] {
        try tx.query(
            """
            SELECT id, kind, target, false, NULL::uuid FROM notification_channels
            WHERE tenant_id = $1 AND enabled AND ($2 = ANY(events) OR '*' = ANY(events))
            UNION ALL
            SELECT NULL, 'email', u.email, true, u.id FROM users u
            LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.tenant_id = $1
            WHERE u.id = ANY($3::uuid[]) AND \(belongs("u", tenant: "$1")) AND (p.events IS NULL OR $2 = ANY(p.events))
            """, [tenant, event, people]
        ).map {
            Destination(
                channel: try $0.decode(0), kind: try $0.require(1), address: try $0.require(2), chosen: try $0.require(3),
                recipient: try $0.decode(4))
        }
    }

    /// The SQL condition that the person of `users` row `alias` may hear about `tenant`'s work:
    /// an active account that is active staff or holds an active membership in the tenant. The
    /// worker checks it again when it sends.
    static func belongs(_ alias: String, tenant: String) -> String {
        """
        \(alias).status = 'active' AND (\(alias).staff_role IS NOT NULL OR EXISTS (
            SELECT 1 FROM memberships m WHERE m.tenant_id = \(tenant) AND m.user_id = \(alias).id AND m.status = 'active'))
        """
    }

    /// One email to one address (an invitation), whatever anyone's preferences.
    public static func email(_ tx: Connection, tenant: UUID, to address: String, message: NotificationMessage, at now: Date) throws {
        try deliver(
            tx, tenant: tenant, message: message, to: [Destination(channel: nil, kind: "email", address: address, chosen: false)],
            at: now)
    }

    /// A delivery row and its job for each destination, made at `now` and due at once, and the
    /// workers woken: one statement.
    static func deliver(
        _ tx: Connection, tenant: UUID, message: NotificationMessage, to destinations: [Destination],
        at now: Date
    ) throws {
        guard !destinations.isEmpty else { return }
        var chosen = message
        chosen.chosen = true
        let plain = try JSONText(encoding: message).text, marked = try JSONText(encoding: chosen).text
        try tx.query(
            """
            WITH d AS (
                INSERT INTO notification_deliveries (id, tenant_id, channel_id, kind, destination, event, subject, message, recipient_id,
                                                     created_at)
                SELECT d.id, $1, d.channel, d.kind, d.destination, $6, $7, d.message::jsonb, d.recipient, $12::timestamptz
                FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $8::text[], $11::uuid[])
                     AS d (id, channel, kind, destination, message, recipient)
                RETURNING id
            ), j AS (
                INSERT INTO jobs (kind, payload, tenant_id, unique_key, max_attempts, timeout_seconds, run_at, created_at)
                SELECT $9, jsonb_build_object('delivery', d.id::text), $1, 'delivery:' || d.id::text, 8, 60, $12::timestamptz,
                       $12::timestamptz FROM d
                RETURNING 1
            )
            SELECT pg_notify($10, $9) FROM (SELECT count(*) FROM j) AS made
            """,
            [
                tenant, destinations.map { _ in UUID.v7(at: now) }, NullableArray(destinations.map(\.channel)), destinations.map(\.kind),
                destinations.map { ChannelTargets.isURL($0.kind) ? DestinationRedaction.url($0.address) : String($0.address.prefix(2000)) },
                message.event, message.subject,
                destinations.map { $0.chosen ? marked : plain }, deliverKind, JobQueue.channel,
                NullableArray(destinations.map(\.recipient)), now,
            ])
    }
}
