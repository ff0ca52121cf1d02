import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The cost report over rollups: the API's groupings, second grouping and filters with exact
/// figures, the CSV beside the page, staff across tenants, a customer held to its own tenant, and
/// mistakes as 422s naming the field.
@Suite struct CostReportAPITests {
    @Test func groupingsFiltersCSVAndTheWallBetweenTenants() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let acme = try People(app, slug: "acme", staff: true)
        let globex = try People(app, slug: "globex")
        let fixture = try CostFixture(app)
        try fixture.spend(
            tenant: acme.tenant, day: "2026-11-02", model: "gpt-4o", team: "search", feature: "chat", requests: 4, input: 3000,
            output: 1000, cached: 1000, cost: 7_500_001)
        try fixture.spend(
            tenant: acme.tenant, day: "2026-11-03", model: "gpt-4o", team: "support", feature: "chat", requests: 2, input: 1000,
            output: 500, cost: 2_500_000)
        try fixture.spend(
            tenant: acme.tenant, day: "2026-11-03", provider: "anthropic", model: "claude-x", team: "search", feature: "summaries",
            requests: 1, input: 100, output: 100, cost: 1_000_000, gpuSeconds: 5400, gpuCost: 300_000)
        try fixture.spend(
            tenant: acme.tenant, day: "2026-11-04", provider: "acme-lab", model: "mystery-7b", requests: 3, cost: 0, unpriced: 3)
        // Last month, and another tenant: in neither this month's report nor acme's.
        try fixture.spend(tenant: acme.tenant, day: "2026-10-31", model: "gpt-4o", cost: 99_000_000)
        try fixture.spend(tenant: globex.tenant, day: "2026-11-02", model: "globex-secret-model", cost: 42_000_000)

        let token = try app.app.tokens.create(
            user: acme.id("viewer@acme.test"), tenant: acme.tenant, name: "r", scopes: [.costsRead], lifetime: 3600, actor: .system
        ).token
        func report(_ query: String, _ bearer: String? = nil) throws -> (Int, [String: Any]) {
            let response = try app.get("/api/v1/reports/costs?" + query, headers: [("Authorization", "Bearer \(bearer ?? token)")])
            return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
        }
        func groups(_ body: [String: Any]) -> [String: [String: Any]] {
            var found: [String: [String: Any]] = [:]
            for group in body["groups"] as? [[String: Any]] ?? [] {
                let key = (group["key"] as? String ?? "") + ((group["then"] as? String).map { "/" + $0 } ?? "")
                found[key] = group["figures"] as? [String: Any]
            }
            return found
        }

        let (status, byModel) = try report("group_by=model")
        #expect(status == 200)
        #expect(byModel["from"] as? String == "2026-11-01")
        #expect(byModel["to"] as? String == "2026-11-20")
        let models = groups(byModel)
        #expect(Set(models.keys) == ["gpt-4o", "claude-x", "mystery-7b"])
        let gpt = try #require(models["gpt-4o"])
        #expect(gpt["cost"] as? String == "10.000001")
        #expect(gpt["requests"] as? Int == 6)
        #expect(gpt["cost_per_request"] as? String == "1.666667")
        // 10.000001 over 6,500 tokens (input, cached, output), per 1,000: 1.538462 (half to even at the micro-unit).
        #expect(gpt["cost_per_1k_tokens"] as? String == "1.538462")
        // Input tokens are the uncached part: 1,000 cached of 5,000 in all.
        #expect(gpt["cache_hit_share"] as? String == "20.0")
        #expect(models["claude-x"]?["gpu_hours"] as? String == "1.50")
        #expect(models["claude-x"]?["gpu_cost"] as? String == "0.30")
        // Per request and per 1,000 tokens are of token spend: GPU time is neither a request nor tokens.
        #expect(models["claude-x"]?["cost_per_request"] as? String == "0.70")
        #expect(models["claude-x"]?["cost_per_1k_tokens"] as? String == "3.50")
        // A model no price covers has no cost per request: 0.00 would price its usage at zero.
        #expect(models["mystery-7b"]?["cost_per_request"] is NSNull && models["mystery-7b"]?["cost"] as? String == "0.00")
        let totals = try #require((byModel["totals"] as? [[String: Any]])?.first)
        #expect(totals["cost"] as? String == "11.000001")
        #expect(totals["cost_per_request"] as? String == "1.07", "10.700001 of token spend over 10 requests")
        #expect(totals["currency"] as? String == "USD")
        let unpriced = byModel["unpriced_models"] as? [[String: Any]]
        #expect(unpriced?.first?["model"] as? String == "mystery-7b")
        #expect(unpriced?.first?["events"] as? Int == 3)
        let daily = try #require(byModel["daily"] as? [String: Any])
        #expect((daily["days"] as? [Any])?.count == 20)
        #expect(daily["series"] as? [String] == ["gpt-4o", "claude-x", "mystery-7b"])

