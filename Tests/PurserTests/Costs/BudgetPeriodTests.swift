import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A custom budget period that repeats: every 14 days from its first day, in the tenant's zone. It
/// rolls over at local midnight on the day after its last, spend starts again, each threshold fires
/// once per period and the owner's e-mail reaches a real SMTP server each time; a month cannot be
/// marked repeating, and a one-off custom period still ends.
@Suite(.serialized) struct BudgetPeriodTests {
    @Test func theNthRepetitionHoldsTheDay() throws {
        var budget = Budget(
            id: UUID(), tenant: UUID(), name: "sprint", scope: .tenant, scopeValue: "", amountMicros: 1, currency: "USD",
            period: .custom, startsOn: LocalDate("2026-12-07"), endsOn: LocalDate("2026-12-20"), thresholds: [100], owners: [],
            version: 1)
        func period(_ day: String) -> String? {
            budget.currentPeriod(today: LocalDate(day)!).map { "\($0.from)…\($0.to)" }
        }
        #expect(period("2026-12-21") == nil, "a one-off period ends")
        budget.repeats = true
        #expect(budget.repeatDays == 14)
        #expect(period("2026-12-06") == nil, "not before its first day")
        #expect(period("2026-12-07") == "2026-12-07…2026-12-20")
        #expect(period("2026-12-20") == "2026-12-07…2026-12-20")
        #expect(period("2026-12-21") == "2026-12-21…2027-01-03")
        #expect(period("2027-02-28") == "2027-02-15…2027-02-28")
        #expect(period("2027-03-01") == "2027-03-01…2027-03-14")
        // Across February of a leap year: days, not months.
        budget.startsOn = LocalDate("2028-02-20")
        budget.endsOn = LocalDate("2028-02-29")
        #expect(period("2028-03-01") == "2028-03-01…2028-03-10")
    }

    @Test func aRepeatingPeriodRollsOverAndItsThresholdsFireOncePerPeriod() throws {
        let (mail, clock, app, people) = try CostFixture.mailingApp()
        let token = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "ops", scopes: [.budgetsWrite, .costsRead],
            lifetime: 90 * 86400, actor: .system
        ).token
        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let response = try app.send(
                method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) })
            return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
        }
        // A month cannot be "repeating": it says why, by field.
        let (refused, problem) = try call("POST", "/api/v1/budgets", #"{"name": "M", "amount": "10", "repeats": true}"#)
        #expect(refused == 422)
        #expect(((problem["errors"] as? [[String: Any]])?.first?["field"]) as? String == "repeats")
        // Two-week sprints from Monday 16 November.
        let (made, sprint) = try call(
            "POST", "/api/v1/budgets",
            #"{"name": "Sprint", "amount": "100", "period": "custom", "starts_on": "2026-11-16", "ends_on": "2026-11-29", "#
                + #""repeats": true, "thresholds": [50, 100]}"#)
        #expect(made == 201)
        #expect(sprint["repeats"] as? Bool == true)
        let id = try #require(UUID(uuidString: sprint["id"] as? String ?? ""))

        let fixture = try CostFixture(app)
        func evaluate() throws -> [Int] {
            try BudgetChecks.evaluate(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.bank.test")
                .map(\.level)
        }
        func status() throws -> BudgetStatus { try BudgetStatus.load(app.app.database, tenant: people.tenant, id: id, now: clock.now) }
        try fixture.spend(tenant: people.tenant, day: "2026-11-15", model: "gpt-4o", cost: 90_000_000)  // before the first sprint
        try fixture.spend(tenant: people.tenant, day: "2026-11-18", model: "gpt-4o", cost: 55_000_000)
        #expect(try status().spendMicros == 55_000_000)
        #expect(try evaluate() == [50])
        #expect(try evaluate() == [], "once per period")

        // 30 Nov 04:59 UTC is still the 29th in New York: the first sprint. At 05:00 the second begins, with no spend.
        clock.advance(by: RFC3339.date("2026-11-30T04:59:00Z")!.timeIntervalSince(clock.now))
        #expect(try status().period?.from.description == "2026-11-16")
        clock.advance(by: 60)
        let second = try status()
        #expect(second.period.map { "\($0.from)…\($0.to)" } == "2026-11-30…2026-12-13")
        #expect(second.spendMicros == 0)
        let answer = try call("GET", "/api/v1/budgets/\(id.postgresText)/status")
        #expect(answer.1["period_from"] as? String == "2026-11-30", "\(answer)")
        #expect(try evaluate() == [])
        try fixture.spend(tenant: people.tenant, day: "2026-11-30", model: "gpt-4o", cost: 100_000_000)
        #expect(try evaluate() == [50, 100], "the new period's thresholds fire afresh")
        #expect(try evaluate() == [])

        // And the third, 14 days later.
        clock.advance(by: 14 * 86400)
        #expect(try status().period?.from.description == "2026-12-14")
        try fixture.spend(tenant: people.tenant, day: "2026-12-14", model: "gpt-4o", cost: 50_000_000)
        #expect(try evaluate() == [50])
        let fired = try BudgetStore(database: app.app.database, clock: clock).alerts(tenant: people.tenant, budget: id).map {
            "\($0.periodStart) \($0.level)"
        }
        #expect(fired == ["2026-12-14 50", "2026-11-30 100", "2026-11-30 50", "2026-11-16 50"])

        // Each fired threshold is mailed to the owner through the SMTP server.
        let worker = try app.startWorker()
        defer { worker.stop() }
        // Wait for the mails asked about, not for a count: other notices may arrive first.
        var subjectOf: [String: String] = [:]
        func subjects() -> [String] {
            for name in mail.names() where subjectOf[name] == nil { subjectOf[name] = (try? mail.parsed(name)["subject"]) ?? "" }
            return Array(subjectOf.values)
        }
        #expect(
            waitUntil(20) {
                let seen = subjects()
                return seen.filter { $0 == "Budget Sprint reached 50 %" }.count >= 3
                    && seen.contains("Budget Sprint exceeded: 100 % reached")
            })
        let mailed = subjects()
        #expect(mailed.filter { $0 == "Budget Sprint reached 50 %" }.count == 3, "\(mailed)")
        #expect(mailed.contains("Budget Sprint exceeded: 100 % reached"))
        let texts = try mail.names().compactMap { try mail.parsed($0)["text"] }
        #expect(texts.contains { $0.contains("from 2026-11-30 to 2026-12-13") })

        // The page says it repeats.
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/t/acme/costs").text.contains("repeating every 14 days"))
    }
}
