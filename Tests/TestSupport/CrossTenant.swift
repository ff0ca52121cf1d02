// The wall between tenants, checked route by route: a person of one tenant naming another
// tenant in a URL gets 404 — the same answer as a tenant that does not exist, so nobody learns
// which tenants exist. Later issues call this for every route they add.
import Foundation
import HTTPClient
import HTTPServer

public enum CrossTenant {
    /// The routes whose template names a tenant (`{tenant}`), as the server registered them.
    public static func tenantRoutes(_ app: TestApp) -> [Route] {
        app.app.server.router.routes.filter { $0.template.contains("{tenant}") }
    }

    /// The path of `route` with `{tenant}` = `slug` and any other parameter a fresh UUID.
    public static func path(_ route: Route, tenant slug: String) -> String {
        route.template.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            if segment == "{tenant}" { return slug }
            if segment.hasPrefix("{") { return UUID().uuidString.lowercased() }
            return String(segment)
        }.joined(separator: "/")
    }

    /// Asks for `route` in tenant `slug` as `visitor` (a signed-in member of another tenant) and
    /// returns a description of the answer when it is not a 404, nil when it is.
    public static func answerIfNot404(_ visitor: WebVisitor, _ route: Route, tenant slug: String, formToken: String) throws -> String? {
        let path = path(route, tenant: slug)
        let response = route.method == .get ? try visitor.get(path)
            : try visitor.post(path, [("role", "viewer"), ("email", "x@example.test"), ("name", "X")], formToken: formToken)
        return response.status == 404 ? nil : "\(route.method.rawValue) \(path) answered \(response.status)"
    }
}
