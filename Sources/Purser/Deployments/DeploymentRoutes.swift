// The registry's and deployments' routes, pages and API, as one block of the route table.
import Foundation

enum DeploymentRoutes {
    static func register(
        in routes: inout RouteTable, site: Site, database: Database, world: World, keyring: Keyring, requests: RequestStore,
        publicURL: String
    ) {
        let registry = ModelRegistry(database: database, clock: world.clock)
        let targets = DeploymentTargets(database: database, keyring: keyring, clock: world.clock)
        let store = DeploymentStore(database: database, clock: world.clock, requests: requests, publicURL: publicURL)
        RegistryAPI.register(in: &routes, registry: registry)
        DeploymentsAPI.register(in: &routes, store: store)
        RegistryPages.register(in: &routes, site: site, registry: registry)
        // Before the deployment pages: the router takes /deployments/policies for the first route that matches it.
        PolicyPages.register(in: &routes, site: site, database: database)
        DeploymentPages.register(in: &routes, site: site, store: store, registry: registry, targets: targets)
        TargetPages.register(in: &routes, site: site, targets: targets, database: database)
    }
}
