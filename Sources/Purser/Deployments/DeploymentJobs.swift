// The reconciler's job: one pending `deployment.reconcile` per deployment (unique key), its id kept
// on the deployment row (reconcile_job_id) as requests keep sla_job_id, enqueued or moved in the
// caller's transaction so a change that rolls back leaves no job behind.
import Foundation
import Postgres

public enum DeploymentJobs {
    public static let reconcileKind = "deployment.reconcile"

    public static func uniqueKey(_ deployment: UUID) -> String { "\(reconcileKind):\(deployment.postgresText)" }

    /// What the job carries.
    public struct Payload: Codable, Sendable {
        public let tenant: UUID
        public let deployment: UUID
    }

    /// Enqueues the deployment's reconcile job due at `at`, or moves the pending one there; keeps its
    /// id on the row.
    public static func enqueueReconcile(_ tx: Connection, tenant: UUID, deployment: UUID, at: Date) throws {
        let key = uniqueKey(deployment)
        if let id = try JobQueue.enqueue(
            tx, kind: reconcileKind, payload: try JSONText(encoding: Payload(tenant: tenant, deployment: deployment)),
            options: JobOptions(tenant: tenant, uniqueKey: key, runAt: at, maxAttempts: 20, timeout: 120))
        {
            try tx.query("UPDATE deployments SET reconcile_job_id = $3 WHERE tenant_id = $1 AND id = $2", [tenant, deployment, id])
        } else {
            try JobQueue.reschedule(tx, key: key, at: at)
        }
    }
}
