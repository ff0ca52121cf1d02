// What each kind of job does. Handlers are registered per kind and must be idempotent: a job can
// run again after its worker died mid-way (at-least-once delivery). `JobContext.once` helps with
// side effects that must not repeat.
import Foundation
import Postgres

public struct JobContext: Sendable {
    public let job: Job
    public let database: Database
    /// Time and the outside world.
    public let world: World

    /// Runs `effect` unless this job already did the effect called `name`, and records it as done
    /// afterwards. For an external effect (a message sent) a crash between the effect and the
    /// record repeats it once; effects on the database should go into `effect`'s own transaction
    /// (use `onceInTransaction`), which makes them exactly-once.
    public func once(_ name: String, _ effect: () throws -> Void) throws {
        let done = try database.pool.query("SELECT 1 FROM job_effects WHERE job_id = $1 AND name = $2", [job.id, name])
        guard done.isEmpty else { return }
        try effect()
        try database.pool.query("INSERT INTO job_effects (job_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", [job.id, name])
    }

    /// Runs `effect` in a transaction that also records it as done, unless it was done before.
    public func onceInTransaction(_ name: String, _ effect: (Connection) throws -> Void) throws {
        try database.pool.transaction { tx in
            let inserted = try tx.query(
                "INSERT INTO job_effects (job_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [job.id, name]
            ).affected
            guard inserted == 1 else { return }
            try effect(tx)
        }
    }
}

/// A handler failed in a way that trying again will not mend: the job is dead at once.
public struct PermanentJobFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct JobHandlers: Sendable {
    public typealias Handler = @Sendable (JobContext) throws -> Void
    private var handlers: [String: Handler] = [:]

    public init() {}

    public mutating func register(_ kind: String, _ handler: @escaping Handler) {
        handlers[kind] = handler
    }

    func handler(for kind: String) -> Handler? { handlers[kind] }

    public var kinds: [String] { handlers.keys.sorted() }

    /// The kinds every installation has: `system.noop` (measures the queue), `system.sleep`
    /// (holds a worker for `{"seconds": n}` of its clock, for diagnostics), `system.purge` (removes
    /// finished jobs older than a week and idempotency keys older than a day).
    public static var standard: JobHandlers {
        var handlers = JobHandlers()
        handlers.register("system.noop") { _ in }
        handlers.register("system.sleep") { context in
            struct Sleep: Decodable { let seconds: Double }
            let seconds = (try? context.job.decode(Sleep.self).seconds) ?? 1
            let clock = context.world.clock
            clock.wait(until: clock.now.addingTimeInterval(min(max(seconds, 0), 3600)), on: Interrupt()) { false }
        }
        handlers.register("system.purge") { context in
            try context.database.pool.query(
                """
                DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('succeeded', 'dead')
                                              AND finished_at < $1::timestamptz - interval '7 days' LIMIT 10000)
                """, [context.world.now])
            try IdempotencyStore.purgeExpired(context.database, at: context.world.now)
            try FormSubmissions.purge(context.database, at: context.world.now)
        }
        return handlers
    }
}
