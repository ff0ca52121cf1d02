// The demo tenant's access policies: SSH as `ops` on its hosts labelled `group:train` (one
// customer approval; staff also need the provider's), elevation to approver for an hour,
// break-glass SSH for tenant admins, and SSH on the provider's shared pool (both sides approve).
// Policies are written once; a demo run again keeps them.
import Foundation

enum DemoAccess {
    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let staffAndCustomers: Set<String> = ["requester", "approver", "tenant_admin", "cse", "platform_engineer", "provider_admin"]
        let policies = [
            AccessPolicy(
                id: UUID.v7(at: clock.now), name: "GPU hosts: ops", kind: .ssh, hostLabel: "group:train", sshLogin: "ops",
                requesterRoles: staffAndCustomers, maxSeconds: 4 * 3600, customerApprovals: 1, providerApprovals: 0,
                breakGlassRoles: ["tenant_admin"], breakGlassMaxSeconds: 3600, lapseSeconds: 8 * 3600),
            AccessPolicy(
                id: UUID.v7(at: clock.now.addingTimeInterval(0.001)), name: "Approver for an hour", kind: .role, role: "approver",
                requesterRoles: ["requester"], maxSeconds: 3600, customerApprovals: 1, lapseSeconds: 8 * 3600),
            // The provider's shared pool (DemoHosts' pool-1, labelled `pool`): the provider approves too.
            AccessPolicy(
                id: UUID.v7(at: clock.now.addingTimeInterval(0.002)), name: "Shared GPU pool: ops", kind: .ssh, hostLabel: "pool",
                hostSource: .pool, sshLogin: "ops", requesterRoles: ["requester", "approver", "tenant_admin"], maxSeconds: 2 * 3600,
                customerApprovals: 1, providerApprovals: 1, lapseSeconds: 8 * 3600),
        ]
        try database.inTenant(tenant) { tx in
            guard try tx.query("SELECT 1 FROM access_policies WHERE tenant_id = $1 LIMIT 1", [tenant]).isEmpty else { return }
            for policy in policies { try AccessPolicy.save(policy, tenant: tenant, at: clock.now, in: tx) }
        }
    }
}
