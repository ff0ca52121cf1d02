import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The second factor end to end: set-up from the page's secret with codes from pyotp (an
/// independent implementation), recovery codes, replay refusal, and who must have one.
@Suite struct SecondFactorTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    /// The current code for a base32 secret, computed by pyotp.
    func pyotpCode(_ secret: String) throws -> String {
        let result = try Subprocess.run(
            try TestEnvironment.venvBin("python"),
            ["-c", "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).now())", secret])
        #expect(result.status == 0, "\(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func tenantAdminsMustSetUpASecondFactorBeforeAnythingElse() throws {
        let browser = WebVisitor(app)
        #expect(try browser.signIn("tenant_admin@acme.test", People.password).status == 303)
        let blocked = try browser.get("/t/acme/members")
        #expect(blocked.status == 303)
        #expect(blocked.header("Location") == "/account/two-factor")
        let setup = try browser.get("/account/two-factor")
        #expect(setup.status == 200)
        let secret = try #require(WebVisitor.firstMatch(#"id="totp-secret">([A-Z2-7 ]+)<"#, in: setup.text))
            .replacingOccurrences(of: " ", with: "")
        #expect(secret.count == 32, "160 bits in base32")
        #expect(setup.text.contains("otpauth://totp/Purser:tenant_admin@acme.test?secret=\(secret)"))
        // The same secret on a reload, until it is confirmed.
        #expect(
            try browser.get("/account/two-factor").text.contains(WebVisitor.firstMatch(#"id="totp-secret">([A-Z2-7 ]+)<"#, in: setup.text)!)
        )
        let before = try #require(browser.cookies["purser_session"])
        #expect(try browser.post("/account/two-factor", [("code", "000000")]).status == 422)
        let confirmed = try browser.post("/account/two-factor", [("code", try pyotpCode(secret))])
        #expect(confirmed.status == 200, "\(confirmed.text.prefix(500))")
        let codes = confirmed.text.components(separatedBy: "<li>").dropFirst()
            .compactMap { WebVisitor.firstMatch(#"^([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>"#, in: $0) }
        #expect(codes.count == 10)
        // A new privilege, a new session token.
        #expect(browser.cookies["purser_session"] != before)
        #expect(try browser.get("/t/acme/members").status == 200)
        // The secret is stored sealed, never in the clear.
        let stored = try app.database.connect().query("SELECT totp_secret FROM users WHERE email = 'tenant_admin@acme.test'")[0]
            .require(0, as: String.self)
        #expect(!stored.contains(secret) && stored.hasPrefix("test."))

        // Next sign-in asks for the second factor; a recovery code works once.
        try browser.post("/sign-out", [], from: "/account")
        let step = try browser.signIn("tenant_admin@acme.test", People.password)
        #expect(step.header("Location") == "/sign-in/two-factor")
        #expect(try browser.get("/t/acme/").header("Location") == "/sign-in/two-factor")
        let done = try browser.post("/sign-in/two-factor", [("code", codes[0].uppercased())], from: "/sign-in/two-factor")
        #expect(done.status == 303)
        #expect(try browser.get("/t/acme/members").status == 200)
        try browser.post("/sign-out", [], from: "/account")
        try browser.signIn("tenant_admin@acme.test", People.password)
        let reused = try browser.post("/sign-in/two-factor", [("code", codes[0])], from: "/sign-in/two-factor")
        #expect(reused.status == 422)
        // A TOTP code from the same time step as the confirmation is refused as a replay. Judged only
        // when the code was made in the confirmed step: past a 30 s boundary it is a new, valid code.
        let confirmedStep = try app.database.connect().query(
            "SELECT totp_last_step FROM users WHERE email = 'tenant_admin@acme.test'")[0].require(0, as: Int64.self)
        let stepBefore = Int64(Date().timeIntervalSince1970 / 30)
        let code = try pyotpCode(secret)
        let stepAfter = Int64(Date().timeIntervalSince1970 / 30)
        let replay = try browser.post("/sign-in/two-factor", [("code", code)], from: "/sign-in/two-factor")
        if stepBefore == stepAfter && stepAfter <= confirmedStep { #expect(replay.status == 422, "\(replay.status)") }
    }

    @Test func aCodeFromPyotpCompletesSignIn() throws {
        let totp = try people.enableSecondFactor("cse@staff.test", in: app)
        let browser = WebVisitor(app)
        let response = try browser.signIn("cse@staff.test", People.password) { try pyotpCode(Base32.encode(totp.secret)) }
        #expect(response.status == 303)
        #expect(response.header("Location") == "/start")
        #expect(try browser.get("/start").header("Location") == "/staff/")
        #expect(try browser.get("/staff/").status == 200)
        let actions = try app.database.connect().query("SELECT action FROM audit_events WHERE chain = 'provider'")
            .map { try $0.require(0, as: String.self) }
        #expect(actions.contains("session.second_factor"))
    }

    @Test func wrongCodesCountTowardsTheThrottle() throws {
        _ = try people.enableSecondFactor("cse@staff.test", in: app)
        let browser = WebVisitor(app)
        try browser.signIn("cse@staff.test", People.password)
        var statuses: [Int] = []
        for _ in 0..<6 {
            statuses.append(try browser.post("/sign-in/two-factor", [("code", "12345x")], from: "/sign-in/two-factor").status)
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == 422 })
        #expect(statuses.last == 429)
    }
}
