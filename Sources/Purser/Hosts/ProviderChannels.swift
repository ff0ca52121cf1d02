// The provider's own notification channels, for what belongs to no tenant (a GPU host of the shared
// pool going down): a NOC mailbox or an on-call webhook, subscribed to events like a tenant's
// channels, plus the provider's host managers by mail. Said the way the tenant outbox says it:
// inside the change's own transaction, one delivery row (provider_deliveries, migration 0040) and
// one job each, sent by ProviderDelivery. Channels are made with `purser admin provider-channel`;
// only staff transactions and workers see them.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct ProviderChannel: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case email, webhook }
    public let id: UUID
    public let kind: Kind
    public let name: String
    public let target: String
    public let events: [String]
    public let enabled: Bool
}

public enum ProviderChannels {
    public static let deliverKind = "notify.provider_deliver"

    /// Adds a channel (audited in the provider's chain). A webhook signs with `secret`, or one made
    /// here and returned once; sealed at rest, it makes `Purser-Signature` on each delivery.
    /// `destination` judges a webhook's URL as deliveries will (the outbound destination policy):
    /// what it says refuses the URL now, rather than every delivery later.
    public static func create(
        kind: ProviderChannel.Kind, name: String, target: String, events: [String], secret given: String? = nil, keyring: Keyring,
        actor: AuditActor, at now: Date, in tx: Connection, destination: ((String) -> String?)? = nil
    ) throws -> (channel: ProviderChannel, secret: String?) {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let target = target.trimmingCharacters(in: .whitespacesAndNewlines)
        let events = events.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var errors: [FieldError] = []
        if !(1...100).contains(name.count) || RequestRules.hasControl(name) {
            errors.append(FieldError(field: "name", detail: "give a name of 1–100 characters on one line"))
        }
        switch kind {
        case .email:
            let addresses = target.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if addresses.isEmpty || addresses.contains(where: { !$0.contains("@") || $0.contains(" ") }) {
                errors.append(FieldError(field: "target", detail: "give e-mail addresses separated by commas"))
            }
        case .webhook:
            if URLComponents(string: target).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
                errors.append(FieldError(field: "target", detail: "give the webhook's http(s) URL"))
            } else if let problem = destination?(target) {
                errors.append(FieldError(field: "target", detail: problem))
            }
        }
        if events.isEmpty || events.contains(where: { !NotificationEvents.isKnown($0) }) {
            errors.append(FieldError(field: "events", detail: "name events Purser sends (e.g. host.down), or *"))
        }
        if let given, kind == .email || given.count < 16 || given.count > 200 {
            errors.append(FieldError(field: "secret", detail: "a webhook's signing secret: 16–200 characters"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        let id = UUID.v7(at: now)
        let secret: String? = kind == .webhook ? given ?? Self.newSecret() : nil
        let sealed = try secret.map { try SealedColumn.providerChannelSecret.seal(Array($0.utf8), row: id, keyring: keyring) }
        try tx.query(
            """
            INSERT INTO provider_channels (id, kind, name, target, secret, events, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, [id, kind.rawValue, name, target, sealed, events, now])
        try AuditLog.record(
            AuditEvent(
                tenant: nil, actor: actor, action: "provider_channel.create", targetType: "provider_channel", targetID: id.postgresText,
                after: try JSONText(encoding: [
                    "kind": kind.rawValue, "name": name, "destination": kind == .webhook ? DestinationRedaction.url(target) : target,
                    "events": events.joined(separator: ","),
                ]), at: now), in: tx)
        return (ProviderChannel(id: id, kind: kind, name: name, target: target, events: events, enabled: true), secret)
    }

    /// 32 bytes from the system's secure generator, base64url: the receiver's HMAC key.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func list(in tx: Connection) throws -> [ProviderChannel] {
        try tx.query("SELECT id, kind, name, target, events, enabled FROM provider_channels ORDER BY name").map {
            ProviderChannel(
                id: try $0.require(0), kind: ProviderChannel.Kind(rawValue: try $0.require(1)) ?? .email, name: try $0.require(2),
                target: try $0.require(3), events: try $0.require(4), enabled: try $0.require(5))
        }
    }

    /// Records deliveries of `message` to every enabled provider channel subscribed to its event
    /// and by mail to each of `staff` still active, with a job each, in `tx` (a worker's or staff
    /// transaction) at `now`; returns how many.
    @discardableResult
    static func notify(_ tx: Connection, message: NotificationMessage, staff: [UUID], at now: Date) throws -> Int {
        let plain = try JSONText(encoding: message).text
        return try tx.query(
            """
            WITH found AS (
                SELECT id AS channel, NULL::uuid AS recipient, kind, target FROM provider_channels
                WHERE enabled AND ($1 = ANY(events) OR '*' = ANY(events))
                UNION ALL
                SELECT NULL, u.id, 'email', u.email FROM users u
                WHERE u.id = ANY($2::uuid[]) AND u.status = 'active' AND u.staff_role IS NOT NULL
            ), d AS (
                INSERT INTO provider_deliveries (id, channel_id, recipient_id, kind, destination, event, subject, message, created_at)
                SELECT gen_random_uuid(), channel, recipient, kind,
                       CASE WHEN kind = 'webhook' THEN substring(target FROM '^[a-z]+://[^/?#]+') ELSE left(target, 2000) END,
                       $1, $3, $4::jsonb, $5::timestamptz
                FROM found
                RETURNING id
            ), j AS (
                INSERT INTO jobs (kind, payload, unique_key, max_attempts, timeout_seconds, run_at, created_at)
                SELECT $6, jsonb_build_object('delivery', d.id::text), 'provider-delivery:' || d.id::text, 8, 60, $5::timestamptz,
                       $5::timestamptz FROM d
                RETURNING 1
            )
            SELECT count(*), pg_notify($7, $6) FROM j
            """, [message.event, staff, message.subject, plain, now, deliverKind, JobQueue.channel]
        ).first.map { Int(try $0.require(0, as: Int64.self)) } ?? 0
    }
}

extension SealedColumn {
    /// A provider webhook channel's signing secret, bound to the channel.
    static let providerChannelSecret = SealedColumn(
        table: "provider_channels", column: "secret", storage: .text, rowColumns: ["id"]
    ) { "provider-channel:" + $0[0] }
}
