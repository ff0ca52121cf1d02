import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Budgets end to end on a clock the test moves: made through the page, each threshold firing once
/// per period as spend arrives, the owner's e-mail reaching a real SMTP server, the period rolling
/// over at the tenant's local midnight with spend starting again, and the status a gateway reads.
@Suite(.serialized) struct BudgetTests {
    @Test func thresholdsFireOncePerPeriodMailTheOwnerAndRollOver() throws {
        let (mail, clock, app, people) = try CostFixture.mailingApp()
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        // A bad amount is a form message, not a budget.
        let refused = try admin.post(
            "/t/acme/costs/budgets", [("name", "Platform"), ("amount", "12.3456789"), ("thresholds", "70, 90, 100")], from: "/t/acme/costs")
        #expect(refused.status == 422)
        #expect(refused.text.contains("at most six decimals"))
        let made = try admin.post(
            "/t/acme/costs/budgets", [("name", "Platform"), ("scope", "tenant"), ("amount", "100.00"), ("period", "month")],
            from: "/t/acme/costs")
        #expect(made.status == 303)
        let store = BudgetStore(database: app.app.database, clock: clock)
        let budget = try #require(try store.list(tenant: people.tenant).first)
        #expect(budget.thresholds == [70, 90, 100])
        #expect(budget.owners == [people.id("tenant_admin@acme.test")])
        // Saved by someone else meanwhile: the form again as it is now, with a message, not an error page.
        let path = "/t/acme/costs/budgets/\(budget.id.postgresText)"
        let fields = [("name", "Platform"), ("scope", "tenant"), ("amount", "100.00"), ("period", "month"), ("thresholds", "70, 90, 100")]
        #expect(try admin.post(path, fields + [("version", "1")], from: path).status == 303)
        let stale = try admin.post(path, fields + [("version", "1")], from: path)
        #expect(stale.status == 409)
        #expect(stale.text.contains("Someone changed this budget") && stale.text.contains(#"name="version" value="2""#))
        // The CSV of a query that cannot run names its fields, as the API does.
        let badCSV = try admin.get("/t/acme/costs.csv?from=2026-13-01&group_by=colour")
        #expect(badCSV.status == 422 && badCSV.header("Content-Type") == "application/problem+json")
        #expect(badCSV.text.contains(#""field":"from""#) && badCSV.text.contains(#""field":"group_by""#), "\(badCSV.text)")

        let fixture = try CostFixture(app)
        func evaluate() throws -> [Int] {
            try BudgetChecks.evaluate(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.bank.test")
                .map(\.level)
        }
        try fixture.spend(tenant: people.tenant, day: "2026-11-03", model: "gpt-4o", cost: 60_000_000)
        #expect(try evaluate() == [])
        try fixture.spend(tenant: people.tenant, day: "2026-11-19", model: "gpt-4o", cost: 15_000_000)
        #expect(try evaluate() == [70])
        #expect(try evaluate() == [], "a threshold fires once per period")
        try fixture.spend(tenant: people.tenant, day: "2026-11-20", model: "gpt-4o", cost: 26_000_000)
        #expect(try evaluate() == [90, 100])

        // The gateway's view: exceeded, with exact figures.
        let token = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "gateway", scopes: [.costsRead], lifetime: 3600,
            actor: .system
        ).token
        let status = try app.get("/api/v1/budgets/\(budget.id.postgresText)/status", headers: [("Authorization", "Bearer \(token)")])
        #expect(status.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        #expect(body["spend"] as? String == "101.00")
        #expect(body["exceeded"] as? Bool == true)
        #expect(body["reached"] as? [Int] == [70, 90, 100])
        #expect(body["period_from"] as? String == "2026-11-01")

        // The owner's mail reaches the SMTP server: one per level (100 % as "exceeded").
        let worker = try app.startWorker()
        defer { worker.stop() }
        #expect(waitUntil(20) { mail.names().count >= 3 })
        let subjects = try mail.names().map { try mail.parsed($0)["subject"] ?? "" }.sorted()
        #expect(subjects == ["Budget Platform exceeded: 100 % reached", "Budget Platform reached 70 %", "Budget Platform reached 90 %"])
        let first = try mail.parsed(mail.names()[0])
        #expect(first["to"]?.contains("tenant_admin@acme.test") == true)
        #expect(first["text"]?.contains("https://purser.bank.test/t/acme/costs#budgets") == true)

        // 1 Dec 04:59 UTC is still November in New York; at 05:00 the period rolls over and spend starts again.
        clock.advance(by: RFC3339.date("2026-12-01T04:59:00Z")!.timeIntervalSince(clock.now))
        #expect(try BudgetStatus.load(app.app.database, tenant: people.tenant, id: budget.id, now: clock.now).spendMicros == 101_000_000)
        clock.advance(by: 60)
        let december = try BudgetStatus.load(app.app.database, tenant: people.tenant, id: budget.id, now: clock.now)
        #expect(december.period?.from.description == "2026-12-01")
        #expect(december.spendMicros == 0)
        #expect(try evaluate() == [])
        try fixture.spend(tenant: people.tenant, day: "2026-12-01", model: "gpt-4o", cost: 72_000_000)
        #expect(try evaluate() == [70], "the new period's thresholds fire afresh")
        let fired = try store.alerts(tenant: people.tenant, budget: budget.id).map { "\($0.periodStart) \($0.level)" }
        #expect(fired == ["2026-12-01 70", "2026-11-01 100", "2026-11-01 90", "2026-11-01 70"])
        #expect(waitUntil(20) { mail.names().count >= 4 })
    }

