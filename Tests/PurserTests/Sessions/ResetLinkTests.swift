import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A password reset or change ends every other open reset link of the person: a link asked for
/// earlier (perhaps by someone reading their mail) cannot set the password again afterwards.
@Suite struct ResetLinkTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app)
    }

    func link(_ email: String) throws -> String {
        try ResetLinks.issue(email: email, actor: .system, database: app.app.database).path
    }

    @Test func aResetEndsTheOtherResetLinks() throws {
        let first = try link("viewer@acme.test"), second = try link("viewer@acme.test")
        let browser = WebVisitor(app)
        #expect(try browser.post(second, [("new_password", "a freshly chosen phrase"), ("confirmation", "a freshly chosen phrase")],
                                 from: second).status == 303)
        #expect(try WebVisitor(app).get(first).status == 404)
        #expect(try WebVisitor(app).post(first, [("new_password", "the attacker's own phrase"),
                                                 ("confirmation", "the attacker's own phrase")], from: "/sign-in").status == 404)
        #expect(try WebVisitor(app).signIn("viewer@acme.test", "a freshly chosen phrase").status == 303)
    }

    @Test func aPasswordChangeEndsOpenResetLinks() throws {
        let open = try link("requester@acme.test")
        let other = try link("viewer@acme.test")
        let browser = try people.signedIn("requester@acme.test", in: app)
        #expect(try browser.post("/account/password", [("current_password", People.password),
                                                       ("new_password", "a much better passphrase"),
                                                       ("confirmation", "a much better passphrase")], from: "/account").status == 303)
        #expect(try WebVisitor(app).get(open).status == 404)
        #expect(try WebVisitor(app).get(other).status == 200, "someone else's link is theirs to use")
    }
}
