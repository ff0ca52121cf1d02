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
        try browser.open(app.baseURL + "/account")
        try browser.wait(for: "location.pathname === '/sign-in'")
        try browser.fill("#email", "requester@acme.test")
        try browser.fill("#password", People.password)
        try browser.click("form[action='/sign-in'] button[type=submit]")
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
}
