// The monitoring block of the route table: endpoint pages, the uptime report, status pages and the API.
import Foundation

enum MonitoringRoutes {
    static func register(in routes: inout RouteTable, parts: Routes.Parts) {
        let targets = ProbeTargets(
            database: parts.database, world: parts.world, keyring: parts.keyring,
            policy: DestinationPolicy(
                allowHTTP: parts.configuration.allowHTTPDestinations, allowed: parts.configuration.allowedDestinations))
        EndpointPages.register(in: &routes, site: parts.site, database: parts.database, targets: targets)
        UptimeReportPages.register(in: &routes, site: parts.site, database: parts.database)
        StatusPages.register(in: &routes, site: parts.site, database: parts.database, publicURL: parts.publicURL)
        MonitoringAPI.register(in: &routes, database: parts.database, targets: targets)
    }
}
