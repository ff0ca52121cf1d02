import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Spend where it belongs: usage ingested through the API for a deployment's endpoint shows on that
/// deployment's page as this month's and the last 30 days' spend (other endpoints' and last month's
/// usage left out), with a link to the cost report filtered to the endpoint, which shows the same
/// figure; the tenant's overview shows the whole tenant's spend.
@Suite struct DeploymentSpendTests {
    @Test func aDeploymentsPageShowsItsEndpointsSpendAndLinksToItsReport() throws {
        // 20 Nov 2026 in UTC.
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        try app.database.connect().query("UPDATE tenants SET created_at = '2026-09-01' WHERE id = $1", [people.tenant])
        let (_, deploymentID) = try IsolationWalk.deploymentThings(of: people, in: app)
        let store = DeploymentStore(
            database: app.app.database, clock: clock, requests: RequestStore(database: app.app.database, clock: clock),
            publicURL: "http://purser.test")
        let endpoint = try #require(try store.find(deploymentID, tenant: people.tenant)).endpoint.name

        // 1.00 per million input tokens, 2.00 per million output.
        try PriceCatalogue(database: app.app.database).add(
            PriceEntry(
                kind: .tokens, provider: "openai", item: "gpt-4o", currency: "USD", from: RFC3339.date("2026-01-01T00:00:00Z")!, to: nil,
                inputPerMillion: 1_000_000, outputPerMillion: 2_000_000, cachedInputPerMillion: nil, perGPUHour: nil, source: "test",
                sourceReadOn: "2026-11-20"), actor: .system, now: clock.now)
        let token = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "gw", scopes: [.usageWrite], lifetime: 3600,
            actor: .system
        ).token
        func event(_ id: String, _ at: String, _ endpoint: String, input: Int, output: Int) -> String {
            #"{"event_id":"\#(id)","occurred_at":"\#(at)","provider":"openai","model":"gpt-4o","endpoint":"\#(endpoint)","#
                + #""input_tokens":\#(input),"output_tokens":\#(output)}"#
        }
        let events = [
            event("a", "2026-11-02T10:00:00Z", endpoint, input: 1_000_000, output: 500_000),  // 2.00
            event("b", "2026-11-19T10:00:00Z", endpoint, input: 250_000, output: 125_000),  // 0.50
            event("c", "2026-10-30T10:00:00Z", endpoint, input: 3_000_000, output: 0),  // 3.00, last month
            event("d", "2026-11-19T11:00:00Z", "someone-elses-endpoint", input: 7_000_000, output: 0),  // 7.00
            event("e", "2026-11-19T12:00:00Z", "someone-elses-endpoint", input: 10, output: 10)
                .replacingOccurrences(of: "gpt-4o", with: "brand-new-model"),  // no price
        ]
        let sent = try app.send(
            "POST", "/api/v1/usage", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/x-ndjson")],
            body: Array(events.joined(separator: "\n").utf8))
        #expect(sent.status == 200, "\(String(decoding: sent.body, as: UTF8.self))")

        let viewer = try people.signedIn("viewer@acme.test", in: app)
        let page = try viewer.get("/t/acme/deployments/\(deploymentID.postgresText)")
        #expect(page.status == 200)
        #expect(page.text.contains("Spend on \(endpoint)"))
        #expect(page.text.contains("<dt>This month</dt><dd>2.50 USD</dd>"))
        #expect(page.text.contains("<dt>Last 30 days</dt><dd>5.50 USD</dd>"))
        let link = "/t/acme/costs?group_by=day&amp;endpoint=\(endpoint)"
        #expect(page.text.contains(link), "the report filtered to the endpoint")

        // The link's report: the endpoint's days only, the same month-to-date total.
        let report = try viewer.get(link.replacingOccurrences(of: "&amp;", with: "&"))
        #expect(report.status == 200)
        #expect(report.text.contains("2.50"))
        #expect(!report.text.contains("7.00"))
        let refused = try viewer.get("/t/acme/costs?group_by=model&endpoint=\(endpoint)")
        #expect(
            refused.text.contains("an endpoint&#39;s spend is grouped by day or endpoint alone")
                || refused.text.contains("grouped by day or endpoint alone"))

        // The tenant's overview: every endpoint's spend this month.
        #expect(try viewer.get("/t/acme").text.contains("<strong>9.50 USD</strong>"))

        // The report as a new tenant admin meets it: a way to send usage, unpriced usage said beside
        // its zero cost, and a query it cannot run shown as the form's message over this month.
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let costs = try admin.get("/t/acme/costs")
        #expect(costs.text.contains("Upload usage (CSV)"))
        #expect(costs.text.contains("0.00 USD <span class=\"badge\">+ 1 event unpriced</span>"))
        let mistaken = try admin.get("/t/acme/costs?from=2026-13-01&group_by=colour")
        #expect(mistaken.status == 422)
        #expect(mistaken.text.contains("That report cannot be shown; this month by model is shown instead."))
        #expect(mistaken.text.contains("<strong>group_by</strong>: use one of model"))
        #expect(mistaken.text.contains("<strong>9.50 USD</strong>"), "this month's report under the message")
    }
}
