import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /staff/prices: provider admins add prices (a fraction of a micro-unit and overlaps refused by
/// name, the open-ended predecessor closed) and markups; a change reaching back re-rates the
/// tenants it touches. Amounts are exact micro-units both ways.
@Suite struct PriceCatalogueTests {
    @Test func microUnitsAreExact() {
        #expect(MicroUnits.parse("2.50") == 2_500_000)
        #expect(MicroUnits.parse("0.15") == 150_000)
        #expect(MicroUnits.parse("0.000001") == 1)
        #expect(MicroUnits.parse("3") == 3_000_000)
        #expect(MicroUnits.parse("0.1500000") == 150_000 && MicroUnits.parse("0.15000001") == nil, "zeros past six decimals are exact")
        for bad in ["0.0000001", "-1", "1.", ".5", "1e3", "", "1,5"] { #expect(MicroUnits.parse(bad) == nil, "\(bad)") }
        #expect(MicroUnits.format(2_500_000) == "2.50" && MicroUnits.format(75_000) == "0.075" && MicroUnits.format(1) == "0.000001")
    }

    @Test func providerAdminsKeepTheCatalogue() throws {
        let clock = SettableClock(Date(timeIntervalSince1970: 1_795_003_200))  // 2026-11-18T12:00:00Z
        let app = try TestApp(clock: clock)
        let people = try People(app, staff: true)
        let admin = try people.signedIn(
            "provider_admin@staff.test", in: app, totp: try people.enableSecondFactor("provider_admin@staff.test", in: app))
        #expect(try admin.get("/staff/prices").status == 200)
        func add(_ fields: [(String, String)]) throws -> ClientResponse {
            try admin.post(
                "/staff/prices",
                [
                    ("kind", "tokens"), ("provider", "openai"), ("item", "gpt-4o-mini"), ("currency", "USD"), ("input", "0.15"),
                    ("output", "0.60"), ("cached", "0.075"), ("effective_from", "2026-11-01"),
                    ("source", "https://openai.com/api/pricing/"), ("source_read_on", "2026-11-27"),
                ].filter { pair in !fields.contains { $0.0 == pair.0 } } + fields)
        }
        let fraction = try add([("input", "0.1500001")])
        #expect(fraction.status == 422 && fraction.text.contains("fraction of a micro-unit"))
        #expect(try add([]).status == 201)
        // A later price closes the open-ended one; one inside a closed period overlaps.
        #expect(try add([("effective_from", "2026-12-01"), ("input", "0.20")]).status == 201)
        let overlap = try add([("effective_from", "2026-11-15"), ("effective_to", "2026-11-20")])
        #expect(overlap.status == 422 && overlap.text.contains("overlaps a price of openai gpt-4o-mini"))
        let owner = try app.database.connect()
        let periods = try owner.query(
            "SELECT effective_from::date::text, effective_to::date::text, input_per_million FROM prices ORDER BY 1")
        #expect(
            try periods.map {
                [try $0.require(0, as: String.self), try $0.decode(1, as: String.self) ?? "", String(try $0.require(2, as: Int64.self))]
            }
                == [["2026-11-01", "2026-12-01", "150000"], ["2026-12-01", "", "200000"]])
        let page = try admin.get("/staff/prices").text
        #expect(page.contains("0.075") && page.contains("https://openai.com/api/pricing/ (2026-11-27)"))

        // An event (stamped a little ahead of the clock, as gateways may) rated at the list price, before the markup below reaches back to it.
        let line = #"{"event_id":"m1","occurred_at":"2026-11-18T12:02:00Z","provider":"openai","model":"gpt-4o-mini","input_tokens":100}"#
        _ = try UsageIngest(database: app.app.database).ingest(
            try NDJSONUsageParser.lines(Array(line.utf8)), tenant: people.tenant, actor: .system, source: .api, now: clock.now)
        func cost() throws -> Int64? { try owner.query("SELECT cost_micros FROM usage_events")[0].decode(0, as: Int64.self) }
        #expect(try cost() == 15)
        // A markup that reaches back queues the tenant's re-rating; customers and CSEs never see the page.
        let markup = try admin.post(
            "/staff/prices/markups", [("tenant", "acme"), ("markup_bp", "1500"), ("effective_from", "2026-11-10")], from: "/staff/prices")
        #expect(markup.status == 201)
        #expect(
            try owner.query("SELECT count(*) FROM jobs WHERE kind = 'costs.rerate' AND tenant_id = $1", [people.tenant])[0].require(
                0, as: Int.self) == 1)
        // The worker runs it: 100 × 0.15 × 1.15 = 17.25 → 17 micro-units.
        let worker = try app.startWorker()
        #expect(waitUntil(20) { (try? cost()) == 17 })
        worker.stop()
        #expect(
            try admin.post(
                "/staff/prices/markups", [("tenant", "nope"), ("markup_bp", "1"), ("effective_from", "2026-11-10")], from: "/staff/prices"
            ).status == 422)
        // A negotiated price for one tenant needs no source; overlapping ones are refused.
        let negotiated = try add([("tenant", "acme"), ("input", "0.10"), ("source", ""), ("source_read_on", ""), ("note", "contract 7")])
        #expect(negotiated.status == 201)
        #expect(try add([("tenant", "acme"), ("effective_from", "2026-10-01"), ("effective_to", "2026-11-05")]).status == 422)
        #expect(try admin.get("/staff/prices").text.contains("contract 7"))
        #expect(try owner.query("SELECT input_per_million FROM tenant_prices")[0].require(0, as: Int64.self) == 100_000)
        #expect(try owner.query("SELECT count(*) FROM jobs WHERE kind = 'costs.rerate'")[0].require(0, as: Int.self) == 2)
        // Not while a budget holds an amount in the old currency: spend re-rated into EUR would be
        // compared with it as if it were USD.
        var input = BudgetInput()
        input.name = "Platform"
        input.amount = "100"
        let budgets = BudgetStore(database: app.app.database, clock: clock)
        let budget = try budgets.create(tenant: people.tenant, input, owner: nil, actor: .system)
        let refused = try admin.post(
            "/staff/prices/markups", [("billing", "1"), ("tenant", "acme"), ("currency", "EUR"), ("retention_days", "90")],
            from: "/staff/prices")
        #expect(refused.status == 422 && refused.text.contains("budgets in USD (Platform)"), "\(refused.text)")
        #expect(try owner.query("SELECT currency FROM tenant_cost_settings").first?.decode(0, as: String.self) != "EUR")
        try budgets.delete(tenant: people.tenant, id: budget.id, actor: .system)
        // Billing in another currency re-rates the tenant from its start.
        let billing = try admin.post(
            "/staff/prices/markups", [("billing", "1"), ("tenant", "acme"), ("currency", "eur"), ("retention_days", "90")],
            from: "/staff/prices")
        #expect(billing.status == 201)
        #expect(try owner.query("SELECT currency, retention_days FROM tenant_cost_settings")[0].require(0, as: String.self) == "EUR")
        #expect(try owner.query("SELECT count(*) FROM jobs WHERE kind = 'costs.rerate'")[0].require(0, as: Int.self) == 3)
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(try cse.get("/staff/prices").status == 403)
        let customer = try people.signedIn(
            "tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        #expect(try customer.get("/staff/prices").status == 404)
    }

    @Test func theDemoSeedsPricedUsage() throws {
        let clock = SettableClock(Date(timeIntervalSince1970: 1_795_003_200))
        let app = try TestApp(clock: clock)
        let people = try People(app)
        try DemoCosts.seed(database: app.app.database, tenant: people.tenant, clock: clock)
        let owner = try app.database.connect()
        #expect(try owner.query("SELECT count(*) FROM prices")[0].require(0, as: Int.self) == 6)
        let totals = try owner.query(
            "SELECT sum(events)::int, sum(unpriced_events)::int, sum(cost_micros)::bigint, sum(gpu_cost_micros)::bigint FROM usage_daily")[
                0]
        #expect(try totals.require(0, as: Int.self) > 1000 && totals.require(1, as: Int.self) > 0)
        #expect(try totals.require(2, as: Int64.self) > totals.require(3, as: Int64.self) && totals.require(3, as: Int64.self) > 0)
        // Every priced event carries the demo markup.
        #expect(
            try owner.query("SELECT count(*) FROM usage_events WHERE cost_micros IS NOT NULL AND markup_bp <> 1000")[0].require(
                0, as: Int.self) == 0)
    }
}
