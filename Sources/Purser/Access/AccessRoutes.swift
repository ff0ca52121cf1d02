// The access feature's block of the route table: its stores made from the server's parts, then
// its pages and API routes.
import Foundation

enum AccessRoutes {
    static func register(in routes: inout RouteTable, parts: Routes.Parts) {
        let notices = AccessNotices(publicURL: parts.publicURL)
        let store = AccessStore(database: parts.database, clock: parts.world.clock, notices: notices, requests: parts.requests)
        let grants = AccessGrants(database: parts.database, clock: parts.world.clock, notices: notices, keyring: parts.keyring)
        let query = AccessQuery(database: parts.database)
        AccessPages.register(in: &routes, site: parts.site, store: store, grants: grants, query: query)
        AccessAPI.register(in: &routes, store: store, grants: grants, query: query)
        AccessPolicyAPI.register(in: &routes, store: store)
        AccessPolicyPages.register(in: &routes, site: parts.site, store: store)
    }
}
