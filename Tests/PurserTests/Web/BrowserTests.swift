import Foundation
import Testing
import TestSupport

/// Pages as a person sees them, in headless Chromium.
@Suite(.serialized) struct BrowserTests {
    @Test func theHomePageLoadsWithItsStylesheetAndNoConsoleErrors() throws {
        let app = try TestApp()
        let browser = try Browser()
        try browser.open(app.baseURL + "/")
        let title = try browser.evaluate("return document.title") as? String
        #expect(title == "Purser · Purser")
        // The stylesheet applied: the masthead takes its background from purser.css.
        let background = try browser.evaluate(
            "return getComputedStyle(document.querySelector('.masthead')).backgroundColor") as? String
        #expect(background == "rgb(20, 38, 61)")
        let scriptRan = try browser.evaluate("return document.documentElement.classList.contains('js')") as? Bool
        #expect(scriptRan == true, "the external script loaded under the CSP")
        #expect(try browser.consoleErrors() == [])
        let shot = TestEnvironment.artifacts.appendingPathComponent("home.png")
        try browser.screenshot(to: shot)
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 10_000)
    }

    @Test func signInCreateATokenAndSeeItOnce() throws {
        let app = try TestApp()
        _ = try People(app)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/account", as: "requester@acme.test", password: People.password)
        // Back where the person was going.
        try browser.wait(for: "location.pathname === '/account' && document.querySelector('#token-name')")
        #expect(try browser.evaluate("return document.querySelector('.who').textContent") as? String == "requester")
        try browser.fill("#token-name", "laptop script")
        try browser.click("input[name=scope][value='requests:read']")
        try browser.click("form[action='/account/tokens'] button[type=submit]")
        try browser.wait(for: "document.querySelector('#token-value')")
        let token = try #require(try browser.evaluate("return document.querySelector('#token-value').textContent") as? String)
        #expect(token.hasPrefix("pur_"))
        let me = try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(token)")])
        #expect(me.status == 200)
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("token-once.png"))
        // Shown once: a fresh visit lists the token by name, never its value.
        try browser.open(app.baseURL + "/account")
        try browser.wait(for: "document.querySelector('#token-name')")
        let html = try #require(try browser.evaluate("return document.documentElement.outerHTML") as? String)
        #expect(!html.contains(token))
        #expect(html.contains("laptop script"))
        #expect(try browser.consoleErrors() == [])
    }

    @Test func aCustomerFilesACSERepliesAndTheCustomerSeesTheReply() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/requests/new", as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/requests/new' && document.querySelector('#r-subject')")
        try browser.fill("#r-subject", "Endpoint slow")
        try browser.fill("#r-description", "p95 is **over 2 s** since 09:00")
        _ = try browser.evaluate("document.querySelector('#r-priority').value = 'P2'; return true")
        try browser.click("form[action='/t/acme/requests'] button[type=submit]")
        try browser.wait(for: "location.pathname === '/t/acme/requests/ACME-1'")
        #expect(try browser.evaluate("return document.querySelector('section.panel strong').textContent") as? String == "over 2 s")
        // The type left at its default: a question.
        #expect((try browser.evaluate("return document.querySelector('p.muted').textContent") as? String)?.contains("P2 question") == true)

        // A customer success engineer answers, and leaves a note for colleagues.
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(try cse.post("/t/acme/requests/ACME-1/comments", [("body", "Looking into it now")], from: "/t/acme/requests/ACME-1").status == 303)
        #expect(try cse.post("/t/acme/requests/ACME-1/comments", [("body", "Likely the old node pool"), ("internal", "1")],
                             from: "/t/acme/requests/ACME-1").status == 303)
        #expect(try cse.get("/t/acme/requests/ACME-1").text.contains("Likely the old node pool"))

        try browser.open(app.baseURL + "/t/acme/requests/ACME-1")
        try browser.wait(for: "document.querySelector('#conversation')")
        let conversation = try #require(try browser.evaluate("return document.querySelector('#conversation').textContent") as? String)
        #expect(conversation.contains("Looking into it now"))
        #expect(!conversation.contains("Likely the old node pool"), "internal notes never reach the customer")
        #expect(try browser.consoleErrors() == [])
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("request-reply.png"))
    }
}
