import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Only staff tokens name a tenant with `?tenant=`. A customer's token bound to no tenant (made by
/// `create-token` without `--tenant` before it refused one) used to be taken for a staff token: it
/// could name any tenant, learn which exist (403 there, 404 elsewhere) and write its denials into
/// that tenant's audit chain.
@Suite struct TenantlessTokenTests {
    let app: TestApp
    let acme: People
    let globex: People

    init() throws {
        app = try TestApp()
        acme = try People(app, staff: true)
        globex = try People(app, slug: "globex")
    }

    func bearer(_ email: String, tenant: UUID?) throws -> [(name: String, value: String)] {
        let token = try app.app.tokens.create(
            user: acme.id(email), tenant: tenant, name: "t", scopes: [.requestsRead, .reportsRead],
            lifetime: 3600, actor: .system)
        return [("Authorization", "Bearer \(token.token)")]
    }

    @Test func aCustomerTokenWithoutATenantNamesNone() throws {
        // None can be made any more; one made before that rule is bound to no tenant.
        #expect(throws: ValidationError.self) { try bearer("tenant_admin@acme.test", tenant: nil) }
        let headers = try bearer("tenant_admin@acme.test", tenant: acme.tenant)
        try app.database.connect().query("UPDATE api_tokens SET tenant_id = NULL")
        for path in [
            "/api/v1/requests?tenant=globex", "/api/v1/requests?tenant=acme", "/api/v1/me?tenant=globex",
            "/api/v1/reports/sla?tenant=globex", "/api/v1/requests",
        ] {
            #expect(try app.get(path, headers: headers).status == 404, "\(path)")
        }
        // The same answer as a tenant that does not exist.
        #expect(try app.get("/api/v1/requests?tenant=nowhere", headers: headers).status == 404)
        // It still says who it speaks for.
        #expect(try app.get("/api/v1/me", headers: headers).status == 200)
        let written = try app.database.connect().query(
            "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'access.denied'",
            [globex.tenant])[0].require(0, as: Int.self)
        #expect(written == 0, "nothing recorded in a tenant the token has nothing to do with")
    }

    @Test func staffAndBoundTokensAreUnchanged() throws {
        let staff = try bearer("cse@staff.test", tenant: nil)
        #expect(try app.get("/api/v1/requests?tenant=globex", headers: staff).status == 200)
        #expect(try app.get("/api/v1/requests", headers: staff).status == 400)
        let bound = try bearer("viewer@acme.test", tenant: acme.tenant)
        #expect(try app.get("/api/v1/requests", headers: bound).status == 200)
        #expect(try app.get("/api/v1/requests?tenant=globex", headers: bound).status == 404)
    }
}
