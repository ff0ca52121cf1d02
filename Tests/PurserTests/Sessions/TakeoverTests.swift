import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Ways one person might gain or keep another's account, each closed: invitations that would set
/// someone else's password, accounts adopted as staff, second-factor guesses spread over sign-ins,
/// sessions that outlive a new second factor, tokens that outlive their maker, and token secrets
/// kept for replay.
@Suite struct TakeoverTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func adminBrowser() throws -> WebVisitor {
        try people.signedIn("tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
    }

    @Test func anInvitationCannotSetThePasswordOfAnAccountThatExists() throws {
        // A staff account created without a password, waiting for its reset link.
        let staff = try PersonStore(database: app.app.database, hasher: app.app.hasher, clock: app.app.world.clock).addStaff(
            NewPerson(email: "ops@provider.test", name: "Ops"), role: .providerAdmin, actor: .system, reason: nil)
        let admin = try adminBrowser()
        let invited = try admin.post(
            "/t/acme/members", [("email", "ops@provider.test"), ("name", "Who"), ("role", "viewer")],
            from: "/t/acme/members")
        #expect(invited.status == 201)
        let link = try #require(WebVisitor.firstMatch(#"(/links/[A-Za-z0-9_-]{43})"#, in: invited.text))
        let page = try admin.get(link)
        #expect(!page.text.contains("new_password"), "no password form for an account the invitation did not create")
        let attempt = try WebVisitor(app).post(
            link,
            [
                ("new_password", "attacker chosen phrase"),
                ("confirmation", "attacker chosen phrase"),
            ], from: "/sign-in")
        #expect(attempt.status == 422)
        let hash = try app.database.connect().query("SELECT password_hash FROM users WHERE id = $1", [staff])[0]
            .decode(0, as: String.self)
        #expect(hash == nil)
        // The pending member is listed under the name the admin typed, not the account's own.
        #expect(try admin.get("/t/acme/members").text.contains("Who"))
    }

