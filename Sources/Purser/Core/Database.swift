// The database as features use it: pooled connections working as purser_app, and transactions that
// name their tenant, so row-level security shows each transaction only that tenant's rows.
import Foundation
import Postgres

public struct Database: Sendable {
    /// The role every pooled connection works as. It owns no tables, so row-level security applies.
    public static let applicationRole = "purser_app"

    public let pool: ConnectionPool

    /// A pool whose connections switch to the application role before first use. A worker's pool
    /// (`worker: true`) also sees every job, whatever its tenant (`purser.worker` for the session).
    public init(url: String, size: Int, worker: Bool = false) {
        pool = ConnectionPool(url: url, size: size) { connection in
            try connection.execute("SET ROLE \(Database.applicationRole)" + (worker ? "; SET purser.worker = 'on'" : ""))
        }
    }

    /// One transaction in which tenant-owned tables show and accept only `tenant`'s rows.
    @discardableResult
    public func inTenant<T>(_ tenant: UUID, _ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: [("purser.tenant_id", tenant.postgresText)], body)
    }

    /// The role staff transactions work as: purser_app's privileges, and a policy on every
    /// tenant-owned table that lets every row through (migration 0010 says why).
    public static let staffRole = "purser_staff"

    /// One transaction for provider staff, whose policy reaches across tenants. Callers check the
    /// staff member's permission first; this only opens the wall for the transaction.
    @discardableResult
    public func asStaff<T>(_ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: [("purser.staff", "on"), ("role", Self.staffRole)], body)
    }

    /// One transaction that sees the memberships of `user` in every tenant (to list their tenants).
    @discardableResult
    public func asUser<T>(_ user: UUID, _ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: [("purser.user_id", user.postgresText)], body)
    }
}
