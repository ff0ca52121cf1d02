// Two `purser work` processes on one database: a schedule fires once per period however many
// workers look at it, and a worker SIGKILLed in the middle of a batch of mail loses nothing —
// its claims run out (PURSER_JOB_LEASE_SECONDS=2) and the other worker takes them; each delivery
// is recorded delivered once. Mail sent in the instant before the kill and not yet recorded is
// sent again (at least once, as for any external effect), only for jobs the killed worker held,
// under the same Message-ID so the receiver can tell.
import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.enabled(if: TestEnvironment.scaleRun), .serialized) struct NodesJobsScaleTests {
    @Test func aScheduleFiresOncePerPeriodWithTwoWorkers() throws {
        let database = try TestDatabase()
        let db = Database(url: database.url, size: 2, worker: true)
        defer { db.pool.close() }
        try db.pool.transaction { tx in
            try Schedules.ensure(Schedule(name: "nodes.tick", kind: "system.noop", recurrence: .every(seconds: 1)), in: tx, now: Date())
        }
        let nodes = try PurserNodes(databaseURL: database.url, serve: 0, work: 2)
        defer { nodes.stopAll() }
        func fired() throws -> [String] {
            try db.pool.query("SELECT unique_key FROM jobs WHERE unique_key LIKE 'schedule:nodes.tick:%' ORDER BY id").map {
                try $0.require(0, as: String.self)
            }
        }
        // Both workers look for due schedules every 0.67 s (a third of the lease): six periods.
        let enough = try waitUntil(20) { try fired().count >= 6 }
        #expect(enough, "\(nodes.logs)")
        nodes.stopAll()
        let keys = try fired()
        #expect(Set(keys).count == keys.count, "each period once: \(keys)")
        let due = keys.compactMap { $0.split(separator: ":").last.flatMap { Int64($0) } }.sorted()
        #expect(zip(due, due.dropFirst()).allSatisfy { $1 - $0 >= 1000 }, "no period fired twice: \(due)")
        let ran = try db.pool.query(
            "SELECT count(*) FROM jobs WHERE unique_key LIKE 'schedule:nodes.tick:%' AND state = 'succeeded' AND attempts = 1"
        )[0].require(0, as: Int.self)
        #expect(ran >= keys.count - 2, "each fired job ran once (the last ones may still have been waiting): \(ran) of \(keys.count)")
    }

    @Test func aWorkerKilledMidLoadLosesNoJobAndRepeatsNoRecordedEffect() throws {
        let seed = try TestApp()
        let people = try People(seed, slug: "acme")
        let mail = try MailSink()
        let nodes = try PurserNodes(
            databaseURL: seed.database.url, serve: 0, work: 2,
            environment: ["SMTP_URL": mail.server.url + "?tls=none", "PURSER_JOB_BATCH_SIZE": "4"])
        defer { nodes.stopAll() }
        let victim = nodes.workers[0]
        let owner = try #require(
            victim.line(containing: #""message":"working""#).flatMap { WebVisitor.firstMatch(#""owner":"([^"]+)""#, in: $0) })
        let count = 200
        try seed.app.database.inTenant(people.tenant) { tx in
            for index in 0..<count {
                try Outbox.email(
                    tx, tenant: people.tenant, to: "n\(index)@acme.test",
                    message: NotificationMessage(event: "membership.invited", subject: "Message \(index)", text: "Number \(index)"),
                    at: Date())
            }
        }
        let db = try seed.database.connect()
        func scalar(_ sql: String) throws -> Int { try db.query(sql)[0].require(0, as: Int.self) }
        let delivered = "SELECT count(*) FROM notification_deliveries WHERE state = 'delivered'"
        func held() throws -> Set<Int64> {
            Set(try db.query("SELECT id FROM jobs WHERE lease_owner = $1 AND state = 'running'", [owner]).map { try $0.require(0) })
        }
        // Mid-load: some mail out, and the victim holding claims.
        let midway = try waitUntil(30) { try scalar(delivered) >= count / 5 && !held().isEmpty }
        victim.stop(signal: SIGKILL)
        let killed = ContinuousClock.now
        #expect(midway, "\(nodes.logs)")
        let deliveredAtKill = try scalar(delivered)
        // What the victim held, until the other worker takes it over when the leases run out (a
        // claim the victim sent just before it died may commit a moment after).
        var claims = Set<Int64>()
        let takenOver = try waitUntil(10) {
            let now = try held()
            claims.formUnion(now)
            return now.isEmpty
        }
        #expect(takenOver && !claims.isEmpty && claims.count <= 2 * 4, "at most its two threads' batches of 4: \(claims)")
        let done = try waitUntil(60) { try scalar(delivered) == count }
        let recovery = ContinuousClock.now - killed
        let deliveredInTheEnd = try scalar(delivered)
        #expect(done, "\(deliveredInTheEnd) of \(count) delivered: \(nodes.logs)")
        #expect(try scalar("SELECT count(*) FROM jobs WHERE kind = 'notify.deliver' AND state <> 'succeeded'") == 0)
        #expect(try scalar("SELECT count(*) FROM notification_attempts WHERE outcome = 'delivered'") == count, "recorded once each")
        let rerun = Set(
            try db.query("SELECT id FROM jobs WHERE kind = 'notify.deliver' AND attempts > 1").map { try $0.require(0, as: Int64.self) })
        #expect(rerun.isSubset(of: claims), "only the killed worker's claims ran again: \(rerun) of \(claims)")

        let received = try mail.names().map { try #require(WebVisitor.firstMatch(#"Message-ID: <([^@>]+)@"#, in: mail.raw($0))) }
        let ids = try db.query("SELECT id FROM notification_deliveries").map { try $0.require(0, as: UUID.self).postgresText }
        #expect(Set(received) == Set(ids), "every delivery arrived")
        let repeated = received.count - Set(received).count
        #expect(repeated <= claims.count, "sent again only for claims of the killed worker: \(repeated)")
        print(
            "nodes: worker SIGKILLed with \(claims.count) claims at \(deliveredAtKill)/\(count) delivered; all delivered \(recovery) after the kill; "
                + "\(rerun.count) jobs ran again, \(repeated) messages sent twice")
    }
}
