// Liveness and readiness for load balancers and orchestrators.
import HTTPServer
import Postgres

enum HealthRoutes {
    static func register(in routes: inout RouteTable, pool: ConnectionPool, migrator: Migrator, readiness: Readiness) {
        let schemaSeenCurrent = Locked(false)
        // Answered on the I/O thread without touching the database: it must answer while queries are slow.
        routes.everyone(
            .get, .healthz, options: .inline,
            operation: Operation(
                id: "getHealth", summary: "Liveness: 200 while the process runs.", tags: ["operations"],
                responses: [.init(200, "The process is alive.", component: status)])
        ) { _ in
            Response(status: .ok, contentType: "application/json", body: alive)
        }
        routes.everyone(
            .get, .readyz,
            operation: Operation(
                id: "getReadiness", summary: "Readiness: 200 when the database answers and migrations are current.",
                tags: ["operations"],
                responses: [
                    .init(200, "Ready to serve.", component: status),
                    .problem(503, "The database is unreachable, migrations are pending, or the node is draining."),
                ])
        ) { _ in
            // A draining node still serves what it is sent; this tells the load balancer to stop sending.
            if readiness.isDraining {
                throw HTTPError(.serviceUnavailable, detail: "This node is draining before it stops.")
            }
            let current: Bool
            do {
                // Migrations only move forward: once this node has seen its own migrations applied it
                // asks only that the database answers, instead of reading every checksum each time.
                if schemaSeenCurrent.withLock({ $0 }) {
                    current = try pool.withConnection { try requireWritable($0) }
                } else {
                    current = try pool.withConnection { try requireWritable($0) && migrator.isCurrent($0) }
                    if current { schemaSeenCurrent.withLock { $0 = true } }
                }
            } catch let error as PostgresError where error.kind == .server && !error.isConnectionLoss {
                // The server answered: schema_migrations is missing or not yet readable by the
                // application role, which the first migrations create.
                current = false
            } catch {
                throw HTTPError(
                    .serviceUnavailable, detail: "No database that accepts writes is answering.",
                    headers: HTTPHeaders([("Retry-After", "5")]))
            }
            guard current else {
                throw HTTPError(
                    .serviceUnavailable, detail: "Migrations are pending: run `purser migrate`.",
                    headers: HTTPHeaders([("Retry-After", "5")]))
            }
            return Response(status: .ok, contentType: "application/json", body: Array(#"{"status":"ready"}"#.utf8))
        }
    }

    /// A standby, or a primary demoted by failover, answers reads and refuses writes: not ready.
    /// Thrown as the server's own refusal (25006), so the pool drops the connection and the next one
    /// looks for the primary (a multi-host DATABASE_URL with target_session_attrs=read-write).
    static func requireWritable(_ connection: Connection) throws -> Bool {
        let readOnly = try connection.query("SELECT current_setting('transaction_read_only')")[0].require(0, as: String.self)
        guard readOnly == "off" else {
            throw PostgresError(kind: .server, sqlState: "25006", message: "the database is read-only (a standby or demoted primary)")
        }
        return true
    }

    static let alive = Array(#"{"status":"ok"}"#.utf8)

    static let status = SchemaComponent(
        "Status",
        schema: [
            "type": "object", "required": ["status"], "properties": ["status": ["type": "string", "enum": ["ok", "ready"]]],
        ])
}
