// Every route of `purser serve`, block by block: each feature adds its routes to one table, and the
// router is made from that table here — the one place routes are registered (the metrics listener
// has its own). Tests read the same table: the isolation walk asks every route, and a route
// without its API document or scope fails a test.
import HTTPServer
import Postgres

enum Routes {
    /// What the blocks are made of.
    struct Parts {
        let configuration: Configuration
        let world: World
        let keyring: Keyring
        let database: Database
        let migrator: Migrator
        let site: Site
        let auth: WebAuth
        let gate: APIGate
        let tokens: TokenStore
        let signIn: SignIn
        let secondFactor: SecondFactor
        let passwords: Passwords
        let publicURL: String
        let lists: RequestListCache
        let requests: RequestStore
        let comments: RequestComments
        let attachments: RequestAttachments
        let desk: RequestDesk
        /// /readyz answers 503 once the node drains (`purser serve` on SIGTERM).
        var readiness = Readiness()
    }

    static func table(_ parts: Parts, extra: [TableRoute] = []) -> RouteTable {
        let (site, auth, gate, database) = (parts.site, parts.auth, parts.gate, parts.database)
        var routes = RouteTable(world: parts.world, auth: auth, gate: gate)
        HealthRoutes.register(in: &routes, pool: database.pool, migrator: parts.migrator, readiness: parts.readiness)
        HomePage.register(in: &routes, site: site, auth: auth)
        // Identity and sessions
        SignInPages.register(in: &routes, site: site, auth: auth, signIn: parts.signIn)
        AccountPages.register(in: &routes, site: site, tokens: parts.tokens, passwords: parts.passwords, signIn: parts.signIn)
        TwoFactorPages.register(in: &routes, site: site, auth: auth, secondFactor: parts.secondFactor, signIn: parts.signIn)
        LinkPages.register(in: &routes, site: site, auth: auth, passwords: parts.passwords)
        TenantPages.register(
            in: &routes, site: site, memberships: Memberships(database: database, clock: parts.world.clock),
            publicURL: parts.publicURL, emailInvites: parts.world.mail != nil)
        StaffPages.register(
            in: &routes, site: site, tenants: TenantStore(database: database, clock: parts.world.clock),
            database: database, publicURL: parts.publicURL)
        MeAPI.register(in: &routes)
        TokensAPI.register(in: &routes, tokens: parts.tokens)
        // Audit and background work
        AuditPages.register(in: &routes, site: site, database: database)
        JobPages.register(in: &routes, site: site, jobs: JobAdministration(database: database, clock: parts.world.clock))
        // Notifications
        NotificationPages.register(
            in: &routes, site: site,
            channels: NotificationChannels(
                database: database, keyring: parts.keyring,
                policy: DestinationPolicy(
                    allowHTTP: parts.configuration.allowHTTPDestinations,
                    allowed: parts.configuration.allowedDestinations), world: parts.world),
            database: database)
        NotificationsAPI.register(in: &routes, database: database)
        // Development only: the mail `purser dev` keeps instead of sending.
        if let catcher = parts.world.mail as? MailCatcher {
            DevMailPages.register(in: &routes, site: site, auth: auth, catcher: catcher)
        }
        // Service requests and service levels
        RequestPages.register(in: &routes, site: site, auth: auth, desk: parts.desk)
        QueuePages.register(
            in: &routes, site: site, desk: parts.desk,
            views: SavedViews(database: database, clock: parts.world.clock, lists: parts.lists))
        RequestsAPI.register(in: &routes, store: parts.requests, comments: parts.comments, lists: parts.lists)
        RequestsAPI.registerAttachments(in: &routes, store: parts.requests, attachments: parts.attachments)
        ReportPages.register(in: &routes, site: site, database: database)
        GroupPages.register(in: &routes, site: site, groups: parts.desk.groups)
        SLAPages.register(in: &routes, site: site, policies: SLAPolicies(database: database, clock: parts.world.clock))
        ReportsAPI.register(in: &routes, database: database)
        // Cost reports, budgets, anomalies and monthly reviews
        CostPages.register(in: &routes, site: site, database: database)
        CostsAPI.register(in: &routes, database: database)
        PricesAPI.register(in: &routes, database: database)
        MonthlyReviewPages.register(in: &routes, site: site, database: database)
        WeeklyReportPages.register(in: &routes, site: site, database: database)
        // SSH: the CA's public key and KRL for hosts; the GPU host inventory
        SSHRoutes.register(in: &routes, database: database)
        let hosts = HostStore(database: database, clock: parts.world.clock)
        HostPages.register(in: &routes, site: site, store: hosts)
        HostsAPI.register(in: &routes, store: hosts)
        SSHHostCertificates.register(in: &routes, store: hosts, keyring: parts.keyring)
        ProviderChannelPages.register(
            in: &routes, site: site, database: database, keyring: parts.keyring,
            policy: DestinationPolicy(
                allowHTTP: parts.configuration.allowHTTPDestinations, allowed: parts.configuration.allowedDestinations))
        // Just-in-time access: policies, access requests, approvals, grants, certificates
        AccessRoutes.register(in: &routes, parts: parts)
        // Costs: usage ingestion and the price catalogue
        UsageRoutes.register(in: &routes, site: site, auth: auth, database: database, clock: parts.world.clock)
        // Models and deployments
        DeploymentRoutes.register(
            in: &routes, site: site, database: database, world: parts.world, keyring: parts.keyring, requests: parts.requests,
            publicURL: parts.publicURL)
        // Incidents: alerts, escalation, postmortems, runbooks
        IncidentRoutes.register(in: &routes, parts: parts)
        // Endpoint monitoring: probes, uptime, error budgets, status pages
        MonitoringRoutes.register(in: &routes, parts: parts)
        // Last: the API document describes every route above.
        OpenAPIRoute.register(in: &routes)
        for route in extra { routes.add(route.route, access: route.access) }
        return routes
    }

    /// The router serving `table`, and the static files under their prefix.
    static func router(_ table: RouteTable, staticFiles: StaticFiles) -> Router {
        var router = Router()
        for entry in table.entries { router.add(entry.route) }
        router.addPrefix(staticFiles.prefix, staticFiles.route)
        return router
    }
}
