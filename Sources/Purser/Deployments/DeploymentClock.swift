// The deployment SLA clock of a deployment's linked request (docs/sla.md): it pauses while the
// deployment waits on the customer's own approvers (not while it waits for the provider's sign-off),
// and stops when the deployment goes live, without resolving the request, in the transaction that
// makes the change.
import Foundation
import Postgres

public enum DeploymentClock {
    /// The reconciler calls this in the transaction that sets `live`: the linked request's
    /// deployment clock stops; the request stays as it is.
    public static func reachedLive(_ tx: Connection, tenant: UUID, deployment: UUID, at now: Date) throws {
        guard let request = try linkedRequest(tx, tenant: tenant, deployment: deployment) else { return }
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in clocks.deploymentLive(at: now, policy: policy) }
    }

    /// The deployment ended without going live before anything rolled out (rejected, or aborted while
    /// waiting): its clock stops as it stands.
    static func ended(_ tx: Connection, tenant: UUID, request: UUID, at now: Date) throws {
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in clocks.deploymentLive(at: now, policy: policy) }
    }

    /// The deployment began or stopped waiting on the customer's own approvers.
    static func awaitingApprovers(_ tx: Connection, tenant: UUID, request: UUID, _ waiting: Bool, at now: Date) throws {
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in
            clocks.awaitingApprovers(waiting, at: now, policy: policy)
        }
    }

    static func linkedRequest(_ tx: Connection, tenant: UUID, deployment: UUID) throws -> UUID? {
        try tx.query("SELECT request_id FROM deployments WHERE tenant_id = $1 AND id = $2", [tenant, deployment]).first?.require(0)
    }
}
