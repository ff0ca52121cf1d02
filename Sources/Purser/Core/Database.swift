// The database as features use it: pooled connections working as purser_app, and transactions that
// name their tenant, so row-level security shows each transaction only that tenant's rows.
import Foundation
import Postgres

public struct Database: Sendable {
    /// The role every pooled connection works as. It owns no tables, so row-level security applies.
    public static let applicationRole = "purser_app"

    public let pool: ConnectionPool
    /// What this node's transactions notify, for this node's caches at once (LocalNoticeRelay).
    let localNotices = LocalNoticeRelay()
    /// Reads that a streaming replica may serve (ReplicaReads.swift); nil without DATABASE_REPLICA_URL.
    public internal(set) var replica: ReplicaReads?
    /// Set in every transaction of this value beside its own: a routed read is READ ONLY (ReplicaReads.swift).
    var transactionSettings: [(name: String, value: String)] = []

    /// A pool whose work runs as the application role. A worker's pool (`worker: true`) also sees
    /// every job, whatever its tenant (`purser.worker`). Triggers raise their notices for this node
    /// only where `purser.local_notices` is on (migration 0017); they are NOTICEs, so a role or database
    /// set to send fewer messages would silence them. In session mode the role and settings are set
    /// once per connection; in transaction mode (behind PgBouncer) with every BEGIN, and the pool runs
    /// every statement in a transaction (ConnectionPool.withConnection).
    public init(url: String, size: Int, worker: Bool = false, mode: PoolMode = .session) {
        let relay = localNotices
        pool = ConnectionPool(
            url: url, size: size, mode: mode, role: Database.applicationRole,
            settings: [("purser.local_notices", "on"), ("client_min_messages", "notice")] + (worker ? [("purser.worker", "on")] : []),
            localNotifications: { notifications, overflowed in relay.deliver(notifications, overflowed: overflowed) })
    }

    /// One transaction in which tenant-owned tables show and accept only `tenant`'s rows.
    @discardableResult
    public func inTenant<T>(_ tenant: UUID, _ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: transactionSettings + [("purser.tenant_id", tenant.postgresText)], body)
    }

    /// The role staff transactions work as: purser_app's privileges, and a policy on every
    /// tenant-owned table that lets every row through (migration 0010 says why).
    public static let staffRole = "purser_staff"

    /// One transaction for provider staff, whose policy reaches across tenants. Callers check the
    /// staff member's permission first; this only opens the wall for the transaction.
    @discardableResult
    public func asStaff<T>(_ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: transactionSettings + [("purser.staff", "on"), ("role", Self.staffRole)], body)
    }

    /// One transaction that sees the memberships of `user` in every tenant (to list their tenants).
    @discardableResult
    public func asUser<T>(_ user: UUID, _ body: (Connection) throws -> T) throws -> T {
        try pool.transaction(settings: transactionSettings + [("purser.user_id", user.postgresText)], body)
    }
}
