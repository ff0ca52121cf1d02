import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /staff/jobs: counts, dead jobs with their errors, retry and cancel — audited, and only for
/// those who may manage jobs.
@Suite struct JobPagesTests {
    @Test func deadJobsCanBeSeenRetriedAndCancelled() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let db = app.database.pooled(size: 1, worker: true)
        defer { db.pool.close() }
        let (dead, other) = try db.pool.transaction { tx in
            (
                try JobQueue.enqueue(tx, kind: "notify.email", options: JobOptions(runAt: app.app.world.now))!,
                try JobQueue.enqueue(tx, kind: "notify.email", options: JobOptions(runAt: app.app.world.now))!
            )
        }
        try db.pool.query(
            """
            UPDATE jobs SET state = 'dead', attempts = 10, last_error = 'smtp: 550 no such user', finished_at = $1
            """, [app.app.world.now])
        let engineer = try people.signedIn(
            "platform_engineer@staff.test", in: app,
            totp: try people.enableSecondFactor("platform_engineer@staff.test", in: app))
        let page = try engineer.get("/staff/jobs")
        #expect(page.status == 200)
        #expect(page.text.contains("smtp: 550 no such user") && page.text.contains("notify.email"))
        #expect(try engineer.post("/staff/jobs/\(dead)/retry", [], from: "/staff/jobs").status == 200)
        let retried = try db.pool.query("SELECT state, attempts FROM jobs WHERE id = $1", [dead])[0]
        #expect(try retried.require(0, as: String.self) == "queued" && retried.require(1, as: Int.self) == 0)
        #expect(try engineer.post("/staff/jobs/\(other)/cancel", [], from: "/staff/jobs").status == 200)
        #expect(try db.pool.query("SELECT count(*) FROM jobs WHERE id = $1", [other])[0].require(0, as: Int.self) == 0)
        let audited = try app.database.connect().query("SELECT action FROM audit_events WHERE action LIKE 'job.%' ORDER BY sequence")
            .map { try $0.require(0, as: String.self) }
        #expect(audited == ["job.retry", "job.cancel"])
        #expect(try engineer.get("/admin/jobs").header("Location") == "/staff/jobs")

        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(try cse.get("/staff/jobs").status == 403)
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/staff/jobs").status == 404)
    }
}
