// Wires Purser together: database pool, templates, routes, the public server and the metrics server.
import Foundation
import HTTPServer
import Logging
import Postgres

/// Serving needs the master key: it seals second-factor secrets and signs form tokens.
public struct MissingMasterKey: Error, CustomStringConvertible {
    public init() {}
    public var description: String {
        "PURSER_MASTER_KEY is not set (32 bytes in base64, or id:base64,…; purser dev makes one in .purser/master.key)"
    }
}

public final class PurserApp: Sendable {
    public let configuration: Configuration
    /// Time and the outside world, for everything this node serves.
    public let world: World
    public let database: Database
    public var pool: ConnectionPool { database.pool }
    public let metrics: MetricsRegistry
    public let server: Server
    public let metricsServer: Server?
    public let migrator: Migrator
    public let tokens: TokenStore
    public let sessions: SessionStore
    public let hasher: PasswordHasher
    private let notices: NoticeListener
    /// Answers of request lists, dropped when the tenant's requests change.
    public let requestLists: RequestListCache
    /// Every route served, with who may call it (Routes.swift).
    public let routeTable: RouteTable
    /// /readyz answers 503 once `purser serve` begins to drain (SIGTERM).
    public let readiness = Readiness()
    /// Signed-in visitors remembered by this node.
    let visitors: VisitorCache
    let logger: Logger

