import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The account page and what a tenant admin does to people: tokens shown once, a password change
/// ending everything else, invitations through one-time links, role changes and deactivation
/// ending the person's sessions and tokens at once.
@Suite struct AccountTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app)
    }

    /// A tenant admin signed in with a second factor set up behind the scenes.
    func signedInAdmin() throws -> WebVisitor {
        try people.signedIn("tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
    }

    func me(_ token: String) throws -> Int {
        try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(token)")]).status
    }

    func token(on page: ClientResponse) -> String? {
        WebVisitor.firstMatch(#"id="token-value">(pur_[a-z2-7]{12}_[A-Za-z0-9_-]{43})<"#, in: page.text)
    }

    @Test func aTokenIsShownOnceAndWorks() throws {
        let browser = WebVisitor(app)
        try browser.signIn("requester@acme.test", People.password)
        let created = try browser.post(
            "/account/tokens",
            [
                ("name", "pipeline"), ("tenant", "acme"), ("scope", "requests:read"),
                ("scope", "requests:write"), ("expires_days", "30"),
            ], from: "/account")
        #expect(created.status == 201)
        let value = try #require(token(on: created))
        #expect(try me(value) == 200)
        let again = try browser.get("/account")
        #expect(!again.text.contains(value))
        #expect(again.text.contains("pipeline") && again.text.contains("requests:read requests:write"))
        let audit = try app.database.connect().query("SELECT after->>'name' FROM audit_events WHERE action = 'token.create'")
        #expect(try audit.first?.require(0, as: String.self) == "pipeline")
        // Bad input is a form message, nothing half-written.
        let bad = try browser.post("/account/tokens", [("name", ""), ("tenant", "other"), ("expires_days", "3")], from: "/account")
        #expect(bad.status == 422)
        #expect(bad.text.contains("Please check"))
        #expect(try app.database.connect().query("SELECT count(*) FROM api_tokens")[0].require(0, as: Int.self) == 1)
        // Revoked from the page: refused at once.
        let id = try app.database.connect().query("SELECT id FROM api_tokens")[0].require(0, as: UUID.self)
        #expect(try browser.post("/account/tokens/\(id.postgresText)/revoke", [], from: "/account").status == 303)
        #expect(try me(value) == 401)
    }

    @Test func staffActingOnTheirOwnAccountAreRecordedAsStaff() throws {
        let staff = try People(app, slug: "globex", staff: true)
        let browser = try staff.signedIn("cse@staff.test", in: app, totp: try staff.enableSecondFactor("cse@staff.test", in: app))
        #expect(
            try browser.post(
                "/account/password",
                [
                    ("current_password", People.password), ("new_password", "a much better passphrase"),
                    ("confirmation", "a much better passphrase"),
                ], from: "/account"
            ).status == 303)
        #expect(try browser.post("/account/sessions/end-all", [], from: "/account").status == 303)
        try WebVisitor(app).signIn("viewer@acme.test", People.password)
        func kinds(_ email: String) throws -> [String: Set<String>] {
            var kinds: [String: Set<String>] = [:]
            for row in try app.database.connect().query(
                "SELECT action, actor_kind FROM audit_events WHERE actor_id = $1",
                [people.users[email] ?? staff.id(email)])
            {
                kinds[try row.require(0), default: []].insert(try row.require(1))
            }
            return kinds
        }
        let cse = try kinds("cse@staff.test")
        for action in ["session.sign_in", "session.second_factor", "user.password_change", "session.sign_out_everywhere"] {
            #expect(cse[action] == ["staff"], "\(action): \(cse)")
        }
        #expect(try kinds("viewer@acme.test")["session.sign_in"] == ["user"])
    }

    @Test func aPasswordChangeEndsOtherSessionsAndTokens() throws {
        let laptop = WebVisitor(app), phone = WebVisitor(app)
        try laptop.signIn("viewer@acme.test", People.password)
        try phone.signIn("viewer@acme.test", People.password)
        let token = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead], lifetime: 3600, actor: .system)
        #expect(try me(token.token) == 200)
        let weak = try laptop.post(
            "/account/password",
            [
                ("current_password", People.password), ("new_password", "password1234"),
                ("confirmation", "password1234"),
            ], from: "/account")
        #expect(weak.status == 422)
        let wrongCurrent = try laptop.post(
            "/account/password",
            [
                ("current_password", "nope nope nope"),
                ("new_password", "a much better passphrase"),
                ("confirmation", "a much better passphrase"),
            ], from: "/account")
        #expect(wrongCurrent.status == 422)
        let changed = try laptop.post(
            "/account/password",
            [
                ("current_password", People.password),
                ("new_password", "a much better passphrase"),
                ("confirmation", "a much better passphrase"),
            ], from: "/account")
        #expect(changed.status == 303)
        #expect(try laptop.get("/account").status == 200, "this session continues, under a new token")
        #expect(try phone.get("/account").status == 303)
        #expect(try me(token.token) == 401)
        #expect(try WebVisitor(app).signIn("viewer@acme.test", "a much better passphrase").status == 303)
    }

    @Test func anInvitationSetsAPasswordOnceAndActivatesTheMembership() throws {
        let admin = try signedInAdmin()
        let invited = try admin.post(
            "/t/acme/members",
            [
                ("email", "New.Person@acme.test"), ("name", "New Person"),
                ("role", "approver"),
            ], from: "/t/acme/members")
        #expect(invited.status == 201, "\(invited.text.prefix(400))")
        let link = try #require(WebVisitor.firstMatch(#"(/links/[A-Za-z0-9_-]{43})"#, in: invited.text))
        let duplicate = try admin.post(
            "/t/acme/members",
            [
                ("email", "new.person@acme.test"), ("name", "Again"),
                ("role", "viewer"),
            ], from: "/t/acme/members")
        #expect(duplicate.status == 409)
        let newcomer = WebVisitor(app)
        #expect(try newcomer.get(link).status == 200)
        #expect(try newcomer.post(link, [("new_password", "short"), ("confirmation", "short")], from: link).status == 422)
        let set = try newcomer.post(
            link, [("new_password", "welcome aboard friend"), ("confirmation", "welcome aboard friend")],
            from: link)
        #expect(set.status == 303)
        #expect(try newcomer.get(link).status == 404, "a link works once")
        #expect(try newcomer.signIn("new.person@acme.test", "welcome aboard friend").status == 303)
        let page = try newcomer.get("/t/acme/")
        #expect(page.status == 200 && page.text.contains("approver"))
        let actions = try app.database.connect().query(
            "SELECT action FROM audit_events WHERE tenant_id = $1 ORDER BY sequence",
            [people.tenant]
        ).map { try $0.require(0, as: String.self) }
        #expect(actions.contains("membership.invite") && actions.contains("user.invitation_accept"))
    }

    @Test func inviteAnAddressFromAnotherTenantLooksLikeANewOne() throws {
        let other = try People(app, slug: "globex")
        _ = other
        let admin = try signedInAdmin()
        let known = try admin.post(
            "/t/acme/members", [("email", "viewer@globex.test"), ("name", "Someone"), ("role", "viewer")],
            from: "/t/acme/members")
        let unknown = try admin.post(
            "/t/acme/members", [("email", "fresh@globex.test"), ("name", "Someone"), ("role", "viewer")],
            from: "/t/acme/members")
        #expect(known.status == 201 && unknown.status == 201)
        #expect(known.text.contains("/links/") && unknown.text.contains("/links/"))
        // The existing person accepts by signing in as themselves; the membership was pending till then.
        let link = try #require(WebVisitor.firstMatch(#"(/links/[A-Za-z0-9_-]{43})"#, in: known.text))
        let viewer = WebVisitor(app)
        try viewer.signIn("viewer@globex.test", People.password)
        #expect(try viewer.get("/t/acme/").status == 404)
        #expect(try viewer.post(link, [("accept", "1")], from: link).header("Location") == "/t/acme/")
        #expect(try viewer.get("/t/acme/").status == 200)
    }

    @Test func aRoleChangeOrDeactivationEndsSessionsAndTokensAtOnce() throws {
        let admin = try signedInAdmin()
        let approver = WebVisitor(app)
        try approver.signIn("approver@acme.test", People.password)
        let user = people.id("approver@acme.test")
        let token = try app.app.tokens.create(
            user: user, tenant: people.tenant, name: "t", scopes: [.deploymentsRead],
            lifetime: 3600, actor: .system)
        #expect(try me(token.token) == 200)
        let changed = try admin.post("/t/acme/members/\(user.postgresText)/role", [("role", "viewer")], from: "/t/acme/members")
        #expect(changed.status == 200)
        #expect(try approver.get("/t/acme/").status == 303)
        #expect(try me(token.token) == 401)
        try approver.signIn("approver@acme.test", People.password)
        #expect(try approver.get("/t/acme/").text.contains("viewer"))
        #expect(try admin.post("/t/acme/members/\(user.postgresText)/deactivate", [], from: "/t/acme/members").status == 200)
        #expect(try approver.get("/t/acme/").status == 303)
        try approver.signIn("approver@acme.test", People.password)
        #expect(try approver.get("/t/acme/").status == 404)
        let events = try app.database.connect().query(
            """
            SELECT action, coalesce(before::text, ''), coalesce(after::text, '') FROM audit_events
            WHERE tenant_id = $1 AND action LIKE 'membership.%'
            ORDER BY sequence
            """, [people.tenant]
        ).map { try "\($0.require(0, as: String.self)) \($0.require(1, as: String.self)) \($0.require(2, as: String.self))" }
        #expect(events.contains(#"membership.role_change {"role": "approver"} {"role": "viewer"}"#))
        #expect(events.contains { $0.hasPrefix("membership.deactivate") })
    }

    @Test func theLastTenantAdminStays() throws {
        let admin = try signedInAdmin()
        let me = people.id("tenant_admin@acme.test")
        let refused = try admin.post("/t/acme/members/\(me.postgresText)/role", [("role", "viewer")], from: "/t/acme/members")
        #expect(refused.status == 409)
        #expect(refused.text.contains("another active tenant admin"))
    }

    @Test func peoplePagesNeedThePermission() throws {
        let viewer = WebVisitor(app)
        try viewer.signIn("viewer@acme.test", People.password)
        let response = try viewer.get("/t/acme/members")
        #expect(response.status == 403)
        #expect(response.text.contains("tenant.users.manage"))
        let denied = try app.database.connect().query("SELECT after->>'lacking' FROM audit_events WHERE action = 'access.denied'")
        #expect(try denied.first?.require(0, as: String.self) == "tenant.users.manage")
    }
}
