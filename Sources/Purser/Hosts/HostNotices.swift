// host.down: who hears that a host stopped answering. A tenant's host: the tenant's channels
// subscribed to host.down, and by mail the active provider staff who manage hosts (platform
// engineers and provider admins, unless they turned the event off). A host of the shared pool has
// no tenant: each tenant whose active grant names the host hears it on its channels, with the same
// staff by mail once (through the first such tenant); staff also see it on /staff/hosts and in the
// provider's audit chain.
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
        let tenants = try tx.query(
            "SELECT DISTINCT tenant_id FROM access_grants WHERE host_id = $1 AND state = 'active' ORDER BY tenant_id", [host.id]
        ).map { try $0.require(0, as: UUID.self) }
        for (index, tenant) in tenants.enumerated() {
            try Outbox.notify(tx, tenant: tenant, message: message, people: index == 0 ? staff : [], at: now)
        }
    }
}
