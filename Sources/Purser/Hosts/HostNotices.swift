// host.down: who hears that a host stopped answering. A tenant's host: the tenant's channels
// subscribed to host.down, and by mail the active provider staff who manage hosts (platform
// engineers and provider admins, unless they turned the event off). A host of the shared pool has
// no tenant: the provider's own channels subscribed to host.down and the same staff by mail hear it
// (ProviderChannels, whether or not anyone holds a grant on it), and each tenant whose active grant
// names the host hears it on its channels, with the grants' holders by mail; staff also see it on
// /staff/hosts and in the provider's audit chain.
import Foundation
import Postgres

enum HostNotices {
    static func down(_ host: GPUHost, reason: String, tx: Connection, at now: Date) throws {
        let message = NotificationMessage(
            event: "host.down", subject: "GPU host \(host.name) is down",
            text:
                "\(host.name) (\(host.address)) has not answered Purser's health checks for \(Int(HostHealthCheck.downAfter / 60)) minutes: \(reason)",
            severity: .error, dedupKey: "host.down:\(host.id.postgresText):\(Int(now.timeIntervalSince1970))")
        let staff = try tx.query(
            "SELECT id FROM users WHERE status = 'active' AND staff_role IN ('platform_engineer', 'provider_admin') ORDER BY id"
        ).map { try $0.require(0, as: UUID.self) }
        if let tenant = host.tenant {
            try Outbox.notify(tx, tenant: tenant, message: message, people: staff, at: now)
            return
        }
        try ProviderChannels.notify(tx, message: message, staff: staff, at: now)
        let holders = try tx.query(
            """
            SELECT tenant_id, array_agg(DISTINCT user_id) FROM access_grants WHERE host_id = $1 AND state = 'active' AND ends_at > $2
            GROUP BY tenant_id ORDER BY tenant_id
            """, [host.id, now]
        ).map { (try $0.require(0, as: UUID.self), try $0.require(1, as: [UUID].self)) }
        // Each tenant's part in the tenant's own light: whether a holder still belongs is read in
        // its memberships, which a worker's transaction sees only with the tenant set.
        for (tenant, people) in holders {
            try tx.query("SELECT set_config('purser.tenant_id', $1, true)", [tenant.postgresText])
            try Outbox.notify(tx, tenant: tenant, message: message, people: people, at: now)
        }
        if !holders.isEmpty { try tx.query("SELECT set_config('purser.tenant_id', '', true)") }
    }
}
