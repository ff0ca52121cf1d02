import Foundation
@testable import Purser
import Testing
import TestSupport

/// The costs page in headless Chromium: the chart drawn on the server shows its bars and axis, the
/// presets and grouping change it, and the page loads without console errors at phone width too.
@Suite(.serialized) struct CostReportBrowserTests {
    @Test func theReportPageShowsItsStackedChartAndRegroups() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        let fixture = try CostFixture(app)
        for day in 1...19 {
            let date = String(format: "2026-11-%02d", day)
            try fixture.spend(tenant: people.tenant, day: date, model: "gpt-4o", team: "search", requests: 10, input: 1000, cost: 2_000_000)
            try fixture.spend(
                tenant: people.tenant, day: date, provider: "anthropic", model: "claude-x", team: "support", requests: 5, input: 500,
                cost: Int64(day) * 100_000)
        }
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/costs", as: "viewer@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/costs' && document.querySelector('svg.chart')")
        let bars = try browser.evaluate("return document.querySelectorAll('svg.chart rect.bar').length") as? Int
        #expect(bars == 38)
        let ticks =
            try browser.evaluate("return Array.from(document.querySelectorAll('svg.chart text.tick')).map(t => t.textContent)") as? [String]
        #expect(ticks?.first == "Nov 1")
        let height = try browser.evaluate("return document.querySelector('svg.chart').getBoundingClientRect().height") as? Double
        #expect((height ?? 0) > 200)
        // Regrouped by team through the form.
        _ = try browser.evaluate("document.querySelector('select[name=group_by]').value = 'team'; return true")
        try browser.click("form[aria-label=Report] button[type=submit]")
        try browser.wait(for: "location.search.includes('group_by=team')")
        let legend = try browser.evaluate("return document.querySelector('svg.chart').textContent") as? String
        #expect(legend?.contains("search") == true)
        #expect(legend?.contains("support") == true)
        try browser.viewport(width: 390, height: 844, mobile: true)
        try browser.open(app.baseURL + "/t/acme/costs?preset=last_7_days")
        try browser.wait(for: "document.querySelector('svg.chart')")
        let overflow = try browser.evaluate("return document.documentElement.scrollWidth > window.innerWidth") as? Bool
        #expect(overflow == false)
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("costs.png"))
        #expect(try browser.consoleErrors() == [])
    }
}
