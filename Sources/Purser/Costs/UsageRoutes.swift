// The usage and price routes in one block, so the shared route list names them once.
import HTTPServer

enum UsageRoutes {
    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, database: Database, clock: any WallClock) {
        let ingest = UsageIngest(database: database)
        UsageAPI.register(in: &routes, ingest: ingest)
        UsagePages.register(in: &routes, site: site, auth: auth, ingest: ingest)
        PricePages.register(
            in: &routes, site: site, catalogue: PriceCatalogue(database: database), tenants: TenantStore(database: database, clock: clock))
    }
}
