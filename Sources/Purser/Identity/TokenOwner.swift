// Who a new API token would speak for, read before it is made: the owner's role in the token's
// tenant (a customer), or their staff role (a staff token, bound to no tenant). The scopes offered
// and accepted come from this principal, so a token never carries more than its owner.
import Foundation
import Postgres

public enum TokenOwner {
    /// The principal a token of `user` bound to `tenant` (nil: a staff token) would have, or nil when
    /// such a token could never speak: a customer's token names a tenant they are an active member
    /// of, and only staff hold a token bound to no tenant.
    public static func principal(user: UUID, tenant: UUID?, database: Database) throws -> Principal? {
        if let tenant { return try database.inTenant(tenant) { try principal(user: user, tenant: tenant, in: $0) } }
        return try database.pool.transaction { try principal(user: user, tenant: nil, in: $0) }
    }

    /// The same, read in `tx` (a transaction of `tenant`, whose memberships it must see).
    static func principal(user: UUID, tenant: UUID?, in tx: Connection) throws -> Principal? {
        guard let person = try tx.query("SELECT staff_role FROM users WHERE id = $1 AND status = 'active'", [user]).first
        else { return nil }
        let staffRole = try person.decode(0, as: String.self).flatMap(StaffRole.init(rawValue:))
        guard let tenant else { return staffRole.map { Principal(user: user, tenantRole: nil, staffRole: $0) } }
        let role = try tx.query(
            "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND status = 'active'",
            [tenant, user]
        ).first?.decode(0, as: String.self)
        guard let role = role.flatMap(CustomerRole.init(rawValue:)) else { return nil }
        return Principal(user: user, tenantRole: role, staffRole: staffRole, tenant: tenant)
    }

    /// Refuses, as a form message on `scopes` (or `tenant`), a token its owner could not hold: one
    /// bound where they hold no role, or with a scope their role there cannot use. Every token is
    /// made through `TokenStore.create`, which asks this in the transaction that writes it.
    static func check(user: UUID, tenant: UUID?, scopes: [Scope], in tx: Connection) throws {
        guard let owner = try principal(user: user, tenant: tenant, in: tx) else {
            throw ValidationError(
                field: "tenant",
                tenant == nil
                    ? "only staff hold a token bound to no tenant: name the tenant"
                    : "the owner is not an active member of this tenant")
        }
        if let beyond = scopes.first(where: { !$0.isUsable(with: owner.permissions) }) {
            let needs = beyond.permissions.map(\.rawValue).sorted().joined(separator: " or ")
            throw ValidationError(
                field: "scopes",
                "the owner's role cannot use \(beyond.rawValue) (it needs \(needs)); usable: "
                    + owner.usableScopes.map(\.rawValue).joined(separator: ", "))
        }
        // Approving is a sensitive act: a page asks for a session that passed a second factor, so a
        // token that approves is made only for a person who has one.
        if scopes.contains(.approvalsWrite),
            try tx.query("SELECT 1 FROM users WHERE id = $1 AND totp_enabled_at IS NOT NULL", [user]).isEmpty
        {
            throw ValidationError(
                field: "scopes", "approvals:write needs a second factor: set one up on the account page first")
        }
    }
}
