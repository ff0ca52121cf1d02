// Approval policies as stored, per tenant and environment (approval_policies); an environment
// without a row uses ApprovalPolicy.standard.
import Foundation
import Postgres

public enum ApprovalPolicies {
    public static func policy(_ tx: Connection, tenant: UUID, environment: UUID) throws -> ApprovalPolicy {
        guard
            let row = try tx.query(
                """
                SELECT required_approvals, approver_roles, provider_signoff, reset_on_change, validity_seconds, promotion_gate_seconds
                FROM approval_policies WHERE tenant_id = $1 AND environment_id = $2
                """, [tenant, environment]
            ).first
        else { return .standard }
        return ApprovalPolicy(
            requiredApprovals: try row.require(0),
            approverRoles: try row.require(1, as: [String].self).compactMap(CustomerRole.init(rawValue:)),
            providerSignoff: try row.require(2), resetOnChange: try row.require(3),
            validity: TimeInterval(try row.require(4, as: Int.self)), promotionGate: TimeInterval(try row.require(5, as: Int.self)))
    }

    /// Sets the environment's policy, audited with before and after.
    /// The longest validity or promotion gate: a year.
    public static let longest: TimeInterval = 365 * 86400

    public static func set(
        _ tx: Connection, _ policy: ApprovalPolicy, tenant: UUID, environment: UUID, by person: UUID?, actor: AuditActor, at now: Date
    ) throws {
        if policy.requiredApprovals < 0 || policy.requiredApprovals > 10 {
            throw ValidationError(field: "required_approvals", "between 0 and 10")
        }
        if policy.approverRoles.isEmpty { throw ValidationError(field: "approver_roles", "name at least one role") }
        // Both are stored as whole seconds: beyond a year (or not finite) they would not convert.
        if !(policy.validity >= 1 && policy.validity <= Self.longest) {
            throw ValidationError(field: "validity_seconds", "1 second to 365 days")
        }
        if !(policy.promotionGate >= 0 && policy.promotionGate <= Self.longest) {
            throw ValidationError(field: "promotion_gate_seconds", "0 seconds to 365 days")
        }
        let before = try self.policy(tx, tenant: tenant, environment: environment)
        try tx.query(
            """
            INSERT INTO approval_policies (tenant_id, environment_id, required_approvals, approver_roles, provider_signoff,
                                           reset_on_change, validity_seconds, promotion_gate_seconds, updated_by, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (tenant_id, environment_id) DO UPDATE SET required_approvals = $3, approver_roles = $4,
                provider_signoff = $5, reset_on_change = $6, validity_seconds = $7, promotion_gate_seconds = $8,
                updated_by = $9, updated_at = $10
            """,
            [
                tenant, environment, policy.requiredApprovals, policy.approverRoles.map(\.rawValue), policy.providerSignoff,
                policy.resetOnChange, Int(policy.validity), Int(policy.promotionGate), person, now,
            ])
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "approval_policy.set", targetType: "environment",
                targetID: environment.postgresText, before: try JSONText(encoding: summary(before)),
                after: try JSONText(encoding: summary(policy)), at: now), in: tx)
    }

    static func summary(_ policy: ApprovalPolicy) -> [String: String] {
        [
            "required_approvals": String(policy.requiredApprovals),
            "approver_roles": policy.approverRoles.map(\.rawValue).joined(separator: ","),
            "provider_signoff": String(policy.providerSignoff), "reset_on_change": String(policy.resetOnChange),
            "validity_seconds": String(Int(policy.validity)), "promotion_gate_seconds": String(Int(policy.promotionGate)),
        ]
    }
}
