// A tenant's channels: where its notifications go and which events each receives. Secrets (a
// webhook's signing secret, a PagerDuty routing key) and a URL channel's whole URL (a Slack or Teams
// webhook URL is a credential; see ChannelTargets) are sealed under the master key; what is shown
// and audited of a URL is its scheme and host.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct NewChannel: Sendable {
    public var kind: String
    public var name: String
    public var target: String
    public var secret: String?
    public var events: [String]

    public init(kind: String, name: String, target: String, secret: String? = nil, events: [String]) {
        self.kind = kind
        self.name = name
        self.target = target
        self.secret = secret
        self.events = events
    }
}

public struct ChannelSummary: Sendable {
    public let id: UUID
    public let kind: String
    public let name: String
    /// Scheme and host of a URL; an email channel's addresses.
    public let target: String
    public let events: [String]
    public let breaker: String
}

public struct NotificationChannels: Sendable {
    let database: Database
    let keyring: Keyring
    let policy: DestinationPolicy
    /// The time channels and test deliveries are stamped with, and the resolver a new URL is checked through.
    let world: World

    public init(database: Database, keyring: Keyring, policy: DestinationPolicy, world: World) {
        self.database = database
        self.keyring = keyring
        self.policy = policy
        self.world = world
    }

    public func create(_ channel: NewChannel, tenant: UUID, by actor: AuditActor) throws -> UUID {
        var errors: [FieldError] = []
        let name = channel.name.trimmingCharacters(in: .whitespaces)
        let target = channel.target.trimmingCharacters(in: .whitespaces)
        if !["email", "slack", "teams", "pagerduty", "webhook"].contains(channel.kind) {
            errors.append(FieldError(field: "kind", detail: "choose email, slack, teams, pagerduty or webhook"))
        }
        if name.isEmpty || name.count > 100 { errors.append(FieldError(field: "name", detail: "give a name of 1–100 characters")) }
        if channel.kind == "email" {
            if let problem = EmailAddress.problem(inList: target) { errors.append(FieldError(field: "target", detail: problem)) }
        } else {
            do { _ = try Destinations.check(target, policy: policy, resolver: world.resolver) } catch let refused as RefusedDestination {
                errors.append(FieldError(field: "target", detail: refused.description))
            } catch { errors.append(FieldError(field: "target", detail: "\(error)")) }
        }
        if ["webhook", "pagerduty"].contains(channel.kind) && (channel.secret ?? "").count < 16 {
            errors.append(
                FieldError(
                    field: "secret",
                    detail: channel.kind == "webhook"
                        ? "give a signing secret of at least 16 characters" : "give the integration's routing key"))
        }
        if channel.events.isEmpty || !channel.events.allSatisfy(NotificationEvents.isKnown) {
            errors.append(FieldError(field: "events", detail: "choose at least one known event"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        let now = world.now
        let id = UUID.v7(at: now)
        let sealed = try channel.secret.flatMap {
            $0.isEmpty ? nil : try SealedColumn.channelSecret.seal(Array($0.utf8), row: id, keyring: keyring)
        }
        let stored = try ChannelTargets.stored(target, kind: channel.kind, channel: id, keyring: keyring)
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                INSERT INTO notification_channels (id, tenant_id, kind, name, target, sealed_target, secret, events, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, [id, tenant, channel.kind, name, stored.shown, stored.sealed, sealed, channel.events, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "notification_channel.create",
                    targetType: "notification_channel", targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "kind": channel.kind, "name": name, "target": stored.shown,
                        "events": channel.events.joined(separator: " "),
                    ]),
                    at: now), in: tx)
        }
        return id
    }

    public func list(tenant: UUID) throws -> [ChannelSummary] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT c.id, c.kind, c.name, c.target, c.events, coalesce(b.state, 'closed')
                FROM notification_channels c LEFT JOIN notification_breakers b ON b.tenant_id = c.tenant_id AND b.channel_id = c.id
                WHERE c.tenant_id = $1 ORDER BY c.created_at
                """, [tenant]
            ).map {
                // Redacted again on the way out: a channel saved before sealing holds its URL until the worker seals it.
                ChannelSummary(
                    id: try $0.require(0), kind: try $0.require(1), name: try $0.require(2),
                    target: DestinationRedaction.shown(try $0.require(3), kind: try $0.require(1), addressesVisible: true),
                    events: try $0.require(4), breaker: try $0.require(5))
            }
        }
    }

    public func delete(_ id: UUID, tenant: UUID, by actor: AuditActor) throws {
        try database.inTenant(tenant) { tx in
            // The deliveries stay in the log and forget the channel (migration 0061: no SET NULL under Citus).
            guard try !tx.query("SELECT 1 FROM notification_channels WHERE tenant_id = $2 AND id = $1 FOR UPDATE", [id, tenant]).isEmpty
            else { throw NotFound() }
            try tx.query("UPDATE notification_deliveries SET channel_id = NULL WHERE tenant_id = $2 AND channel_id = $1", [id, tenant])
            guard try tx.query("DELETE FROM notification_channels WHERE id = $1 AND tenant_id = $2", [id, tenant]).affected == 1 else {
                throw NotFound()
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "notification_channel.delete",
                    targetType: "notification_channel", targetID: id.postgresText, at: world.now), in: tx)
        }
    }

    /// Sends a `test` event to one channel.
    public func sendTest(_ id: UUID, tenant: UUID, tenantName: String) throws {
        try database.inTenant(tenant) { tx in
            guard
                let row = try tx.query("SELECT kind, target FROM notification_channels WHERE tenant_id = $2 AND id = $1", [id, tenant])
                    .first
            else {
                throw NotFound()
            }
            let message = NotificationMessage(
                event: "test", subject: "Test notification from Purser",
                text: "This is a test of a notification channel of \(tenantName).")
            try Outbox.deliver(
                tx, tenant: tenant, message: message,
                to: [
                    Outbox.Destination(channel: id, kind: try row.require(0), address: try row.require(1), chosen: false)
                ], at: world.now)
        }
    }
}