    @Test func teamAndKeyBudgetsReadTheirOwnSpendAndTheAPIManagesThem() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        let fixture = try CostFixture(app)
        try fixture.spend(tenant: people.tenant, day: "2026-11-02", model: "gpt-4o", team: "search", key: "gw-search", cost: 5_000_000)
        try fixture.spend(tenant: people.tenant, day: "2026-11-02", model: "gpt-4o", team: "support", key: "gw-support", cost: 7_000_000)
        let admin = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "ops", scopes: [.budgetsWrite, .costsRead],
            lifetime: 3600, actor: .system
        ).token
        let viewer = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "gw", scopes: [.costsRead], lifetime: 3600, actor: .system
        ).token
        func call(_ method: String, _ path: String, _ token: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let response = try app.send(
                method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) })
            return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
        }
        let (made, team) = try call(
            "POST", "/api/v1/budgets", admin,
            #"{"name": "Search", "scope": "team", "scope_value": "search", "amount": "10", "thresholds": [50]}"#)
        #expect(made == 201)
        let (_, key) = try call(
            "POST", "/api/v1/budgets", admin, #"{"name": "Support key", "scope": "key", "scope_value": "gw-support", "amount": "7"}"#)
        let (bad, problem) = try call("POST", "/api/v1/budgets", admin, #"{"name": "", "amount": "-1", "period": "custom"}"#)
        #expect(bad == 422)
        let fields = ((problem["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
        #expect(fields == ["name", "amount", "starts_on", "ends_on"])
        #expect(try call("POST", "/api/v1/budgets", viewer, #"{"name": "x", "amount": "1"}"#).0 == 403)

        let teamStatus = try call("GET", "/api/v1/budgets/\(team["id"] as? String ?? "")/status", viewer).1
        #expect(teamStatus["spend"] as? String == "5.00")
        #expect(teamStatus["reached"] as? [Int] == [50])
        let keyStatus = try call("GET", "/api/v1/budgets/\(key["id"] as? String ?? "")/status", viewer).1
        #expect(keyStatus["spend"] as? String == "7.00")
        #expect(keyStatus["exceeded"] as? Bool == true)
        #expect(try call("GET", "/api/v1/budgets", viewer).1["items"].map { ($0 as? [Any])?.count } == 2)
        // A change names the version it read: a stale one is refused, the current one applies.
        let path = "/api/v1/budgets/\(team["id"] as? String ?? "")"
        let change = #"{"name": "Search", "scope": "team", "scope_value": "search", "amount": "4.50", "thresholds": [50, 100]}"#
        let stale = try app.send(
            "PUT", path, headers: [("Authorization", "Bearer \(admin)"), ("Content-Type", "application/json"), ("If-Match", "\"v7\"")],
            body: Array(change.utf8))
        #expect(stale.status == 412)
        let changed = try app.send(
            "PUT", path, headers: [("Authorization", "Bearer \(admin)"), ("Content-Type", "application/json"), ("If-Match", "\"v1\"")],
            body: Array(change.utf8))
        #expect(changed.status == 200)
        #expect(changed.headers.first { $0.name.lowercased() == "etag" }?.value == "\"v2\"")
        // A weak tag never matches (it used to be read as the version); a list with the current tag
        // and `*` do.
        for (ifMatch, status) in [("W/\"v2\"", 412), ("\"v1\", \"v2\"", 200), ("*", 200)] {
            let answer = try app.send(
                "PUT", path, headers: [("Authorization", "Bearer \(admin)"), ("Content-Type", "application/json"), ("If-Match", ifMatch)],
                body: Array(change.utf8))
            #expect(answer.status == status, "\(ifMatch)")
        }
        #expect(try call("GET", path + "/status", viewer).1["exceeded"] as? Bool == true)
        #expect(try call("DELETE", "/api/v1/budgets/\(key["id"] as? String ?? "")", admin).0 == 204)
        #expect(try call("GET", "/api/v1/budgets/\(key["id"] as? String ?? "")/status", viewer).0 == 404)
        // At most 500 a tenant: one more would be checked and listed nowhere, so it is refused.
        try app.database.connect().query(
            """
            INSERT INTO budgets (tenant_id, id, name, scope, scope_value, amount_micros, currency, period, created_at, updated_at)
            SELECT $1, gen_random_uuid(), 'Key ' || n, 'key', 'gw-' || n, 1000000, 'USD', 'month', $2, $2 FROM generate_series(1, 499) n
            """, [people.tenant, clock.now])
        let (full, fullProblem) = try call("POST", "/api/v1/budgets", admin, #"{"name": "One more", "amount": "1"}"#)
        #expect(full == 422 && "\(fullProblem)".contains("at most 500 budgets"), "\(fullProblem)")
        #expect(try call("GET", "/api/v1/budgets", viewer).1["items"].map { ($0 as? [Any])?.count } == 500)

        // The status answers from one read of the budget and one of a rollup: timed in the server.
        let id = try #require(UUID(uuidString: team["id"] as? String ?? ""))
        var best = Double.infinity
        for _ in 0..<20 {
            let started = ContinuousClock.now
            _ = try BudgetStatus.load(app.app.database, tenant: people.tenant, id: id, now: clock.now)
            let elapsed = ContinuousClock.now - started
            best = min(best, Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        // And over HTTP on loopback (token cached after the first call): the server's whole answer.
        var bestHTTP = Double.infinity
        for _ in 0..<20 {
            let started = ContinuousClock.now
            _ = try call("GET", "/api/v1/budgets/\(id.postgresText)/status", viewer)
            let elapsed = ContinuousClock.now - started
            bestHTTP = min(bestHTTP, Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        print("budget status, best of 20: \(String(format: "%.2f", best)) ms in process, \(String(format: "%.2f", bestHTTP)) ms over HTTP")
    }
}
