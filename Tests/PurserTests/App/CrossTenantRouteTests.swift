import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The wall between tenants, walked over every route the server has (IsolationWalk): another
/// tenant's slug or ids answer 404 — exactly what a tenant that does not exist answers — to pages
/// and the API alike; the visitor's own tenant answers without a server error and shows nothing of
/// another's; staff pages do not exist for customers; nothing of the other tenant changes.
@Suite struct CrossTenantRouteTests {
    @Test func everyRouteKeepsToItsTenant() throws {
        let app = try TestApp()
        let walk = try IsolationWalk(app)
        let routes = app.app.server.router.routes
        #expect(routes.filter { $0.template.contains("{tenant}") }.count >= 20, "the tenant routes: \(routes.map(\.template))")
        #expect(routes.filter { $0.template.hasPrefix("/api/v1/") }.count >= 15)
        let before = try walk.globexState()
        let problems = try walk.problems(routes: routes)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(try walk.globexState() == before, "nothing of globex changed")
    }

    /// The walk can fail: a route that answers whatever tenant it is asked about is caught.
    @Test func theWalkCatchesALeakingRoute() throws {
        let leak = Route(.get, "/t/{tenant}/leak") { _ in .text("Secret plans of globex") }
        let app = try TestApp(extraRoutes: [TableRoute(route: leak, access: .permission(.requestsRead))])
        let walk = try IsolationWalk(app)
        let problems = try walk.problems(routes: [leak])
        #expect(problems.contains { $0.contains("/t/globex/leak answered 200") }, "\(problems)")
        #expect(problems.contains { $0.contains("/t/acme/leak shows globex's") }, "\(problems)")
        // And a route with a parameter it was never taught is a problem, not a skip.
        let untaught = Route(.get, "/t/{tenant}/things/{thing}") { _ in .text("") }
        #expect(try walk.problems(routes: [untaught]) == ["teach the walk which id {thing} of /t/{tenant}/things/{thing} is"])
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
