// Starting the worker the way `purser work` and `purser dev` both do: the standard handlers and
// schedules, the settings from the configuration.
import Foundation
import Logging
import Postgres

public enum JobRunner {
    public static func start(configuration: Configuration, handlers: JobHandlers = .standard, logger: Logger) throws -> JobWorker {
        guard let url = configuration.databaseURL else { throw MissingDatabaseURL() }
        let worker = JobWorker(url: url, handlers: handlers, settings: configuration.jobWorkerSettings, logger: logger)
        try worker.database.pool.transaction { tx in
            for schedule in Schedules.standard { try Schedules.ensure(schedule, in: tx) }
        }
        worker.start()
        return worker
    }

    public struct MissingDatabaseURL: Error, CustomStringConvertible {
        public var description: String { "DATABASE_URL is not set" }
    }
}
