// Reading and setting a tenant's SLA policy. Only provider staff set one; each change is audited
// with the policy before and after. Requests already filed keep their clocks' targets; the new
// calendar counts their business time from the next change on.
import Foundation
import Postgres

public struct SLAPolicies: Sendable {
    let database: Database
    /// The time of day, for when a policy was set.
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// The policy in force for `tenant`, and whether it is the tenant's own (rather than inherited).
    public func effective(tenant: UUID) throws -> (policy: SLAPolicy, own: Bool) {
        try database.inTenant(tenant) { tx in
            let own = try !tx.query("SELECT 1 FROM sla_policies WHERE tenant_id = $1", [tenant]).isEmpty
            return (try RequestSLA.policy(tx, tenant: tenant), own)
        }
    }

    /// Sets the tenant's own policy (nil: back to the plan's).
    public func set(_ policy: SLAPolicy?, tenant: UUID, actor: AuditActor) throws {
        if let policy {
            let problems = policy.problems()
            if !problems.isEmpty { throw ValidationError(problems) }
        }
        try database.asStaff { tx in
            let now = clock.now
            let before = try tx.query("SELECT policy::text FROM sla_policies WHERE tenant_id = $1", [tenant]).first?.decode(
                0, as: String.self)
            if let policy {
                try tx.query(
                    """
                    INSERT INTO sla_policies (tenant_id, policy, updated_at) VALUES ($1, $2::jsonb, $3)
                    ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at
                    """, [tenant, try JSONText(encoding: policy), now])
            } else {
                try tx.query("DELETE FROM sla_policies WHERE tenant_id = $1", [tenant])
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "sla.policy_set",
                    targetType: "tenant", targetID: tenant.postgresText,
                    before: before.map(JSONText.init(_:)),
                    after: try policy.map { try JSONText(encoding: $0) }, at: now), in: tx)
        }
    }
}
