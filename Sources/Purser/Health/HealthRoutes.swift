// Liveness and readiness for load balancers and orchestrators.
import HTTPServer
import Postgres

enum HealthRoutes {
    static func register(in routes: inout RouteTable, pool: ConnectionPool, migrator: Migrator) {
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
                    .problem(503, "The database is unreachable or migrations are pending."),
                ])
        ) { _ in
            let current: Bool
            do {
                // Migrations only move forward: once this node has seen its own migrations applied it
                // asks only that the database answers, instead of reading every checksum each time.
                if schemaSeenCurrent.withLock({ $0 }) {
                    current = try pool.withConnection { try $0.query("SELECT 1") }.count == 1
                } else {
                    current = try pool.withConnection { try migrator.isCurrent($0) }
                    if current { schemaSeenCurrent.withLock { $0 = true } }
                }
            } catch let error as PostgresError where error.kind == .server {
                // The server answered: schema_migrations is missing or not yet readable by the
                // application role, which the first migrations create.
                current = false
            } catch {
                throw HTTPError(
                    .serviceUnavailable, detail: "The database is not answering.",
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

    static let alive = Array(#"{"status":"ok"}"#.utf8)

    static let status = SchemaComponent(
        "Status",
        schema: [
            "type": "object", "required": ["status"], "properties": ["status": ["type": "string", "enum": ["ok", "ready"]]],
        ])
}
