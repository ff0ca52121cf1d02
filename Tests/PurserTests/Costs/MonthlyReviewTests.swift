import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Per-tenant schedules in the tenant's zone and the monthly cost review they run: the schedule made
/// with the tenant and moved with its time zone, firing at 00:05 local on the 1st, and the review
/// built from the rollups (spend by model, team and feature, the change, movers, hints), archived,
/// shown, and told once.
@Suite struct MonthlyReviewTests {
    @Test func monthlyRecurrenceFollowsTheZoneAcrossMonthEnds() {
        let schedule = Schedule(name: "m", kind: "k", recurrence: .monthly(day: 1, hour: 0, minute: 5, timeZone: "Europe/Zurich"))
        #expect(RFC3339.string(schedule.nextRun(after: RFC3339.date("2026-11-20T12:00:00Z")!)) == "2026-11-30T23:05:00.000Z")
        // Summer time: 00:05 in Zurich on 1 July is 22:05 UTC the day before.
        #expect(RFC3339.string(schedule.nextRun(after: RFC3339.date("2026-06-15T00:00:00Z")!)) == "2026-06-30T22:05:00.000Z")
        #expect(RFC3339.string(schedule.nextRun(after: RFC3339.date("2026-11-30T23:05:00Z")!)) == "2026-12-31T23:05:00.000Z")
    }

    @Test func theReviewIsScheduledInTheTenantsZoneBuiltArchivedAndToldOnce() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app, staff: true)
        let sql = try app.database.connect()
        let name = "costs.monthly_review:\(people.tenant.postgresText)"
        func schedule() throws -> (zone: String, next: String, day: Int) {
            let row = try sql.query("SELECT time_zone, next_run_at, month_day FROM job_schedules WHERE name = $1", [name])[0]
            return (try row.require(0), RFC3339.string(try row.require(1, as: Date.self)), try row.require(2))
        }
        // Made with the tenant (UTC), and moved when its zone changes.
        #expect(try schedule() == ("UTC", "2026-12-01T00:05:00.000Z", 1))
        let admin = try people.signedIn(
            "provider_admin@staff.test", in: app, totp: try people.enableSecondFactor("provider_admin@staff.test", in: app))
        let refused = try admin.post("/staff/tenants/acme/time-zone", [("time_zone", "Mars/Olympus")], from: "/staff/")
        #expect(refused.status == 422)
        #expect(try admin.post("/staff/tenants/acme/time-zone", [("time_zone", "Europe/Zurich")], from: "/staff/").status == 303)
        #expect(try schedule() == ("Europe/Zurich", "2026-11-30T23:05:00.000Z", 1))
        #expect(
            try sql.query("SELECT count(*) FROM jobs WHERE kind = 'usage.rollups_rebuild' AND tenant_id = $1", [people.tenant])[0]
                .require(0, as: Int.self) == 1)

        let fixture = try CostFixture(app)
        try fixture.spend(
            tenant: people.tenant, day: "2026-10-10", model: "gpt-4o", team: "search", feature: "chat", requests: 100, input: 50_000,
            output: 10_000, cost: 10_000_000)
        try fixture.spend(
            tenant: people.tenant, day: "2026-11-10", model: "gpt-4o", team: "search", feature: "chat", requests: 200, input: 100_000,
            output: 20_000, cached: 5_000, cost: 30_000_000)
        try fixture.spend(
            tenant: people.tenant, day: "2026-11-11", model: "gpt-4o-mini", team: "support", feature: "chat", requests: 300,
            input: 150_000, output: 30_000, cost: 1_000_000)

        // At 00:05 on 1 December in Zurich the schedule fires its job, which reviews November.
        clock.advance(by: RFC3339.date("2026-11-30T23:05:00Z")!.timeIntervalSince(clock.now))
        // As a worker fires it (a worker's connections see jobs of every tenant).
        let worker = Database(url: app.database.url, size: 1, worker: true)
        defer { worker.pool.close() }
        #expect(try Schedules.fireDue(worker, now: clock.now) >= 1)
        let payload = try sql.query("SELECT payload::text FROM jobs WHERE kind = 'costs.monthly_review'")[0].require(0, as: String.self)
        #expect(payload.contains(people.tenant.postgresText))
        let review = try MonthlyReviewJob.run(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test")
        #expect(review.month == "2026-11-01")
        #expect(review.totalMicros == 31_000_000)
        #expect(review.previousMicros == 10_000_000)
        #expect(review.change == "+210.0 %")
        #expect(review.movers.first.map { "\($0.dimension) \($0.key) \($0.change)" } == "feature chat 21000000")
        #expect(review.hints.count == 2)
        #expect(review.hints[0].hasPrefix("2.0 % of input tokens were cached repeats"))
        #expect(review.hints[1].hasPrefix("40.0 % of short prompts"))
        #expect(review.hints[1].contains("gpt-4o)"))
        // Built again (the job retried): archived once, told once.
        _ = try MonthlyReviewJob.run(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test")
        #expect(try sql.query("SELECT count(*) FROM cost_reviews")[0].require(0, as: Int.self) == 1)
        let told = try sql.query(
            "SELECT subject FROM notification_deliveries WHERE event = 'cost.monthly_review' AND tenant_id = $1", [people.tenant])
        #expect(try told.map { try $0.require(0, as: String.self) } == ["Cost review for 2026-11: 31.00 USD"])

        let viewer = try people.signedIn("viewer@acme.test", in: app)
        let archive = try viewer.get("/t/acme/costs/reviews")
        #expect(archive.status == 200)
        #expect(archive.text.contains("/t/acme/costs/reviews/2026-11"))
        let page = try viewer.get("/t/acme/costs/reviews/2026-11")
        #expect(page.status == 200)
        #expect(page.text.contains("31.00 USD"))
        #expect(page.text.contains("+210.0 %"))
        #expect(page.text.contains("40.0 % of short prompts"))
        // The archive is as built: it says when, since later usage or re-rating reaches only the report.
        #expect(page.text.contains("Built 2026-11-30 23:05 UTC"))
        #expect(try viewer.get("/t/acme/costs/reviews/2026-10").status == 404)
        #expect(try viewer.get("/t/acme/costs/reviews/nonsense").status == 404)
    }
}
