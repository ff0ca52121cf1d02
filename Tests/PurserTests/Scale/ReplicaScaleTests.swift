import Foundation
import HTTPServer
import Postgres
import Purser
import TestSupport
import Testing

/// Reports and the requests list read from a real streaming replica (ReplicaPair: its own primary,
/// `pg_basebackup -R`, streaming over a Unix socket), within the lag bound; past it, and when the
/// replica is gone, from the primary; a person's own writes from the primary at once; and row-level
/// security on the replica as on the primary.
@Suite(.enabled(if: TestEnvironment.scaleRun)) struct ReplicaScaleTests {
    /// `purser_db_reads_total` by reason, from the node's /metrics.
    static func reads(_ app: TestApp) throws -> [String: Int] {
        let text = try app.client.get(app.metricsURL + "/metrics").text
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("purser_db_reads_total{") {
            guard let reason = WebVisitor.firstMatch(#"reason="([a-z_]+)""#, in: String(line)),
                let value = line.split(separator: " ").last.flatMap({ Int($0) })
            else { continue }
            counts[reason] = value
        }
        return counts
    }

    static func file(_ subject: String, by browser: WebVisitor) throws {
        let response = try browser.post(
            "/t/acme/requests", [("subject", subject), ("type", "question"), ("priority", "P3")], from: "/t/acme/requests/new")
        #expect(response.status == 303, "filing \(subject)")
    }

    @Test func readsGoToTheReplicaWithinTheBoundAndToThePrimaryOtherwise() throws {
        let started = ContinuousClock.now
        let pair = try ReplicaPair()
        let setUp = ContinuousClock.now - started
        // The World's clock stands at the real time of day, so replay timestamps compare with it.
        let clock = SettableClock(Date())
        let settings: (inout Configuration) -> Void = {
            $0.databaseReplicaURL = pair.replicaURL
            $0.replicaMaxLagSeconds = 10
            $0.readOwnWritesSeconds = 30
        }
        let app = try TestApp(database: TestDatabase(existing: pair.primaryURL, name: "purser"), clock: clock, configure: settings)
        // A second node of the same Purser: the marker travels with the browser, not with a node.
        let otherNode = try TestApp(database: app.database, clock: clock, configure: settings)
        let acme = try People(app, slug: "acme")
        let globex = try People(app, slug: "globex")
        let requester = try acme.signedIn("requester@acme.test", in: app)
        let reader = try acme.signedIn("viewer@acme.test", in: app)
        let outsider = try globex.signedIn("viewer@globex.test", in: app)

        // Streamed and replayed: the reader's list and reports come from the replica.
        try Self.file("Filed before the pause", by: requester)
        let filed = ContinuousClock.now
        #expect(try waitUntil(10) { try pair.replicaCaughtUp() })
        let replicated = ContinuousClock.now - filed
        var before = try Self.reads(app)
        #expect(try reader.get("/t/acme/requests").text.contains("Filed before the pause"))
        #expect(try reader.get("/t/acme/reports/sla").status == 200)
        #expect(try reader.get("/t/acme/reports/sla.csv").status == 200)
        #expect(try reader.get("/t/acme/costs").status == 200)
        var after = try Self.reads(app)
        #expect(after["replica", default: 0] - before["replica", default: 0] == 4, "\(before) → \(after)")

        // Replay paused: the replica falls behind. The writer reads their own request from the
        // primary at once; the reader, within the bound, still gets the replica's older list.
        try pair.pauseReplay()
        try Self.file("Filed while replay is paused", by: requester)
        #expect(requester.cookies["purser_primary_until"] != nil)
        before = try Self.reads(app)
        #expect(try requester.get("/t/acme/requests").text.contains("Filed while replay is paused"))
        let stale = try reader.get("/t/acme/requests").text
        #expect(stale.contains("Filed before the pause") && !stale.contains("Filed while replay is paused"))
        after = try Self.reads(app)
        #expect(after["own_writes", default: 0] - before["own_writes", default: 0] == 1)
        #expect(after["replica", default: 0] - before["replica", default: 0] == 1)
        #expect(try requester.at(otherNode.baseURL).get("/t/acme/requests").text.contains("Filed while replay is paused"))
        #expect(try !reader.at(otherNode.baseURL).get("/t/acme/requests").text.contains("Filed while replay is paused"))
        #expect(try Self.reads(otherNode) == ["replica": 1, "own_writes": 1, "lagging": 0, "unavailable": 0])

        // Past the bound (its last replayed commit more than 10 s ago by the clock): the primary
        // serves the reader, who now sees the new request, once the lag is measured again (≤ 1 s).
        clock.advance(by: Date().timeIntervalSince(clock.now) + 11)
        #expect(try waitUntil(10) { try reader.get("/t/acme/requests").text.contains("Filed while replay is paused") })
        #expect(try Self.reads(app)["lagging", default: 0] >= 1)
        let lagText = try app.client.get(app.metricsURL + "/metrics").text
        let lagShown = WebVisitor.firstMatch(#"purser_replica_lag_seconds ([0-9.]+)"#, in: lagText) ?? "none"
        let lag = Double(lagShown) ?? 0
        #expect(lag > 10, "lag on /metrics: \(lagShown)")

        // Replay resumed: the replica catches up and serves reads again.
        try pair.resumeReplay()
        #expect(try waitUntil(10) { try pair.replicaCaughtUp() })
        before = try Self.reads(app)
        #expect(
            try waitUntil(10) {
                try reader.get("/t/acme/requests").text.contains("Filed while replay is paused")
                    && Self.reads(app)["replica", default: 0] > before["replica", default: 0]
            })

        // Row-level security on the replica: another tenant's person sees none of acme's requests,
        // tenant and staff settings reach the replica's transactions, and they are READ ONLY.
        before = try Self.reads(app)
        let theirs = try outsider.get("/t/globex/requests")
        #expect(theirs.status == 200 && !theirs.text.contains("Filed before the pause") && !theirs.text.contains("Filed while replay"))
        let anonymous = Request(method: .get, path: "/t/acme/requests")
        let counts = try app.app.database.reading(for: anonymous, at: clock.now) { db in
            let count = "SELECT count(*)::int FROM requests"
            return (
                try db.inTenant(globex.tenant) { try $0.query(count).first!.require(0, as: Int.self) },
                try db.inTenant(acme.tenant) { try $0.query(count).first!.require(0, as: Int.self) },
                try db.asStaff { try $0.query(count).first!.require(0, as: Int.self) }
            )
        }
        #expect(counts == (0, 2, 2))
        do {
            try app.app.database.reading(for: anonymous, at: clock.now) { db in
                try db.inTenant(acme.tenant) { try $0.execute("UPDATE requests SET subject = 'changed on a replica'") }
            }
            Issue.record("a routed read wrote")
        } catch let error as PostgresError {
            #expect(error.sqlState == "25006", "\(error)")
        }
        after = try Self.reads(app)
        #expect(after["replica", default: 0] - before["replica", default: 0] == 2, "\(before) → \(after)")

        // The replica gone: reads go on from the primary.
        try pair.stopReplica()
        before = try Self.reads(app)
        let list = try reader.get("/t/acme/requests")
        #expect(list.status == 200 && list.text.contains("Filed while replay is paused"))
        #expect(try reader.get("/t/acme/reports/sla.csv").status == 200)
        after = try Self.reads(app)
        #expect(after["unavailable", default: 0] - before["unavailable", default: 0] == 2, "\(before) → \(after)")

        print(
            "replica figures: pair set up (initdb, migrate, pg_basebackup) in \(setUp); a filed request replayed on the replica "
                + "within \(replicated); test total \(ContinuousClock.now - started)")
    }
}
