// Starting the worker the way `purser work` and `purser dev` both do: the standard handlers and
// schedules, the settings from the configuration.
import Foundation
import Logging
import Postgres

public enum JobRunner {
    /// `world`: nil for the live one (the system clock, the configured SMTP server).
    public static func start(
        configuration: Configuration, world: World? = nil, handlers: JobHandlers? = nil,
        logger: Logger
    ) throws -> JobWorker {
        guard let url = configuration.databaseURL else { throw MissingDatabaseURL() }
        let handlers = try handlers ?? standardHandlers(configuration)
        let worker = JobWorker(
            url: url, listenURL: configuration.databaseDirectURL, mode: configuration.poolMode, handlers: handlers,
            settings: configuration.jobWorkerSettings,
            world: world ?? World.live(configuration), logger: logger)
        try worker.database.pool.transaction { tx in
            for schedule in Schedules.standard { try Schedules.ensure(schedule, in: tx, now: worker.world.now) }
            try TenantSchedules.ensureEveryTenant(tx, now: worker.world.now)
        }
        worker.start()
        return worker
    }

    public struct MissingDatabaseURL: Error, CustomStringConvertible {
        public var description: String { "DATABASE_URL is not set" }
    }

    /// The standard handlers and the notification deliveries, set up from the configuration.
    public static func standardHandlers(_ configuration: Configuration) throws -> JobHandlers {
        var handlers = JobHandlers.standard
        guard let keyring = configuration.masterKey else { throw MissingMasterKey() }
        let publicURL =
            configuration.effectivePublicURL.hasSuffix("/")
            ? String(configuration.effectivePublicURL.dropLast()) : configuration.effectivePublicURL
        let from = configuration.mailFrom ?? "purser@" + (configuration.publicURL?.host ?? "localhost")
        Delivery.register(
            into: &handlers,
            settings: NotificationSettings(
                composer: MailComposer(templates: try Templates(folder: configuration.templatesFolder), from: from, publicURL: publicURL),
                destinations: DestinationPolicy(allowHTTP: configuration.allowHTTPDestinations, allowed: configuration.allowedDestinations),
                breaker: Breaker(coolDown: TimeInterval(configuration.breakerCoolDownSeconds)), keyring: keyring))
        SLAChecks.register(into: &handlers, notices: RequestNotices(publicURL: publicURL))
        AuditCheckpointJob.register(into: &handlers, keyring: keyring)
        RolloutReconciler.register(
            into: &handlers,
            settings: RolloutReconciler.Settings(keyring: keyring, coolDown: TimeInterval(configuration.breakerCoolDownSeconds)))
        AccessJobs.register(into: &handlers, notices: AccessNotices(publicURL: publicURL))
        HostHealthCheck.register(into: &handlers, keyring: keyring)
        HostDrain.register(into: &handlers, keyring: keyring)
        BudgetChecks.register(into: &handlers, publicURL: publicURL)
        AnomalyScan.register(into: &handlers, publicURL: publicURL)
        MonthlyReviewJob.register(into: &handlers, publicURL: publicURL)
        WeeklyReportJob.register(into: &handlers, publicURL: publicURL)
        UsageJobs.register(into: &handlers)
        IncidentJobs.register(into: &handlers, publicURL: publicURL)
        // Probes of endpoints, every 15 s in one batched tick, and their hourly rollups (Monitoring/).
        ProbeTick.register(
            into: &handlers, keyring: keyring,
            destinations: DestinationPolicy(allowHTTP: configuration.allowHTTPDestinations, allowed: configuration.allowedDestinations),
            publicURL: publicURL)
        return handlers
    }
}
