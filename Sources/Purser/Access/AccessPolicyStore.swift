// Access policies written one change at a time, as the API does: made, changed field by field
// against the version the caller read (If-Match), and archived instead of deleted (access requests
// and grants keep pointing at their policy, and the history shows its name). Every write is
// audited in its transaction. Naming the provider's shared pool is the provider's decision: only
// someone who manages providers makes a pool policy or changes its hosts.
import Foundation
import Postgres

/// A change to an archived policy.
public struct AccessPolicyArchived: DomainError {
    public let name: String
    public var refusal: Refusal { .conflict }
    public var detail: String? { "The access policy \(name) is archived; make a new one." }
}

/// The policy changed since the version the caller read.
public struct AccessPolicyChanged: DomainError {
    public let current: String
    public var refusal: Refusal { .changedSince }
    public var detail: String? { "The access policy changed since you read it (now \(current)); read it again and reapply your change." }
}

extension AccessStore {
    public func policy(_ id: UUID, tenant: UUID) throws -> AccessPolicy? {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT \(AccessPolicy.columns) FROM access_policies WHERE tenant_id = $2 AND id = $1", [id, tenant]).first.map(
                AccessPolicy.decode)
        }
    }

    /// Changes `id` by `change` (the current policy in, the changed one out), if its ETag is still
    /// `ifMatch` (nil: whatever it is); audited with the fields before and after.
    public func updatePolicy(
        _ id: UUID, tenant: UUID, ifMatch: String?, principal: Principal, actor: AuditActor, _ change: (AccessPolicy) throws -> AccessPolicy
    ) throws -> AccessPolicy {
        try database.inTenant(tenant) { tx in
            let now = clock.now
            guard let before = try Self.lockedPolicy(id, in: tx) else { throw NotFound() }
            if let ifMatch, !IfMatch.admits(ifMatch, current: before.etag) { throw AccessPolicyChanged(current: before.etag) }
            if before.archivedAt != nil { throw AccessPolicyArchived(name: before.name) }
            var after = try change(before)
            (after.id, after.version, after.archivedAt) = (before.id, before.version, nil)
            let problems = after.problems()
            if !problems.isEmpty { throw ValidationError(problems) }
            try Self.checkPoolWrite(before: before, after: after, principal: principal)
            try AccessPolicy.save(after, tenant: tenant, at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "access.policy_save", targetType: "access_policy", targetID: id.postgresText,
                    before: try JSONText(encoding: Self.audited(before)), after: try JSONText(encoding: Self.audited(after)), at: now),
                in: tx)
            return try Self.lockedPolicy(id, in: tx)!
        }
    }

    /// Archives `id`: asked under no more, listed no more, kept for the history. Audited.
    public func archivePolicy(_ id: UUID, tenant: UUID, ifMatch: String?, actor: AuditActor) throws {
        try database.inTenant(tenant) { tx in
            let now = clock.now
            guard let before = try Self.lockedPolicy(id, in: tx) else { throw NotFound() }
            if let ifMatch, !IfMatch.admits(ifMatch, current: before.etag) { throw AccessPolicyChanged(current: before.etag) }
            if before.archivedAt != nil { throw AccessPolicyArchived(name: before.name) }
            try tx.query(
                """
                UPDATE access_policies SET archived_at = $2, enabled = false, updated_at = $2, version = version + 1
                WHERE tenant_id = $3 AND id = $1
                """, [id, now, tenant])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "access.policy_archive", targetType: "access_policy", targetID: id.postgresText,
                    before: try JSONText(encoding: Self.audited(before)), at: now), in: tx)
        }
    }

    static func lockedPolicy(_ id: UUID, in tx: Connection) throws -> AccessPolicy? {
        try tx.query("SELECT \(AccessPolicy.columns) FROM access_policies WHERE id = $1 FOR UPDATE", [id]).first.map(AccessPolicy.decode)
    }

    /// Naming the provider's pool (a new pool policy, or a pool policy's hosts changed, or a policy
    /// moved to or from the pool) needs providers.manage: a tenant cannot give itself the pool.
    static func checkPoolWrite(before: AccessPolicy?, after: AccessPolicy, principal: Principal) throws {
        let touchesPool = before?.hostSource == .pool || after.hostSource == .pool
        let hostsChanged = before?.hostSource != after.hostSource || before?.hostLabels != after.hostLabels
        if touchesPool && hostsChanged && !principal.can(.providersManage) {
            throw AccessRefused(
                "pool_by_provider",
                "Only the provider's admins (providers.manage) name the provider's pool hosts in a policy or change which ones it names.")
        }
    }

    /// What the audit trail keeps of a policy.
    static func audited(_ policy: AccessPolicy) -> [String: String] {
        [
            "name": policy.name, "target": policy.target, "enabled": String(policy.enabled), "max_seconds": String(policy.maxSeconds),
            "requester_roles": policy.requesterRoles.sorted().joined(separator: ","),
            "customer_approvals": String(policy.customerApprovals), "provider_approvals": String(policy.providerApprovals),
            "approver_roles": policy.approverRoles.sorted().joined(separator: ","), "link_required": policy.linkRequired.rawValue,
            "business_hours_only": String(policy.businessHoursOnly),
            "break_glass_roles": policy.breakGlassRoles.sorted().joined(separator: ","),
            "permit_port_forwarding": String(policy.permitPortForwarding),
            "source_addresses": policy.sourceAddresses.joined(separator: ","), "force_command": policy.forceCommand ?? "",
        ]
    }
}
