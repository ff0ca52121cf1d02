import Foundation
import HTTPServer
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct EndpointTests {
    @Test func healthAndReadinessAnswerWhenAllIsWell() throws {
        let app = try TestApp()
        let health = try app.get("/healthz")
        #expect(health.status == 200)
        #expect(health.text == #"{"status":"ok"}"#)
        let ready = try app.get("/readyz")
        #expect(ready.status == 200)
    }

    @Test func readinessFailsWhileMigrationsArePending() throws {
        let empty = try TestDatabase(migrated: false)
        let connection = try empty.connect()
        let files = try MigrationFile.load(from: TestEnvironment.root.appendingPathComponent("migrations"))
        try connection.execute(
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        let app = try TestApp(database: empty)
        let ready = try app.get("/readyz")
        #expect(ready.status == 503)
        #expect(ready.header("Content-Type") == "application/problem+json")
        #expect(ready.text.contains("Migrations are pending"))
        try Migrator(files: files).migrate(connection)
        #expect(try app.get("/readyz").status == 200)
        #expect(try app.get("/healthz").status == 200)
    }

    @Test func readinessFailsWhenTheDatabaseIsGone() throws {
        let database = try TestDatabase()
        let app = try TestApp(database: database) { $0.poolSize = 1 }
        #expect(try app.get("/readyz").status == 200)
        let admin = try Connection(url: try TestEnvironment.adminURL())
        try admin.query("ALTER DATABASE \(database.name) WITH ALLOW_CONNECTIONS false")
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [database.name])
        let ready = try app.get("/readyz")
        #expect(ready.status == 503)
        #expect(ready.header("Retry-After") == "5")
        #expect(try app.get("/healthz").status == 200, "liveness does not depend on the database")
        try admin.query("ALTER DATABASE \(database.name) WITH ALLOW_CONNECTIONS true")
        #expect(try app.get("/readyz").status == 200, "the pool reconnects")
    }

    @Test func metricsAreServedOnlyOnTheirOwnAddress() throws {
        let app = try TestApp()
        _ = try app.get("/healthz")
        _ = try app.get("/no/such/page")
        #expect(try app.get("/metrics").status == 404)
        let metrics = try app.client.get(app.metricsURL + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = metrics.text
        #expect(text.contains(#"http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
        #expect(text.contains(#"route="unmatched""#), "unknown paths share one series")
        #expect(!text.contains("/no/such/page"))
        #expect(text.contains("http_request_duration_seconds_bucket"))
        #expect(text.contains(#"purser_db_pool_connections{state="idle"}"#))
        #expect(text.contains("purser_db_pool_waiters"))
        #expect(text.contains("purser_http_worker_backlog 0"))
        #expect(text.contains(#"purser_build_info{version=""#))
    }

    @Test func apiErrorsAreProblemsAndPageErrorsArePages() throws {
        let app = try TestApp()
        let api = try app.get("/api/v1/nothing")
        #expect(api.status == 404)
        #expect(api.header("Content-Type") == "application/problem+json")
        let page = try app.get("/nothing")
        #expect(page.status == 404)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.text.contains("<main id=\"main\">"))
        #expect(page.text.contains("Not Found"))
        #expect(page.text.contains(try #require(page.header("X-Request-Id"))))
    }

    @Test func theHomePageUsesTheLayoutAndItsStylesheet() throws {
        let app = try TestApp()
        let home = try app.get("/")
        #expect(home.status == 200)
        #expect(home.text.contains("<html lang=\"en\">"))
        #expect(home.text.contains("/api/openapi.json"))
        let stylesheet = try #require(home.text.firstMatch(of: /href="(\/static\/css\/purser\.[0-9a-f]+\.css)"/)?.1)
        let css = try app.get(String(stylesheet))
        #expect(css.status == 200)
        #expect(css.header("Cache-Control")?.contains("immutable") == true)
        #expect(!home.text.contains("<script>"), "no inline script")
    }

    @Test func theDatabaseErrorMappingMakesConflictsAnd503s() throws {
        let mapping = DatabaseErrorMapping()
        let request = HTTPServer.Request(method: .post, path: "/api/v1/x")
        func status(of error: PostgresError) -> Int? {
            do {
                _ = try mapping.handle(request) { _ in throw error }
                return nil
            } catch let mapped as HTTPServer.HTTPError {
                return mapped.status.rawValue
            } catch {
                return nil
            }
        }
        #expect(status(of: PostgresError(kind: .server, sqlState: "23505", message: "dup")) == 409)
        #expect(status(of: PostgresError(kind: .server, sqlState: "23514", message: "check")) == 422)
        #expect(status(of: PostgresError(kind: .poolTimeout, message: "busy")) == 503)
        #expect(status(of: PostgresError(kind: .server, sqlState: "42P01", message: "bug")) == nil, "a bug stays a 500")
    }
}
