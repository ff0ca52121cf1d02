// Where a URL channel (Slack, Teams, PagerDuty, webhook) sends, kept sealed: a Slack or Teams
// incoming-webhook URL is a credential, so the whole URL is sealed under the master key, bound to
// its channel (`sealed_target`), and `target` keeps only scheme and host for the page and the log.
// Email channels keep their addresses as they are (not credentials; shown to admins only).
//
// Channels saved before migration 0014 hold their URL in the clear. The migration cannot seal
// (it has no key), so it queues one `notify.seal_targets` job, which the next `purser work` runs;
// `purser admin rotate-master-key` seals any that remain. Until then deliveries still reach them.
import Foundation
import Postgres

public enum ChannelTargets {
    public static let sealJobKind = "notify.seal_targets"

    /// Whether channels of `kind` send to a URL (sealed) rather than to addresses.
    static func isURL(_ kind: String) -> Bool { kind != "email" }

    /// What `target` and `sealed_target` of a new channel hold.
    static func stored(_ target: String, kind: String, channel: UUID, keyring: Keyring) throws -> (shown: String, sealed: String?) {
        guard isURL(kind) else { return (target, nil) }
        return (DestinationRedaction.url(target), try SealedColumn.channelTarget.seal(Array(target.utf8), row: channel, keyring: keyring))
    }

    /// The URL a channel sends to: its sealed target opened, or (saved before sealing) its target.
    static func destination(kind: String, target: String, sealed: String?, channel: UUID, keyring: Keyring) throws -> String {
        guard isURL(kind), let sealed else { return target }
        return String(decoding: try SealedColumn.channelTarget.open(sealed, row: channel, keyring: keyring), as: UTF8.self)
    }

    /// Seals every URL channel whose target is still in the clear (only `tenant`'s, when named),
    /// and records each in its tenant's audit chain at `now`; returns how many. Without `tenant`,
    /// `tx` must see every tenant's rows (the owner's connection).
    @discardableResult
    public static func sealPlaintext(keyring: Keyring, at now: Date, in tx: Connection, tenant only: UUID? = nil) throws -> Int {
        let rows = try tx.query(
            """
            SELECT id, tenant_id, target FROM notification_channels
            WHERE kind <> 'email' AND sealed_target IS NULL AND ($1::uuid IS NULL OR tenant_id = $1)
            ORDER BY tenant_id, id FOR UPDATE
            """, [only])
        for row in rows {
            let id = try row.require(0, as: UUID.self), tenant = try row.require(1, as: UUID.self)
            let target = try row.require(2, as: String.self)
            try tx.query(
                "UPDATE notification_channels SET target = $2, sealed_target = $3 WHERE tenant_id = $4 AND id = $1",
                [
                    id, DestinationRedaction.url(target),
                    try SealedColumn.channelTarget.seal(Array(target.utf8), row: id, keyring: keyring), tenant,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "notification_channel.seal_target",
                    targetType: "notification_channel", targetID: id.postgresText,
                    after: try JSONText(encoding: ["target": DestinationRedaction.url(target)]), at: now),
                in: tx)
        }
        return rows.count
    }

    /// The job migration 0014 queues when it finds channels to seal: one transaction per tenant,
    /// since a worker writes a tenant's audit chain only in a transaction of that tenant.
    static func register(into handlers: inout JobHandlers, keyring: Keyring) {
        handlers.register(sealJobKind) { context in
            let tenants = try context.database.pool.query(
                """
                SELECT DISTINCT tenant_id FROM notification_channels WHERE kind <> 'email' AND sealed_target IS NULL
                """
            ).map { try $0.require(0, as: UUID.self) }
            for tenant in tenants {
                try context.database.inTenant(tenant) { tx in
                    _ = try sealPlaintext(keyring: keyring, at: context.world.now, in: tx, tenant: tenant)
                }
            }
        }
    }
}