        let (_, byTeam) = try report("group_by=team&then_by=feature&provider=openai")
        let teams = groups(byTeam)
        #expect(Set(teams.keys) == ["search/chat", "support/chat"])
        #expect(teams["search/chat"]?["cost"] as? String == "7.500001")

        let (_, lastMonth) = try report("preset=last_month")
        #expect((lastMonth["totals"] as? [[String: Any]])?.first?["cost"] as? String == "99.00")
        let (_, byDay) = try report("group_by=day&from=2026-11-03&to=2026-11-03")
        #expect(Set(groups(byDay).keys) == ["2026-11-03"])

        // Mistakes, by field; tenant grouping is staff's.
        let (refused, problem) = try report("group_by=colour&from=2026-13-01")
        #expect(refused == 422)
        #expect(Set(((problem["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }) == ["from", "group_by"])
        #expect(try report("group_by=tenant").0 == 422)
        #expect(try report("group_by=key&then_by=model").0 == 422)
        #expect(try report("group_by=model&colour=red").0 == 400)
        // A customer's token never names another tenant.
        #expect(try report("tenant=globex").0 == 404)

        // Staff see every tenant, grouped by tenant.
        let staff = try app.app.tokens.create(
            user: acme.id("cse@staff.test"), tenant: nil, name: "s", scopes: [.costsRead], lifetime: 3600, actor: .system
        ).token
        let everyone = groups(try report("group_by=tenant", staff).1)
        #expect(everyone["globex"]?["cost"] as? String == "42.00")
        #expect(everyone["acme"]?["cost"] as? String == "11.000001")

