import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Every route that names a tenant, asked by someone of another tenant (even its admin, even
/// with a valid form token), answers 404 — exactly what a tenant that does not exist answers.
@Suite struct CrossTenantRouteTests {
    @Test func everyTenantRouteIs404FromAnotherTenant() throws {
        let app = try TestApp()
        let acme = try People(app, slug: "acme")
        _ = try People(app, slug: "globex")
        let visitor = try acme.signedIn("tenant_admin@acme.test", in: app,
                                        totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let formToken = try visitor.formToken(on: "/account")
        let routes = CrossTenant.tenantRoutes(app)
        #expect(routes.count >= 7, "the tenant routes: \(routes.map(\.template))")
        for route in routes {
            // The visitor's own tenant answers (so a 404 elsewhere is the wall, not a broken route) …
            if route.method == .get {
                let own = try visitor.get(CrossTenant.path(route, tenant: "acme"))
                // (A route naming a thing as well as the tenant finds nothing under a random id even at home.)
                let names = route.template.split(separator: "/").filter { $0.hasPrefix("{") }.count
                #expect(own.status != 404 || names > 1, "\(route.template) works in acme")
            }
            // … another tenant, and one that does not exist, answer the same 404.
            for slug in ["globex", "no-such-tenant"] {
                let answer = try CrossTenant.answerIfNot404(visitor, route, tenant: slug, formToken: formToken)
                #expect(answer == nil, "\(answer ?? "")")
            }
        }
        // Nothing was written in the other tenant.
        let globex = try app.database.connect().query("SELECT count(*) FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = 'globex'")
        #expect(try globex[0].require(0, as: Int.self) == 4)
    }

    @Test func staffPagesDoNotExistForCustomers() throws {
        let app = try TestApp()
        _ = try People(app)
        let viewer = WebVisitor(app)
        try viewer.signIn("viewer@acme.test", People.password)
        for path in ["/staff/", "/staff/audit", "/staff/audit.csv"] {
            #expect(try viewer.get(path).status == 404, "\(path)")
        }
    }
}
