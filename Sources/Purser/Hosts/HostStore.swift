// GPU hosts, read and written for a tenant (row-level security shows its own hosts) or by staff
// (every tenant's and the shared pool's). Every change is audited and bumps the row's version;
// a change of state to draining or back to active enqueues the hosts.drain job that tells the host.
import Foundation
import Postgres

public struct HostStore: Sendable {
    /// Whose hosts: one tenant's, or (staff) all of them.
    public enum Reach: Sendable, Equatable {
        case tenant(UUID)
        case staff
    }

    let database: Database
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// A transaction of the host's tenant (nil: the provider's), as a worker writes its audit and notices.
    static func transaction<T>(for tenant: UUID?, in database: Database, _ body: (Connection) throws -> T) throws -> T {
        if let tenant { return try database.inTenant(tenant, body) }
        return try database.pool.transaction(body)
    }

    func transaction<T>(_ reach: Reach, _ body: (Connection) throws -> T) throws -> T {
        switch reach {
        case .tenant(let tenant): try database.inTenant(tenant, body)
        case .staff: try database.asStaff(body)
        }
    }

    /// Hosts by name, a page at a time after `after` (a name; keyset). Staff see every tenant's
    /// hosts and the pool's; `poolOnly` keeps the pool's.
    public func list(_ reach: Reach, after: String? = nil, limit: Int = 100, poolOnly: Bool = false) throws -> [GPUHost] {
        try transaction(reach) { tx in
            try tx.query(
                """
                SELECT \(GPUHost.columns) FROM \(GPUHost.from)
                WHERE ($1::text IS NULL OR (coalesce(t.slug, ''), h.name) > (split_part($1, '/', 1), split_part($1, '/', 2)))
                  AND (NOT $2 OR h.tenant_id IS NULL)
                ORDER BY coalesce(t.slug, ''), h.name LIMIT $3
                """, [after, poolOnly, limit]
            ).map(GPUHost.init(row:))
        }
    }

    /// The cursor after `host` in `list`'s order.
    public static func cursor(after host: GPUHost) -> String { (host.tenantSlug ?? "") + "/" + host.name }

    public func find(_ id: UUID, _ reach: Reach) throws -> GPUHost {
        guard let host = try transaction(reach, { try Self.find(id, in: $0) }) else { throw NotFound() }
        return host
    }

    static func find(_ id: UUID, in tx: Connection, lock: Bool = false) throws -> GPUHost? {
        try tx.query("SELECT \(GPUHost.columns) FROM \(GPUHost.from) WHERE h.id = $1\(lock ? " FOR UPDATE OF h" : "")", [id]).first.map(
            GPUHost.init(row:))
    }

    /// Adds a host to `tenant` (nil: the shared pool, staff only).
    public func create(_ input: HostInput, tenant: UUID?, actor: AuditActor) throws -> GPUHost {
        let values = try input.checkedForCreate()
        let now = clock.now
        let id = UUID.v7(at: now)
        return try transaction(tenant.map { .tenant($0) } ?? .staff) { tx in
            do {
                try tx.query(
                    """
                    INSERT INTO gpu_hosts (tenant_id, id, name, address, ssh_port, ssh_login, host_keys, labels, gpus, runtime, models,
                                           created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $12)
                    """,
                    [
                        tenant, id, values.name!, values.address!, values.sshPort ?? 22, values.sshLogin ?? "purser", values.hostKeys!,
                        values.labels ?? [], try JSONText(encoding: values.gpus ?? []), values.runtime!.rawValue, values.models ?? [],
                        now,
                    ])
            } catch let error as PostgresError where error.sqlState == "23505" {
                throw ValidationError(field: "name", "a host of this name exists here", refusal: .conflict)
            }
            let host = try Self.find(id, in: tx)!
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "host.created", targetType: "host", targetID: id.postgresText,
                    after: try JSONText(encoding: Self.audited(host)), at: now), in: tx)
            return host
        }
    }

    /// Changes the fields sent; `ifMatch` (an ETag) refuses a change to a version since moved on.
    /// Draining or undraining enqueues hosts.drain in the same transaction.
    public func update(_ id: UUID, _ input: HostInput, reach: Reach, ifMatch: String?, actor: AuditActor) throws -> GPUHost {
        let values = try input.checkedForChange()
        let now = clock.now
        return try transaction(reach) { tx in
            guard let before = try Self.find(id, in: tx, lock: true) else { throw NotFound() }
            if let ifMatch, !IfMatch.admits(ifMatch, current: before.etag) { throw StaleVersion(current: before.etag) }
            var after = before
            if let name = values.name { after.name = name }
            if let address = values.address { after.address = address }
            if let port = values.sshPort { after.sshPort = port }
            if let login = values.sshLogin { after.sshLogin = login }
            if let keys = values.hostKeys { after.hostKeys = keys }
            if let labels = values.labels { after.labels = labels }
            if let gpus = values.gpus { after.gpus = gpus }
            if let runtime = values.runtime { after.runtime = runtime }
            if let models = values.models { after.models = models }
            var drain: HostDrain.Action?
            if let state = values.state, state != before.state {
                if state == .draining { drain = .drain }
                // Undraining a host that is down waits for its health check to find it answering.
                if state == .active { drain = .undrain }
                after.state = before.state == .down && state == .active ? .down : state
            }
            do {
                try tx.query(
                    """
                    UPDATE gpu_hosts SET name = $2, address = $3, ssh_port = $4, ssh_login = $5, host_keys = $6, labels = $7,
                        gpus = $8::jsonb, runtime = $9, models = $10, state = $11, updated_at = $12, version = version + 1,
                        drain_wanted = coalesce($13::boolean, drain_wanted)
                    WHERE id = $1
                    """,
                    [
                        id, after.name, after.address, after.sshPort, after.sshLogin, after.hostKeys, after.labels,
                        try JSONText(encoding: after.gpus), after.runtime.rawValue, after.models, after.state.rawValue, now,
                        drain.map { $0 == .drain },
                    ])
            } catch let error as PostgresError where error.sqlState == "23505" {
                throw ValidationError(field: "name", "a host of this name exists here", refusal: .conflict)
            }
            if let drain { try HostDrain.enqueue(tx, host: id, tenant: before.tenant, action: drain, at: now) }
            let changed = try Self.find(id, in: tx)!
            try AuditLog.record(
                AuditEvent(
                    tenant: before.tenant, actor: actor, action: drain.map { "host.\($0.rawValue)_requested" } ?? "host.updated",
                    targetType: "host", targetID: id.postgresText, before: try JSONText(encoding: Self.audited(before)),
                    after: try JSONText(encoding: Self.audited(changed)), at: now), in: tx)
            return changed
        }
    }

    /// What the audit log keeps of a host (its keys by fingerprint would do; the lines are public).
    static func audited(_ host: GPUHost) -> [String: String] {
        [
            "name": host.name, "address": host.address, "ssh_port": String(host.sshPort), "ssh_login": host.sshLogin,
            "host_keys": host.hostKeys.joined(separator: "\n"), "labels": host.labels.joined(separator: ","),
            "runtime": host.runtime.rawValue, "models": host.models.joined(separator: ","), "state": host.state.rawValue,
            "gpus": host.gpus.map { "\($0.count)x \($0.model) \($0.memoryMiB) MiB" }.joined(separator: ", "),
        ]
    }
}
