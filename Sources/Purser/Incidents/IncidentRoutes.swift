// The incidents block of the route table: pages, the API, and Alertmanager's webhook receiver.
import Foundation

enum IncidentRoutes {
    static func register(in routes: inout RouteTable, parts: Routes.Parts) {
        let store = IncidentStore(database: parts.database, clock: parts.world.clock, publicURL: parts.publicURL)
        IncidentPages.register(in: &routes, site: parts.site, store: store, database: parts.database, comments: parts.comments)
        IncidentSettingsPages.register(in: &routes, site: parts.site, store: store, database: parts.database)
        IncidentsAPI.register(in: &routes, store: store, database: parts.database, comments: parts.comments)
        AlertmanagerAPI.register(in: &routes, database: parts.database, publicURL: parts.publicURL)
        RunbooksAPI.register(in: &routes, database: parts.database)
    }
}
