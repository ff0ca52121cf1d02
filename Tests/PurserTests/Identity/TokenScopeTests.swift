import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A token never carries more than its owner: scopes follow the permissions their routes check,
/// and the account page, the tokens API and `purser admin create-token` offer and accept only
/// those the owner's role can use in the token's tenant (staff: their staff role).
@Suite struct TokenScopeTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func usable(_ role: CustomerRole) -> [String] {
        Principal(user: UUID(), tenantRole: role, staffRole: nil).usableScopes.map(\.rawValue)
    }

    @Test func scopesFollowThePermissionsOfRoles() throws {
        #expect(usable(.viewer) == ["requests:read", "deployments:read", "costs:read", "reports:read", "incidents:read"])
        #expect(
            usable(.requester) == [
                "requests:read", "requests:write", "deployments:read", "deployments:write",
                "access:request", "costs:read", "reports:read", "hosts:read", "incidents:read",
            ])
        #expect(!usable(.approver).contains("alerts:write") && usable(.tenantAdmin).contains("alerts:write"))
        #expect(usable(.approver).contains("approvals:write") && usable(.approver).contains("access:approve"))
        #expect(!usable(.approver).contains("notifications:read"))
        #expect(usable(.tenantAdmin).contains("notifications:read") && usable(.tenantAdmin).contains("usage:write"))
        #expect(!usable(.approver).contains("usage:write"))
        let cse = Principal(user: UUID(), tenantRole: nil, staffRole: .cse).usableScopes.map(\.rawValue)
        #expect(!cse.contains("approvals:write") && !cse.contains("usage:write") && cse.contains("requests:write"))
        #expect(Principal(user: UUID(), tenantRole: nil, staffRole: .platformEngineer).usableScopes.contains(.usageWrite))
        // Every scope is usable by someone, and `admin`, which no route checked, is gone.
        #expect(Scope(rawValue: "admin") == nil)
        for scope in Scope.allCases {
            #expect(
                (CustomerRole.allCases.map { Principal(user: UUID(), tenantRole: $0, staffRole: nil) }
                    + StaffRole.allCases.map { Principal(user: UUID(), tenantRole: nil, staffRole: $0) })
                    .contains { $0.usableScopes.contains(scope) }, "\(scope.rawValue)")
        }
    }

    @Test func theAccountPageOffersAndAcceptsOnlyTheRolesScopes() throws {
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        let page = try viewer.get("/account")
        #expect(page.text.contains(#"value="requests:read""#))
        #expect(!page.text.contains(#"value="requests:write""#) && !page.text.contains(#"value="notifications:read""#))
        let wider = try viewer.post(
            "/account/tokens",
            [
                ("name", "wider"), ("tenant", "acme"), ("scope", "requests:read"),
                ("scope", "requests:write"), ("expires_days", "30"),
            ], from: "/account")
        #expect(wider.status == 422)
        #expect(wider.text.contains("cannot use requests:write"))
        #expect(try app.database.connect().query("SELECT count(*) FROM api_tokens")[0].require(0, as: Int.self) == 0)
        let fitting = try viewer.post(
            "/account/tokens",
            [
                ("name", "reader"), ("tenant", "acme"), ("scope", "requests:read"),
                ("expires_days", "30"),
            ], from: "/account")
        #expect(fitting.status == 201)
        // Staff get a staff form with their staff role's scopes: a CSE cannot approve.
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(
            try cse.post(
                "/account/tokens",
                [
                    ("name", "x"), ("tenant", ""), ("scope", "approvals:write"),
                    ("expires_days", "30"),
                ], from: "/account"
            ).status == 422)
        #expect(
            try cse.post(
                "/account/tokens",
                [
                    ("name", "x"), ("tenant", ""), ("scope", "requests:write"),
                    ("expires_days", "30"),
                ], from: "/account"
            ).status == 201)
    }

    @Test func aTokenMakesNoChildBeyondItsOwnersRole() throws {
        // None can be made now; one from before scopes followed roles: a viewer holding requests:write.
        #expect(throws: ValidationError.self) {
            try app.app.tokens.create(
                user: people.id("viewer@acme.test"), tenant: people.tenant, name: "new",
                scopes: [.requestsRead, .requestsWrite], lifetime: 86400, actor: .system)
        }
        let legacy = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "old",
            scopes: [.requestsRead], lifetime: 86400, actor: .system)
        try app.database.connect().query("UPDATE api_tokens SET scopes = '{requests:read,requests:write}' WHERE id = $1", [legacy.id])
        func mint(_ scopes: String) throws -> ClientResponse {
            try app.send(
                "POST", "/api/v1/tokens",
                headers: [
                    ("Authorization", "Bearer \(legacy.token)"),
                    ("Content-Type", "application/json"),
                ],
                body: Array(#"{"name":"child","scopes":[\#(scopes)],"expires_in_days":1}"#.utf8))
        }
        let wider = try mint(#""requests:write""#)
        #expect(wider.status == 403)
        #expect(wider.text.contains("requests.comment") || wider.text.contains("requests.create"))
        #expect(try mint(#""requests:read""#).status == 201)
        #expect(try mint(#""admin""#).status == 422, "no such scope any more")
        let children = try app.database.connect().query("SELECT scopes FROM api_tokens WHERE name = 'child'")
            .map { try $0.require(0, as: [String].self) }
        #expect(children == [["requests:read"]])
    }

    @Test func theCommandRefusesScopesAndTenantsBeyondTheOwner() throws {
        let environment = ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": app.database.url]
        func createToken(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let run = try Subprocess.run(
                TestEnvironment.purserBinary.path, ["admin", "create-token"] + arguments, environment: environment)
            return (run.status, run.output)
        }
        let wider = try createToken(["--email", "viewer@acme.test", "--tenant", "acme", "--scopes", "requests:read,requests:write"])
        #expect(wider.status != 0)
        #expect(wider.output.contains("cannot use requests:write"))
        let tenantless = try createToken(["--email", "viewer@acme.test", "--scopes", "requests:read"])
        #expect(tenantless.status != 0)
        #expect(tenantless.output.contains("only staff hold a token bound to no tenant"))
        _ = try People(app, slug: "globex")
        #expect(try createToken(["--email", "viewer@acme.test", "--tenant", "globex", "--scopes", "requests:read"]).status != 0)
        #expect(try createToken(["--email", "cse@staff.test", "--scopes", "approvals:write"]).status != 0)
        #expect(try app.database.connect().query("SELECT count(*) FROM api_tokens")[0].require(0, as: Int.self) == 0)
        let fitting = try createToken(["--email", "viewer@acme.test", "--tenant", "acme", "--scopes", "requests:read"])
        #expect(fitting.status == 0, "\(fitting.output)")
        #expect(try createToken(["--email", "platform_engineer@staff.test", "--scopes", "usage:write"]).status == 0)
    }

    @Test func storedAdminScopesAreDroppedWithoutBreakingTheirTokens() throws {
        let db = try app.database.connect()
        let token = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "old",
            scopes: [.requestsRead], lifetime: 86400, actor: .system)
        try db.query("UPDATE api_tokens SET scopes = ARRAY['requests:read', 'admin'] WHERE id = $1", [token.id])
        let migration = try String(
            contentsOf: TestEnvironment.root.appendingPathComponent("migrations/0016_no_admin_scope.sql"),
            encoding: .utf8)
        try db.query(migration)
        let scopes = try db.query("SELECT scopes FROM api_tokens WHERE id = $1", [token.id])[0].require(0, as: [String].self)
        #expect(scopes == ["requests:read"])
        #expect(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(token.token)")]).status == 200)
    }
}
