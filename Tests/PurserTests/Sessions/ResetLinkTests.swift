import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A password reset or change ends every other open reset link of the person: a link asked for
/// earlier (perhaps by someone reading their mail) cannot set the password again afterwards. Links
/// run out: a reset after an hour, an invitation after seven days.
@Suite struct ResetLinkTests {
    /// Purser's time of day here: it stands still until a test moves it.
    let clock = SettableClock(Date())
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp(clock: clock)
        people = try People(app)
    }

    func link(_ email: String) throws -> String {
        try ResetLinks.issue(email: email, actor: .system, database: app.app.database, at: app.app.world.now).path
    }

    @Test func aResetEndsTheOtherResetLinks() throws {
        let first = try link("viewer@acme.test"), second = try link("viewer@acme.test")
        let browser = WebVisitor(app)
        #expect(
            try browser.post(
                second, [("new_password", "a freshly chosen phrase"), ("confirmation", "a freshly chosen phrase")],
                from: second
            ).status == 303)
        #expect(try WebVisitor(app).get(first).status == 404)
        #expect(
            try WebVisitor(app).post(
                first,
                [
                    ("new_password", "the attacker's own phrase"),
                    ("confirmation", "the attacker's own phrase"),
                ], from: "/sign-in"
            ).status == 404)
        #expect(try WebVisitor(app).signIn("viewer@acme.test", "a freshly chosen phrase").status == 303)
    }

    @Test func aResetLinkEndsAfterAnHourAndAnInvitationAfterSevenDays() throws {
        let reset = try link("viewer@acme.test")
        let invitation = try Memberships(database: app.app.database, clock: clock).invite(
            NewPerson(email: "newcomer@acme.test", name: "Newcomer"), role: .viewer, tenant: people.tenant, actor: .system
        ).path
        clock.advance(by: 3600 - 60)
        #expect(try WebVisitor(app).get(reset).status == 200)
        clock.advance(by: 120)
        #expect(try WebVisitor(app).get(reset).status == 404)
        #expect(
            try WebVisitor(app).post(
                reset,
                [
                    ("new_password", "a freshly chosen phrase"),
                    ("confirmation", "a freshly chosen phrase"),
                ], from: "/sign-in"
            ).status == 404)
        clock.advance(by: 7 * 86400 - 3600 - 120)
        #expect(try WebVisitor(app).get(invitation).status == 200)
        clock.advance(by: 120)
        #expect(try WebVisitor(app).get(invitation).status == 404)
    }

    @Test func aPasswordChangeEndsOpenResetLinks() throws {
        let open = try link("requester@acme.test")
        let other = try link("viewer@acme.test")
        let browser = try people.signedIn("requester@acme.test", in: app)
        #expect(
            try browser.post(
                "/account/password",
                [
                    ("current_password", People.password),
                    ("new_password", "a much better passphrase"),
                    ("confirmation", "a much better passphrase"),
                ], from: "/account"
            ).status == 303)
        #expect(try WebVisitor(app).get(open).status == 404)
        #expect(try WebVisitor(app).get(other).status == 200, "someone else's link is theirs to use")
    }
}
