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
        guard let person = try database.pool.query("SELECT staff_role FROM users WHERE id = $1 AND status = 'active'",
                                                   [user]).first else { return nil }
        let staffRole = try person.decode(0, as: String.self).flatMap(StaffRole.init(rawValue:))
        guard let tenant else { return staffRole.map { Principal(user: user, tenantRole: nil, staffRole: $0) } }
        let role = try database.inTenant(tenant) { tx in
            try tx.query("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND status = 'active'",
                         [tenant, user]).first?.decode(0, as: String.self)
        }
        guard let role = role.flatMap(CustomerRole.init(rawValue:)) else { return nil }
        return Principal(user: user, tenantRole: role, staffRole: staffRole, tenant: tenant)
    }
}