    /// `extraRoutes` are served beside Purser's own: tests plant routes there (a leaking one, to
    /// show that the isolation walk catches it).
    /// `world`: nil for the live one (the system clock, the configured SMTP server); tests pass one with a clock they move.
    public init(
        configuration: Configuration, databaseURL: String, logger: Logger, world: World? = nil,
        extraRoutes: [TableRoute] = []
    ) throws {
        guard let keyring = configuration.masterKey else { throw MissingMasterKey() }
        self.configuration = configuration
        let world = world ?? World.live(configuration)
        self.world = world
        self.logger = logger
        migrator = Migrator(files: try MigrationFile.load(from: configuration.migrationsFolder))
        database = Database(url: databaseURL, size: configuration.poolSize, mode: configuration.poolMode)
            .withReplica(configuration, clock: world.clock)
        metrics = MetricsRegistry()
        // Mail kept instead of sent (`purser dev` without SMTP_URL): the header links to it.
        let site = Site(
            templates: try Templates(folder: configuration.templatesFolder),
            staticFiles: try StaticFiles(folder: configuration.publicFolder),
            devMailLink: world.mail is MailCatcher ? SitePage.devMail.url : nil)

        let limiter = RateLimiter(database: database, clock: world.clock)
        tokens = TokenStore(database: database, clock: world.clock, limiter: limiter)
        let gate = APIGate(
            tokens: tokens, limiter: limiter,
            idempotency: IdempotencyStore(database: database, keyring: keyring, clock: world.clock), database: database)
        var sessionSettings = SessionSettings()
        sessionSettings.idleTimeout = TimeInterval(configuration.sessionIdleMinutes * 60)
        sessionSettings.absoluteLifetime = TimeInterval(configuration.sessionHours * 3600)
        sessionSettings.secureCookies = configuration.isHTTPS
        sessions = SessionStore(database: database, settings: sessionSettings, clock: world.clock)
        hasher = try PasswordHasher(workerThreads: configuration.workerThreads)
        let secondFactor = SecondFactor(database: database, keyring: keyring, clock: world.clock)
        let signIn = SignIn(
            database: database, sessions: sessions, hasher: hasher, throttle: SignInThrottle(clock: world.clock),
            secondFactor: secondFactor)
        let visitors = VisitorCache()
        self.visitors = visitors
        let auth = WebAuth(sessions: sessions, database: database, keyring: keyring, visitors: visitors)
        let publicURL =
            configuration.effectivePublicURL.hasSuffix("/")
            ? String(configuration.effectivePublicURL.dropLast()) : configuration.effectivePublicURL
        let requestLists = RequestListCache(capacity: configuration.rememberAnswers ? 10_000 : 0)
        self.requestLists = requestLists
        let requestNotices = RequestNotices(publicURL: publicURL)
        let requests = RequestStore(database: database, clock: world.clock, notices: requestNotices, lists: requestLists)
        let conversation = RequestComments(database: database, clock: world.clock, notices: requestNotices, lists: requestLists)
        let attachments = RequestAttachments(database: database, clock: world.clock, lists: requestLists)
        let desk = RequestDesk(
            store: requests, comments: conversation, watchers: RequestWatchers(database: database, clock: world.clock),
            activity: RequestActivity(database: database),
            groups: RequestGroups(database: database, clock: world.clock, lists: requestLists), attachments: attachments)
        routeTable = Routes.table(
            Routes.Parts(
                configuration: configuration, world: world, keyring: keyring, database: database, migrator: migrator, site: site,
                auth: auth, gate: gate,
                tokens: tokens, signIn: signIn, secondFactor: secondFactor,
                passwords: Passwords(database: database, hasher: hasher, sessions: sessions), publicURL: publicURL, lists: requestLists,
                requests: requests, comments: conversation, attachments: attachments, desk: desk, readiness: readiness),
            extra: extraRoutes)
        let router = Routes.router(routeTable, staticFiles: site.staticFiles)

        let serverConfiguration = ServerConfiguration(
            host: configuration.listenHost, port: configuration.listenPort,
            ioThreads: configuration.ioThreads, workerThreads: configuration.workerThreads,
            connectionLimit: configuration.connectionLimit, bodyLimit: configuration.bodyLimit,
            trustedProxies: configuration.trustedProxies, forwardedHeader: configuration.forwardedHeader,
            securityHeaders: SecurityHeaders(
                strictTransportSecurity:
                    configuration.isHTTPS ? "max-age=63072000; includeSubDomains" : nil),
            logger: logger, accessLog: configuration.logLevel <= .info ? JSONAccessLog(sink: .standardOutput) : nil,
            // A body refused for its size never reached the route, which names its visitor: the
            // page in the layout still shows who is signed in (a remembered session, or read now).
            errorRenderer: { problem, request in
                let visitor = problem.status == .contentTooLarge ? (try? auth.visitor(request)) ?? nil : nil
                return site.render(problem, for: request, visitor: visitor)
            })
        server = Server(
            configuration: serverConfiguration, router: router,
            middleware: [DatabaseErrorMapping(), DenialAudit(database: database, clock: world.clock, logger: logger)]
                + ReadYourWrites.middleware(configuration, database: database, clock: world.clock), metrics: metrics)

        let registry = metrics
        metricsServer = configuration.metricsHost.map {
            MetricsEndpoint.server(host: $0, port: configuration.metricsPort, registry: registry, logger: logger)
        }
        let subscriptions = [
            // Anything revoked while not listening may still be cached: start clean when connected.
            NoticeListener.Subscription(
                channel: TokenStore.revocationChannel,
                notice: { [tokens] in $0 == "*" ? tokens.forgetAll() : tokens.forget(lookup: $0) },
                connected: { [tokens] connected in if connected { tokens.forgetAll() } }),
            requestLists.subscription,
            visitors.subscription,
            // A person's roles or access grants changed: their tokens are read again (elevation shows at once).
            NoticeListener.Subscription(
                channel: VisitorCache.channel,
                notice: { [tokens] in
                    if let user = UUID(uuidString: $0) { tokens.forget(user: user) } else { tokens.forgetAll() }
                },
                connected: { [tokens] connected in if connected { tokens.forgetAll() } }),
        ]
        // LISTEN holds a server session: straight to PostgreSQL when DATABASE_URL is a pooler.
        notices = NoticeListener(url: configuration.databaseDirectURL ?? databaseURL, subscriptions: subscriptions, logger: logger)
        // This node's own changes reach the same subscribers before the answer that made them goes out.
        database.localNotices.add(subscriptions)
        registerGauges()
        database.replica?.register(in: metrics)
    }

    public func start() throws {
        notices.start()
        try server.start()
        try metricsServer?.start()
    }

    /// Drains the public server, stops the metrics server and closes the pool.
    public func shutdown() {
        server.shutdown()
        metricsServer?.shutdown()
        notices.stop()
        pool.close()
        database.replica?.close()
    }

    private func registerGauges() {
        let pool = self.pool
        let workers = server
        metrics.register(name: "purser_build_info", help: "Build information; the value is always 1.") {
            [.init([("version", PurserVersion.current)], 1)]
        }
        metrics.register(name: "purser_db_pool_connections", help: "Database connections by state.") {
            let stats = pool.statistics
            return [.init([("state", "in_use")], Double(stats.inUse)), .init([("state", "idle")], Double(stats.idle))]
        }
        metrics.register(name: "purser_db_pool_waiters", help: "Callers waiting for a free database connection.") {
            [.init([], Double(pool.statistics.waiting))]
        }
        metrics.register(name: "purser_http_requests_in_flight", help: "Requests received and not yet answered.") {
            [.init([], Double(workers.requestsInFlight))]
        }
        metrics.register(name: "purser_http_worker_backlog", help: "Requests waiting for a worker thread.") {
            [.init([], Double(workers.workerBacklog))]
        }
    }
}
