import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Under https every cookie Purser sets carries the `__Host-` prefix (with `Secure`, `Path=/` and no
/// `Domain`), so a sibling subdomain or a plain-http answer cannot plant or overwrite it.
@Suite struct HostCookieTests {
    @Test func underHttpsCookiesTakeTheHostPrefix() throws {
        let app = try TestApp { $0.publicURL = URL(string: "https://purser.example") }
        _ = try People(app)
        let browser = WebVisitor(app)
        let form = try browser.get("/sign-in")
        let pre = try #require(form.headerValues("Set-Cookie").first)
        #expect(pre.hasPrefix("__Host-purser_pre="), "\(pre)")
        let signedIn = try browser.signIn("viewer@acme.test", People.password)
        #expect(signedIn.status == 303)
        let cookies = signedIn.headerValues("Set-Cookie")
        let names = cookies.map { String($0.prefix { $0 != "=" }) }
        #expect(names.contains("__Host-purser_session") && names.contains("__Host-purser_device"), "\(cookies)")
        for cookie in cookies + [pre] {
            let attributes = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            #expect(attributes.contains("secure") && attributes.contains("path=/"), "\(cookie)")
            #expect(!attributes.contains { $0.hasPrefix("domain=") }, "\(cookie)")
        }
        // The prefixed cookie is the session; the unprefixed name means nothing here.
        #expect(try browser.get("/account").status == 200)
        let token = try #require(browser.cookies["__Host-purser_session"])
        #expect(try app.get("/account", headers: [("Cookie", "purser_session=\(token)")]).status == 303)
        #expect(try browser.post("/sign-out", [], from: "/account").header("Set-Cookie")?.hasPrefix("__Host-purser_session=;") == true)
    }

    @Test func overPlainHttpTheNamesStayUnprefixed() throws {
        let app = try TestApp()
        _ = try People(app)
        let signedIn = try WebVisitor(app).signIn("viewer@acme.test", People.password)
        let names = signedIn.headerValues("Set-Cookie").map { String($0.prefix { $0 != "=" }) }
        #expect(names.contains("purser_session") && names.contains("purser_device"), "\(names)")
    }
}
