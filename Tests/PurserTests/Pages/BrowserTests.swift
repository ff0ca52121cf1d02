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
}
