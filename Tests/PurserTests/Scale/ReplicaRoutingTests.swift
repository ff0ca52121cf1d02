import Foundation
import HTTPServer
import Postgres
import Purser
import TestSupport
import Testing

/// Routed reads without a real replica (ReplicaScaleTests has one): the settings, READ ONLY on the
/// primary, a "replica" that is not a standby never serving, and the read-your-writes marker.
@Suite struct ReplicaRoutingTests {
    @Test func settingsAreReadAndChecked() {
        let root = TestEnvironment.root
        let (config, problems) = Configuration.load(
            environment: [
                "DATABASE_REPLICA_URL": "postgresql:///purser?host=/tmp/replica", "PURSER_REPLICA_MAX_LAG_SECONDS": "5",
                "PURSER_READ_OWN_WRITES_SECONDS": "60",
            ], root: root)
        #expect(problems.isEmpty)
        #expect(config.databaseReplicaURL == "postgresql:///purser?host=/tmp/replica")
        #expect(config.replicaMaxLagSeconds == 5 && config.readOwnWritesSeconds == 60)
        let (defaults, _) = Configuration.load(environment: [:], root: root)
        #expect(defaults.databaseReplicaURL == nil && defaults.replicaMaxLagSeconds == 10 && defaults.readOwnWritesSeconds == 30)
        let (_, bad) = Configuration.load(
            environment: ["DATABASE_REPLICA_URL": "replica:5432", "PURSER_REPLICA_MAX_LAG_SECONDS": "0"], root: root)
        #expect(bad.count == 2, "\(bad)")
    }

    /// Without a replica a routed read is the primary's, READ ONLY; a configured "replica" that is
    /// not a standby (here the primary itself) never serves, and writes by a signed-in person
    /// set the marker that keeps their reads on the primary.
    @Test func readsFallBackToThePrimaryReadOnlyAndWritesSetTheMarker() throws {
        let plain = try TestApp()
        let people = try People(plain, slug: "acme")
        let anonymous = Request(method: .get, path: "/t/acme/requests")
        #expect(plain.app.database.replica == nil)
        do {
            try plain.app.database.reading(for: anonymous, at: plain.app.world.now) { db in
                try db.inTenant(people.tenant) { try $0.execute("UPDATE users SET name = name") }
            }
            Issue.record("a routed read wrote")
        } catch let error as PostgresError {
            #expect(error.sqlState == "25006", "\(error)")
        }
        let browser = try people.signedIn("requester@acme.test", in: plain)
        #expect(
            try browser.post(
                "/t/acme/requests", [("subject", "No replica here"), ("type", "question"), ("priority", "P3")],
                from: "/t/acme/requests/new"
            ).status == 303)
        #expect(browser.cookies["purser_primary_until"] == nil, "no marker without a replica")

        let routed = try TestApp(database: plain.database) { $0.databaseReplicaURL = plain.database.url }
        let health = try #require(routed.app.database.replica?.health())
        #expect(!health.usable && health.lagSeconds == nil && health.reason == "not_standby")
        let writer = try people.signedIn("requester@acme.test", in: routed)
        let filed = try writer.post(
            "/t/acme/requests", [("subject", "Marked"), ("type", "question"), ("priority", "P3")], from: "/t/acme/requests/new")
        #expect(filed.status == 303)
        let until = try #require(filed.headerValues("Purser-Primary-Until").first.flatMap { Int($0) })
        #expect(until == Int(routed.app.world.now.timeIntervalSince1970) + 30)
        #expect(writer.cookies["purser_primary_until"] == String(until))
        #expect(try writer.get("/t/acme/requests").text.contains("Marked"))
        let reader = try people.signedIn("viewer@acme.test", in: routed)
        #expect(reader.cookies["purser_primary_until"] == nil, "signing in is no write of theirs")
        let list = try reader.get("/t/acme/requests")
        #expect(list.text.contains("Marked"), "\(list.status) \(list.text.prefix(2000))")
        // An API client sends the header back; one that has run out counts for nothing.
        let now = routed.app.world.now
        for header in [String(until), String(Int(now.timeIntervalSince1970))] {
            let call = Request(method: .get, path: "/api/v1/reports/sla", headers: HTTPHeaders([("Purser-Primary-Until", header)]))
            try routed.app.database.reading(for: call, at: now) { _ in }
        }
        let metrics = try routed.client.get(routed.metricsURL + "/metrics").text
        #expect(metrics.contains(#"purser_db_reads_total{pool="primary",reason="own_writes"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"purser_db_reads_total{pool="primary",reason="unavailable"} 2"#))
        #expect(metrics.contains(#"purser_db_reads_total{pool="replica",reason="replica"} 0"#))
        #expect(metrics.contains("purser_replica_usable 0"))
        #expect(metrics.contains(#"purser_replica_pool_connections{state="idle"} 1"#), "the one that measured")
    }
}
