// People who follow a request: they hear of its public replies as the requester does.
import Foundation
import Postgres

public struct RequestWatchers: Sendable {
    let database: Database
    /// The time of day, for the audit of who started or stopped watching.
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Starts (`watching`) or stops `user` watching; audited, as done by `actor`, when it changes anything.
    public func set(_ watching: Bool, user: UUID, request: UUID, tenant: UUID, actor: AuditActor) throws {
        try database.inTenant(tenant) { tx in
            let changed =
                watching
                ? try tx.query(
                    """
                    INSERT INTO request_watchers (tenant_id, request_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
                    """, [tenant, request, user]
                ).affected
                : try tx.query(
                    "DELETE FROM request_watchers WHERE tenant_id = $3 AND request_id = $1 AND user_id = $2", [request, user, tenant]
                ).affected
            guard changed == 1 else { return }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor,
                    action: watching ? "request.watch" : "request.unwatch", targetType: "request",
                    targetID: request.postgresText, at: clock.now), in: tx)
        }
    }

    /// The watchers' ids and names, by name.
    public func list(request: UUID, tenant: UUID) throws -> [(id: UUID, name: String)] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT u.id, u.name FROM request_watchers w JOIN users u ON u.id = w.user_id WHERE w.tenant_id = $2 AND w.request_id = $1 ORDER BY u.name
                """, [request, tenant]
            ).map { (try $0.require(0), try $0.require(1)) }
        }
    }
}