        // The page and its CSV, with the same query.
        let viewer = try acme.signedIn("viewer@acme.test", in: app)
        let page = try viewer.get("/t/acme/costs?group_by=model")
        #expect(page.status == 200)
        #expect(page.text.contains("<svg"))
        #expect(page.text.contains("10.000001 USD"))
        #expect(page.text.contains("mystery-7b"))
        #expect(!page.text.contains("globex-secret-model"))
        #expect(page.text.contains("/t/acme/costs.csv?group_by=model"))
        let csv = try viewer.get("/t/acme/costs.csv?group_by=team&then_by=model")
        #expect(csv.status == 200)
        #expect(csv.headers.first { $0.name.lowercased() == "content-type" }?.value.hasPrefix("text/csv") == true)
        let lines = csv.text.split(separator: "\r\n").map(String.init)
        #expect(
            lines.first
                == "\"team\",\"model\",\"currency\",\"cost\",\"requests\",\"input_tokens\",\"output_tokens\",\"cached_input_tokens\","
                + "\"cost_per_request\",\"cost_per_1k_tokens\",\"cache_hit_share\",\"gpu_hours\",\"gpu_cost\",\"unpriced_events\"")
        #expect(
            lines.contains(
                "\"search\",\"gpt-4o\",\"USD\",\"7.500001\",\"4\",\"3000\",\"1000\",\"1000\",\"1.875\",\"1.50\",\"25.0\",\"0.00\",\"0.00\",\"0\""
            ))
        #expect(
            lines.last
                == "\"total\",\"\",\"USD\",\"11.000001\",\"10\",\"4100\",\"1600\",\"1000\",\"1.07\",\"1.597015\",\"19.6\",\"1.50\",\"0.30\",\"3\""
        )
        let bad = try viewer.get("/t/acme/costs?from=yesterday")
        #expect(bad.status == 422)
        // Staff page across tenants; a customer is told it does not exist.
        #expect(try viewer.get("/staff/costs").status == 404)
        let cse = try acme.signedIn("cse@staff.test", in: app, totp: try acme.enableSecondFactor("cse@staff.test", in: app))
        let staffPage = try cse.get("/staff/costs?group_by=tenant")
        #expect(staffPage.status == 200)
        #expect(staffPage.text.contains("globex"))
        // A staff query it cannot run: this month by model, with the reasons beside the form.
        let mistaken = try cse.get("/staff/costs?from=2026-13-01&group_by=colour")
        #expect(mistaken.status == 422)
        #expect(mistaken.text.contains("That report cannot be shown; this month by model is shown instead."))
        #expect(mistaken.text.contains("<strong>group_by</strong>: use one of model"), "\(mistaken.text)")
        #expect(mistaken.text.contains("globex-secret-model") && mistaken.text.contains("<form method=\"get\""))

        // Days are rows in their order, not by spend.
        try fixture.spend(tenant: acme.tenant, day: "2026-11-05", model: "gpt-4o", cost: 50_000_000)
        let days = try report("group_by=day&from=2026-11-01&to=2026-11-05").1["groups"] as? [[String: Any]]
        #expect(days?.compactMap { $0["key"] as? String } == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"])
        // More groups than a report holds: the largest 1,000, said so, and totals of every one.
        try app.database.connect().query(
            """
            INSERT INTO usage_daily_keys (tenant_id, day, key_ref, events, requests, input_tokens, output_tokens, cached_input_tokens,
                                          gpu_seconds, cost_micros, gpu_cost_micros, unpriced_events)
            SELECT $1, '2026-11-06', 'key-' || n, 1, 1, 0, 0, 0, 0, n, 0, 0 FROM generate_series(1, 1001) n
            """, [acme.tenant])
        let (_, byKey) = try report("group_by=key&from=2026-11-06&to=2026-11-06")
        let keys = byKey["groups"] as? [[String: Any]]
        #expect(keys?.count == 1000 && byKey["groups_truncated"] as? Bool == true)
        #expect(keys?.last?["key"] as? String == "key-2", "the smallest is left out")
        #expect((byKey["totals"] as? [[String: Any]])?.first?["cost_micros"] as? Int == 501_501)
        #expect(try viewer.get("/t/acme/costs?group_by=key&from=2026-11-06&to=2026-11-06").text.contains("Only the 1,000 largest rows"))
        #expect(try report("group_by=model").1["groups_truncated"] as? Bool == false)
    }

    /// Through the real ingest: events rated at their prices land in the rollups the report and a
    /// key's budget read, and both reconcile with the raw events to the micro-unit.
    @Test func ingestedUsageReconcilesWithTheReportAndABudget() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        try PriceCatalogue(database: app.app.database).add(
            PriceEntry(
                kind: .tokens, provider: "openai", item: "gpt-4o", currency: "USD", from: RFC3339.date("2026-01-01T00:00:00Z")!, to: nil,
                inputPerMillion: 2_500_000, outputPerMillion: 10_000_000, cachedInputPerMillion: 1_250_000, perGPUHour: nil,
                source: "test", sourceReadOn: "2026-01-01"), actor: .system, now: clock.now)
        clock.advance(by: 60)
        let token = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "gw", scopes: [.usageWrite, .costsRead, .budgetsWrite],
            lifetime: 3600, actor: .system
        ).token
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        let at = RFC3339.string(clock.now)
        let events =
            (1...3).map { index in
                #"{"event_id": "e\#(index)", "occurred_at": "\#(at)", "provider": "openai", "model": "gpt-4o", "team": "search", "#
                    + #""key_ref": "gw-1", "input_tokens": 1000, "output_tokens": 500, "cached_input_tokens": 200}"#
            } + [#"{"event_id": "e4", "occurred_at": "\#(at)", "provider": "openai", "model": "gpt-9-preview", "input_tokens": 10}"#]
        let made = try app.send(
            "POST", "/api/v1/budgets", headers: headers,
            body: Array(#"{"name": "Gateway 1", "scope": "key", "scope_value": "gw-1", "amount": "0.03"}"#.utf8))
        let id = try #require((try JSONSerialization.jsonObject(with: Data(made.body)) as? [String: Any])?["id"] as? String)
        let ingested = try app.send(
            "POST", "/api/v1/usage", headers: headers, body: Array(("[" + events.joined(separator: ",") + "]").utf8))
        #expect(ingested.status == 200)
        // The ingest asked for one check of the tenant's budgets, which fires the key budget's 70 %.
        let checks = try app.database.connect().query(
            "SELECT count(*) FROM jobs WHERE kind = 'costs.budget_check' AND tenant_id = $1", [people.tenant])[0].require(0, as: Int.self)
        #expect(checks == 1)
        let fired = try BudgetChecks.evaluate(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test")
        #expect(fired.map(\.level) == [70])
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(try app.get("/api/v1/reports/costs?group_by=model", headers: headers).body))
                as? [String: Any])
        let rows = (report["groups"] as? [[String: Any]]) ?? []
        let gpt = rows.first { $0["key"] as? String == "gpt-4o" }?["figures"] as? [String: Any]
        // 1,000 × 2.50 + 500 × 10.00 + 200 × 1.25 per million tokens: 7,750 micro-units an event.
        #expect(gpt?["cost_micros"] as? Int == 23_250)
        #expect(gpt?["cost"] as? String == "0.02325")
        #expect((report["unpriced_models"] as? [[String: Any]])?.first?["model"] as? String == "gpt-9-preview")
        let raw = try app.database.connect().query(
            "SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_events WHERE tenant_id = $1", [people.tenant])[0].require(
                0, as: Int.self)
        #expect((report["totals"] as? [[String: Any]])?.first?["cost_micros"] as? Int == raw)
        let status =
            try JSONSerialization.jsonObject(with: Data(try app.get("/api/v1/budgets/\(id)/status", headers: headers).body))
            as? [String: Any]
        #expect(status?["spend_micros"] as? Int == 23_250)
        #expect(status?["reached"] as? [Int] == [70])
    }
}
