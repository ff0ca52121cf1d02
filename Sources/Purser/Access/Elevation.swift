// Portal role elevation: a grant of kind `role` gives its person the role's permissions in one
// tenant for the grant's window, on top of whatever they hold — memberships are never touched, so
// no session or token ends. Principal counts an elevation only in its tenant and only while the
// World's time of the request lies inside the window, so it ends on the second without a job.
// Elevations are read with the visitor (WebAuth) and with the token (TokenStore); a grant made or
// ended notifies every node (the visitor_changed trigger on access_grants, migration 0026).
import Foundation
import Postgres

public struct Elevation: Sendable, Equatable {
    public let tenant: UUID
    /// A customer role, or (staff only) a staff role.
    public let role: String
    public let startsAt: Date
    public let endsAt: Date

    public init(tenant: UUID, role: String, startsAt: Date, endsAt: Date) {
        self.tenant = tenant
        self.role = role
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// The role's permissions; none for a role name Purser does not know.
    public var permissions: Set<Permission> {
        if let role = CustomerRole(rawValue: role) { return role.permissions }
        if let role = StaffRole(rawValue: role) { return role.permissions }
        return []
    }

    /// Whether it counts at `moment`: started, and not yet ended (the end is the first second without it).
    public func holds(at moment: Date) -> Bool { startsAt <= moment && moment < endsAt }

    /// The live and coming elevations of `user` at `now`, read in `tx` (which sees the person's own
    /// grants through `purser.user_id`, or is a tenant's or staff transaction). A staff role is
    /// kept only for staff (a customer is never elevated to one); tenant_admin only for someone
    /// with a second factor.
    static func load(user: UUID, isStaff: Bool, hasSecondFactor: Bool, at now: Date, in tx: Connection) throws -> [Elevation] {
        try tx.query(
            """
            SELECT tenant_id, role, starts_at, ends_at FROM access_grants
            WHERE user_id = $1 AND state = 'active' AND kind = 'role' AND ends_at > $2 ORDER BY ends_at
            """, [user, now]
        ).map { row in
            Elevation(tenant: try row.require(0), role: try row.require(1), startsAt: try row.require(2), endsAt: try row.require(3))
        }.filter { elevation in
            if AccessRules.staffRoles.contains(elevation.role) && !isStaff { return false }
            if elevation.role == CustomerRole.tenantAdmin.rawValue && !hasSecondFactor { return false }
            return true
        }
    }

    /// The same for a token's owner, read in a transaction of its own (TokenStore's load).
    static func load(user: UUID, at now: Date, database: Database) throws -> [Elevation] {
        try database.asUser(user) { tx in
            guard
                let person = try tx.query(
                    "SELECT staff_role IS NOT NULL, totp_enabled_at IS NOT NULL FROM users WHERE id = $1", [user]
                ).first
            else { return [] }
            return try load(
                user: user, isStaff: try person.require(0), hasSecondFactor: try person.require(1), at: now, in: tx)
        }
    }
}