    @Test func anAccountMadeByAnInvitationNeverBecomesStaff() throws {
        let admin = try adminBrowser()
        #expect(
            try admin.post(
                "/t/acme/members", [("email", "newhire@provider.test"), ("name", "N"), ("role", "viewer")],
                from: "/t/acme/members"
            ).status == 201)
        #expect(throws: ValidationError.self) {
            try PersonStore(database: app.app.database, hasher: app.app.hasher, clock: app.app.world.clock).addStaff(
                NewPerson(email: "newhire@provider.test", name: "New Hire", password: "a long staff passphrase"),
                role: .providerAdmin, actor: .system, reason: nil)
        }
        let role = try app.database.connect().query("SELECT staff_role FROM users WHERE email = 'newhire@provider.test'")[0]
            .decode(0, as: String.self)
        #expect(role == nil)
    }

    @Test func secondFactorGuessesAreCountedAcrossSignIns() throws {
        _ = try people.enableSecondFactor("cse@staff.test", in: app)
        let browser = WebVisitor(app)
        var statuses: [Int] = []
        for round in 0..<2 {
            try browser.signIn("cse@staff.test", People.password)
            for _ in 0..<(round == 0 ? 3 : 3) {
                statuses.append(try browser.post("/sign-in/two-factor", [("code", "000000")], from: "/sign-in/two-factor").status)
            }
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == 422 }, "\(statuses)")
        #expect(statuses.last == 429, "a right password does not wipe the count of wrong codes: \(statuses)")
    }

    @Test func changingAPendingMembershipLeavesThePersonsSessionsAlone() throws {
        let admin = try adminBrowser()
        let victim = try people.signedIn("viewer@acme.test", in: app)
        _ = try People(app, slug: "globex")
        // Globex's viewer is invited to acme, then has the pending role toggled.
        let invited = try admin.post(
            "/t/acme/members", [("email", "viewer@globex.test"), ("name", "V"), ("role", "viewer")],
            from: "/t/acme/members")
        #expect(invited.status == 201)
        let globexViewer = try people.signedIn("viewer@globex.test", in: app)
        let id = try app.database.connect().query("SELECT id FROM users WHERE email = 'viewer@globex.test'")[0].require(0, as: UUID.self)
        #expect(try admin.post("/t/acme/members/\(id.postgresText)/role", [("role", "requester")], from: "/t/acme/members").status == 200)
        #expect(try globexViewer.get("/t/globex/").status == 200)
        #expect(try victim.get("/t/acme/").status == 200)
    }

    @Test func turningOnTheSecondFactorEndsOtherSessionsAndChangesNeedACode() throws {
        let stolen = try people.signedIn("viewer@acme.test", in: app)
        let owner = try people.signedIn("viewer@acme.test", in: app)
        let setup = try owner.get("/account/two-factor")
        let secret = try #require(WebVisitor.firstMatch(#"id="totp-secret">([A-Z2-7 ]+)<"#, in: setup.text))
            .replacingOccurrences(of: " ", with: "")
        let totp = TOTP(secret: try #require(Base32.decode(secret)))
        #expect(try owner.post("/account/two-factor", [("code", totp.code(at: Date()))]).status == 200)
        #expect(try stolen.get("/account").status == 303, "the session from before the second factor ended")
        // New recovery codes or turning it off need a current code.
        #expect(try owner.post("/account/two-factor/recovery-codes", [("code", "")], from: "/account/two-factor").status == 422)
        #expect(try owner.post("/account/two-factor/disable", [("code", "123456")], from: "/account/two-factor").status == 422)
        let on = try app.database.connect().query("SELECT totp_enabled_at IS NOT NULL FROM users WHERE email = 'viewer@acme.test'")[0]
        #expect(try on.require(0, as: Bool.self))
    }

    @Test func aTokenMadeByATokenEndsWithIt() throws {
        let parent = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "parent",
            scopes: [.requestsRead], lifetime: 86400, actor: .system)
        let body = Array(#"{"name":"child","scopes":["requests:read"],"expires_in_days":365}"#.utf8)
        let made = try app.send(
            "POST", "/api/v1/tokens",
            headers: [
                ("Authorization", "Bearer \(parent.token)"),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "child-1"),
            ], body: body)
        #expect(made.status == 201)
        let child = try #require((try JSONSerialization.jsonObject(with: Data(made.body)) as? [String: Any])?["token"] as? String)
        let expiry = try app.database.connect().query("SELECT expires_at <= $1 FROM api_tokens WHERE name = 'child'", [parent.expiresAt])[0]
        #expect(try expiry.require(0, as: Bool.self), "never outlives its parent")
        // The replayable answer is sealed: the token's text is not in the database.
        let stored = try app.database.connect().query("SELECT body FROM idempotency_keys")[0].require(0, as: Bytea.self)
        #expect(!String(decoding: stored.bytes, as: UTF8.self).contains(child))
        #expect(
            try app.send(
                "POST", "/api/v1/tokens",
                headers: [
                    ("Authorization", "Bearer \(parent.token)"),
                    ("Content-Type", "application/json"),
                    ("Idempotency-Key", "child-1"),
                ], body: body
            ).body == made.body)
        try app.app.tokens.revoke(parent.id, actor: .system)
        #expect(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(child)")]).status == 401)
    }

    @Test func aResetLinkWorksInABrowserThatIsSignedIn() throws {
        let browser = try people.signedIn("requester@acme.test", in: app)
        let path = try ResetLinks.issue(
            email: "requester@acme.test", actor: .system, database: app.app.database,
            at: app.app.world.now
        ).path
        #expect(
            try browser.post(
                path, [("new_password", "another fine passphrase"), ("confirmation", "another fine passphrase")],
                from: path
            ).status == 303)
        #expect(try WebVisitor(app).signIn("requester@acme.test", "another fine passphrase").status == 303)
    }
}
