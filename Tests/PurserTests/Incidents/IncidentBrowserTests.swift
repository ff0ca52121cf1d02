import Foundation
import HTTPServerTesting
@testable import Purser
import Testing
import TestSupport

/// An incident as people work it, in headless Chromium: the tenant's admin opens a SEV2 from the
/// incidents page, acknowledges it, moves it through triaged, mitigated and resolved, is told a
/// SEV2 needs its postmortem before review, writes it, and marks the incident reviewed.
@Suite(.serialized) struct IncidentBrowserTests {
    @Test func walkAnIncidentFromDetectedToReviewed() throws {
        let app = try TestApp()
        let people = try People(app)
        let totp = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/incidents", as: "tenant_admin@acme.test", password: People.password) {
            totp.code(at: app.app.world.now)
        }
        try browser.wait(for: "location.pathname === '/t/acme/incidents' && document.querySelector('#i-title')")
        try browser.fill("#i-title", "Chat completions time out")
        try browser.fill("#i-severity", "SEV2")
        try browser.fill("#i-service", "chat-api")
        try browser.click("form[action='/t/acme/incidents'] button[type=submit]")
        try browser.wait(
            for: "/^\\/t\\/acme\\/incidents\\/[0-9a-f-]{36}$/.test(location.pathname) && document.querySelector('#incident-state')")
        let page = try #require(try browser.evaluate("return location.pathname") as? String)
        func state() throws -> String? { try browser.evaluate("return document.querySelector('#incident-state').textContent") as? String }
        #expect(try state() == "detected")

        try browser.click("#acknowledge")
        try browser.wait(for: "location.pathname === '\(page)' && !document.querySelector('#acknowledge')")
        for next in ["triaged", "mitigated", "resolved"] {
            try browser.click("#move-\(next)")
            try browser.wait(
                for: "document.querySelector('#incident-state') && document.querySelector('#incident-state').textContent === '\(next)'")
        }
        // Review is refused until the postmortem is written.
        try browser.click("#move-reviewed")
        try browser.wait(for: "document.querySelector('.alert.error')")
        #expect(try state() == "resolved")
        for (field, text) in [
            ("#p-summary", "Completions timed out for 20 minutes"), ("#p-impact", "A third of chat requests failed"),
            ("#p-timeline", "09:00 rollout; 09:05 paged; 09:20 rolled back"), ("#p-root", "A node image without the GPU driver"),
            ("#p-well", "Paging and rollback"),
        ] {
            try browser.fill(field, text)
        }
        try browser.click("#save-postmortem")
        try browser.wait(
            for: "location.pathname === '\(page)' && document.querySelector('#move-reviewed') && !document.querySelector('.alert.error')")
        try browser.click("#move-reviewed")
        try browser.wait(
            for: "document.querySelector('#incident-state') && document.querySelector('#incident-state').textContent === 'reviewed'")
        let timeline = try browser.evaluate("return document.querySelector('.timeline').textContent") as? String ?? ""
        #expect(timeline.contains("acknowledged") && timeline.contains("resolved → reviewed") && timeline.contains("postmortem"))
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("incident-reviewed.png"))
        // The refused review answered 422 (the page with its message), which the browser logs; nothing else.
        let errors = try browser.consoleErrors()
        #expect(errors.allSatisfy { $0.contains("422") }, "\(errors)")
    }
}
