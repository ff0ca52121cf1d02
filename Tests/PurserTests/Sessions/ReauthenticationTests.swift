import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Someone holding a stolen session meets the sign-in throttle on the account page too: guesses at
/// the code (new recovery codes, turning the second factor off) and at the current password (a
/// password change) are counted with sign-in's, wait as they do, and are audited, each of them.
@Suite struct ReauthenticationTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app)
    }

    func failures() throws -> [String] {
        try app.database.connect().query(
            """
            SELECT after->>'for' || ' ' || (after->>'outcome') FROM audit_events
            WHERE action = 'user.reauthentication_failed' ORDER BY sequence
            """
        ).map { try $0.require(0, as: String.self) }
    }

    @Test func codeGuessesOnTheAccountPageAreThrottledAndAudited() throws {
        let totp = try people.enableSecondFactor("viewer@acme.test", in: app)
        let stolen = try people.signedIn("viewer@acme.test", in: app, totp: totp)
        var statuses: [Int] = []
        for guess in 0..<6 {
            let path = guess % 2 == 0 ? "/account/two-factor/recovery-codes" : "/account/two-factor/disable"
            statuses.append(try stolen.post(path, [("code", String(format: "%06d", guess))], from: "/account/two-factor").status)
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == 422 }, "\(statuses)")
        #expect(statuses.last == 429, "\(statuses)")
        // Waiting now, even with a right code.
        let right = try stolen.post(
            "/account/two-factor/recovery-codes", [("code", totp.code(at: Date().addingTimeInterval(30)))],
            from: "/account/two-factor")
        #expect(right.status == 429)
        #expect(right.header("Retry-After").flatMap(Int.init) != nil)
        let audited = try failures()
        #expect(audited.filter { $0.hasSuffix("wrong") }.count == 5, "\(audited)")
        #expect(audited.filter { $0.hasSuffix("throttled") }.count == 2, "\(audited)")
        #expect(audited.contains("second_factor_disable wrong") && audited.contains("recovery_codes_replace wrong"))
        let on = try app.database.connect().query("SELECT totp_enabled_at IS NOT NULL FROM users WHERE email = 'viewer@acme.test'")[0]
        #expect(try on.require(0, as: Bool.self))
    }

    @Test func codeGuessesShareTheCountOfSignInsSecondFactor() throws {
        let totp = try people.enableSecondFactor("requester@acme.test", in: app)
        let stolen = try people.signedIn("requester@acme.test", in: app, totp: totp)
        for _ in 0..<4 {
            #expect(try stolen.post("/account/two-factor/recovery-codes", [("code", "999999")], from: "/account/two-factor").status == 422)
        }
        // A fresh sign-in with the password gets no fresh guesses at the code.
        let again = WebVisitor(app)
        try again.signIn("requester@acme.test", People.password)
        #expect(try again.post("/sign-in/two-factor", [("code", "000000")], from: "/sign-in/two-factor").status == 422)
        #expect(try again.post("/sign-in/two-factor", [("code", totp.code(at: Date()))], from: "/sign-in/two-factor").status == 429)
    }

    @Test func currentPasswordGuessesAreThrottledAndAudited() throws {
        let stolen = try people.signedIn("approver@acme.test", in: app)
        var statuses: [Int] = []
        for guess in 0..<6 {
            statuses.append(
                try stolen.post(
                    "/account/password",
                    [
                        ("current_password", "guess number \(guess)"),
                        ("new_password", "the thief's own phrase"),
                        ("confirmation", "the thief's own phrase"),
                    ], from: "/account"
                ).status)
        }
        #expect(statuses == [422, 422, 422, 422, 422, 429], "\(statuses)")
        let audited = try failures()
        #expect(audited.filter { $0 == "password_change wrong" }.count == 5, "\(audited)")
        #expect(audited.contains("password_change throttled"))
        // The guesses counted where sign-in's do: the account waits at the sign-in page as well.
        #expect(try WebVisitor(app).signIn("approver@acme.test", People.password).status == 429)
    }
}
