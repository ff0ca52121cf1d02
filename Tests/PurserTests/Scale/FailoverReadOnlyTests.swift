// What a node does when its database stops taking writes but keeps answering — a standby, or a
// primary demoted by failover (SQLSTATE 25006) — without a failover group: the test's own database
// made read-only for new sessions, and Purser's sessions ended so that it reconnects to it. Writes
// answer 503 (never 500), /readyz answers 503, and once the database takes writes again both
// recover without a restart: the pool dropped the read-only connections. Runs in `make test`.
import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct FailoverReadOnlyTests {
    @Test func aReadOnlyDatabaseIsNotReadyAndWritesComeBackWhenItTakesWritesAgain() throws {
        let app = try TestApp()
        let people = try People(app, slug: "readonly")
        let token = try people.requestsToken("requester@readonly.test", tenant: people.tenant, in: app)
        func file() throws -> ClientResponse {
            try app.send(
                "POST", "/api/v1/requests", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(#"{"subject": "Still writable?", "type": "question", "priority": "P4"}"#.utf8))
        }
        #expect(try file().status == 201)
        #expect(try app.get("/readyz").status == 200)

        let admin = try app.database.connect()
        try admin.execute("ALTER DATABASE \(app.database.name) SET default_transaction_read_only = on")
        try admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        #expect(try app.get("/readyz").status == 503)
        let refused = try file()
        #expect(refused.status == 503 && refused.header("Retry-After") != nil, "\(refused.status) \(refused.text)")

        try admin.execute("ALTER DATABASE \(app.database.name) RESET default_transaction_read_only")
        #expect(try app.get("/readyz").status == 200)
        #expect(try file().status == 201)
    }

    @Test func aMultiHostURLIsAcceptedAndReadOnlyCountsAsConnectionLoss() {
        let url = "postgresql://purser@10.0.0.1:5432,10.0.0.2:5432/purser?target_session_attrs=read-write&connect_timeout=2"
        let (configuration, problems) = Configuration.load(environment: ["DATABASE_URL": url])
        #expect(problems.isEmpty, "\(problems)")
        #expect(configuration.databaseURL == url)
        #expect(PostgresError(kind: .server, sqlState: "25006", message: "read-only").isConnectionLoss)
        #expect(!PostgresError(kind: .server, sqlState: "23505", message: "duplicate").isConnectionLoss)
    }
}
