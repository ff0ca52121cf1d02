import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Signing in over the real server: success, the one failure message, throttling, where "back"
/// may lead, form tokens, and the cookie's attributes.
@Suite struct SignInTests {
    /// Purser's time of day here: it stands still until a test moves it.
    let clock = SettableClock(Date())
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp(clock: clock)
        people = try People(app)
    }

    @Test func aRightPasswordStartsASessionInAnHttpOnlyLaxCookie() throws {
        let browser = WebVisitor(app)
        let response = try browser.signIn("viewer@acme.test", People.password)
        #expect(response.status == 303)
        #expect(response.header("Location") == "/start")
        let cookie = try #require(response.headerValues("Set-Cookie").first { $0.hasPrefix("purser_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
        let value = try #require(browser.cookies["purser_session"])
        #expect(value.utf8.count == 43, "256 random bits, base64url")
        // Only the SHA-256 of the token is stored.
        let stored = try app.database.connect().query("SELECT token_hash FROM sessions")[0].require(0, as: Bytea.self)
        #expect(stored.bytes == RandomSecret.hash(value))
        let start = try browser.get("/start")
        #expect(start.header("Location") == "/t/acme/")
        let page = try browser.get("/t/acme/")
        #expect(page.status == 200)
        #expect(page.text.contains("viewer@acme.test") && page.text.contains("Acme Bank"))
        #expect(page.header("Cache-Control") == "no-store")
        let actions = try app.database.connect().query("SELECT action FROM audit_events WHERE chain = 'provider' ORDER BY sequence")
            .map { try $0.require(0, as: String.self) }
        #expect(actions.contains("session.sign_in"))
    }

    @Test func unknownEmailAndWrongPasswordGetTheSameAnswer() throws {
        let wrong = try WebVisitor(app).signIn("viewer@acme.test", "not the password at all")
        let unknown = try WebVisitor(app).signIn("nobody@acme.test", "not the password at all")
        #expect(wrong.status == 401 && unknown.status == 401)
        let message = "The email or password is not right."
        #expect(wrong.text.contains(message) && unknown.text.contains(message))
        #expect(wrong.header("Set-Cookie")?.contains("purser_session") != true)
        let failures = try app.database.connect().query(
            "SELECT count(*) FROM audit_events WHERE action = 'session.sign_in_failed'")[0].require(0, as: Int.self)
        #expect(failures == 2)
    }

    @Test func fiveFailuresMakeTheAccountWaitWithRetryAfter() throws {
        let browser = WebVisitor(app)
        for _ in 0..<5 {
            #expect(try browser.signIn("approver@acme.test", "wrong password here").status == 401)
        }
        // Even the right password waits now, and says for how long.
        let blocked = try browser.signIn("approver@acme.test", People.password)
        #expect(blocked.status == 429)
        let retryAfter = try #require(blocked.header("Retry-After").flatMap(Int.init))
        #expect((1...30).contains(retryAfter))
        #expect(blocked.text.contains("Too many failed sign-ins"))
        // Another account from the same address is not blocked by this one's failures.
        #expect(try WebVisitor(app).signIn("viewer@acme.test", People.password).status == 303)
        // Each further failure doubles the wait.
        clock.advance(by: 29)
        #expect(try browser.signIn("approver@acme.test", People.password).status == 429, "the wait is not over yet")
        clock.advance(by: 2)
        #expect(try browser.signIn("approver@acme.test", "wrong again").status == 401)
        let longer = try browser.signIn("approver@acme.test", People.password)
        #expect(longer.status == 429)
        #expect((31...60).contains(Int(longer.header("Retry-After") ?? "") ?? 0))
    }

    @Test func backLeadsOnlyToARelativePathOnPurser() throws {
        for (back, expected) in [
            ("/account", "/account"), ("//evil.example/x", "/start"), ("https://evil.example/", "/start"),
            ("/\\evil.example", "/start"), ("/t/acme/audit?action=x", "/t/acme/audit?action=x"),
        ] {
            let browser = WebVisitor(app)
            let response = try browser.post(
                "/sign-in",
                [
                    ("email", "viewer@acme.test"), ("password", People.password),
                    ("back", back),
                ], from: "/sign-in")
            #expect(response.header("Location") == expected, "back=\(back)")
        }
        // A page that needs a session sends people to sign in and names itself as the way back.
        let redirected = try WebVisitor(app).get("/account")
        #expect(redirected.status == 303)
        #expect(redirected.header("Location") == "/sign-in?back=/account")
    }

    @Test func formsWithoutTheSessionsTokenAreRefused() throws {
        let browser = WebVisitor(app)
        #expect(
            try browser.post("/sign-in", [("email", "viewer@acme.test"), ("password", People.password)], formToken: nil)
                .status == 403)
        try browser.signIn("viewer@acme.test", People.password)
        let forged = try browser.post(
            "/account/tokens",
            [
                ("name", "x"), ("tenant", "acme"), ("scope", "requests:read"),
                ("expires_days", "30"),
            ], formToken: "forged")
        #expect(forged.status == 403)
        #expect(forged.text.contains("This form has expired"))
        let missing = try browser.post("/account/tokens", [("name", "x")], formToken: nil)
        #expect(missing.status == 403)
        // Another session's token does not work here either.
        let other = WebVisitor(app)
        try other.signIn("requester@acme.test", People.password)
        let othersToken = try other.formToken(on: "/account")
        #expect(try browser.post("/sign-out", [], formToken: othersToken).status == 403)
        #expect(try app.database.connect().query("SELECT count(*) FROM api_tokens")[0].require(0, as: Int.self) == 0)
    }

    @Test func aTamperedCookieIsNoSession() throws {
        let browser = WebVisitor(app)
        try browser.signIn("viewer@acme.test", People.password)
        let genuine = try #require(browser.cookies["purser_session"])
        let tampered = String(genuine.dropLast()) + (genuine.hasSuffix("A") ? "B" : "A")
        let response = try app.get("/account", headers: [("Cookie", "purser_session=\(tampered)")])
        #expect(response.status == 303)
        #expect(response.header("Location")?.hasPrefix("/sign-in") == true)
        #expect(response.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try app.get("/account", headers: [("Cookie", "purser_session=<script>")]).status == 303)
    }

    @Test func theStoredHashIsStandardArgon2id() throws {
        let hash = try app.database.connect().query("SELECT password_hash FROM users WHERE email = 'viewer@acme.test'")[0]
            .require(0, as: String.self)
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(hash.split(separator: "$").count == 5)
    }

    @Test func signOutEndsTheSessionForGood() throws {
        let browser = WebVisitor(app)
        try browser.signIn("viewer@acme.test", People.password)
        let cookie = try #require(browser.cookies["purser_session"])
        let out = try browser.post("/sign-out", [], from: "/account")
        #expect(out.status == 303)
        #expect(browser.cookies["purser_session"] == nil)
        #expect(try app.get("/account", headers: [("Cookie", "purser_session=\(cookie)")]).status == 303)
    }

    @Test func signOutEverywhereEndsEverySession() throws {
        let laptop = WebVisitor(app), phone = WebVisitor(app)
        try laptop.signIn("viewer@acme.test", People.password)
        try phone.signIn("viewer@acme.test", People.password)
        #expect(try phone.get("/account").status == 200)
        #expect(try laptop.post("/account/sessions/end-all", [], from: "/account").status == 303)
        #expect(try phone.get("/account").status == 303)
        #expect(try laptop.get("/account").status == 303)
    }

    @Test func sessionsEndAfterIdleTimeAndAfterTheirLifetime() throws {
        let idle = WebVisitor(app), old = WebVisitor(app)
        try idle.signIn("viewer@acme.test", People.password)
        try old.signIn("requester@acme.test", People.password)
        #expect(try idle.get("/account").status == 200)
        // Thirty minutes without a request end a session; one used every twenty minutes lives on.
        let started = clock.now
        clock.advance(by: 20 * 60)
        #expect(try old.get("/account").status == 200)
        clock.advance(by: 11 * 60)
        #expect(try old.get("/account").status == 200)
        #expect(waitUntil(5) { (try? idle.get("/t/acme/").status) == 303 })
        // Active all along, but past the absolute lifetime of 12 hours.
        while clock.now.timeIntervalSince(started) < 12 * 3600 - 20 * 60 {
            clock.advance(by: 20 * 60)
            #expect(try old.get("/account").status == 200)
        }
        clock.advance(by: 20 * 60)
        #expect(waitUntil(5) { (try? old.get("/account").status) == 303 })
        let expired = try idle.get("/t/acme/")
        #expect(expired.status == 303)
        #expect(expired.header("Location") == "/sign-in?back=/t/acme/")
        // Signing in again goes back where the person was.
        let again = try idle.post(
            "/sign-in",
            [
                ("email", "viewer@acme.test"), ("password", People.password),
                ("back", "/t/acme/"),
            ], from: "/sign-in?back=/t/acme/")
        #expect(again.header("Location") == "/t/acme/")
    }

    @Test func aSessionEndedElsewhereIsForgottenHereWithinMoments() throws {
        let browser = WebVisitor(app)
        try browser.signIn("viewer@acme.test", People.password)
        #expect(try browser.get("/account").status == 200)
        // Another node ends it (its own connection): this node's remembered visitor hears of it by NOTIFY.
        try app.database.connect().query(
            "UPDATE sessions SET ended_at = $2 WHERE user_id = $1",
            [people.id("viewer@acme.test"), clock.now])
        #expect(waitUntil(5) { (try? browser.get("/account").status) == 303 })
    }

    @Test func aSessionCookieNeverAuthenticatesTheAPI() throws {
        let browser = WebVisitor(app)
        try browser.signIn("viewer@acme.test", People.password)
        let response = try app.get("/api/v1/me", headers: [("Cookie", "purser_session=\(browser.cookies["purser_session"]!)")])
        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
    }

    @Test func signingInAgainReplacesTheBrowsersSession() throws {
        let browser = WebVisitor(app)
        let formToken = try browser.formToken(on: "/sign-in")
        try browser.signIn("viewer@acme.test", People.password)
        let first = try #require(browser.cookies["purser_session"])
        // The sign-in form of before, sent again with another account (signed in, /sign-in redirects).
        try browser.post("/sign-in", [("email", "requester@acme.test"), ("password", People.password)], formToken: formToken)
        #expect(browser.cookies["purser_session"] != first)
        #expect(try app.get("/account", headers: [("Cookie", "purser_session=\(first)")]).status == 303)
        #expect(try browser.get("/account").text.contains("requester@acme.test"))
    }
}
