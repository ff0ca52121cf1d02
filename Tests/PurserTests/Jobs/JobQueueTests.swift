import Foundation
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The queue against a real PostgreSQL: enqueueing inside transactions, unique keys, workers that
/// share the queue without running a job twice, retries, dead jobs, hung handlers, and wake-up by NOTIFY.
@Suite struct JobQueueTests {
    let database: TestDatabase
    let db: Database

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 4, worker: true)
    }

    func settings(concurrency: Int = 2, lease: TimeInterval = 30, poll: TimeInterval = 0.2) -> JobWorker.Settings {
        var settings = JobWorker.Settings()
        settings.concurrency = concurrency
        settings.lease = lease
        settings.pollInterval = poll
        settings.retryBase = 0.05
        settings.drainDeadline = 5
        return settings
    }

    func state(_ id: Int64) throws -> (state: String, attempts: Int, error: String?) {
        let row = try db.pool.query("SELECT state, attempts, last_error FROM jobs WHERE id = $1", [id])[0]
        return (try row.require(0), try row.require(1), try row.decode(2))
    }


    @Test func aJobCommitsOrRollsBackWithItsChange() throws {
        struct Boom: Error {}
        _ = try? db.pool.transaction { tx in
            try JobQueue.enqueue(tx, kind: "system.noop")
            throw Boom()
        }
        #expect(try db.pool.query("SELECT count(*) FROM jobs")[0].require(0, as: Int.self) == 0)
        let id = try db.pool.transaction { tx in try JobQueue.enqueue(tx, kind: "system.noop") }
        #expect(id != nil)
        #expect(try state(id!).state == "queued")
    }

    @Test func uniqueKeysRescheduleAndCancel() throws {
        let later = Date().addingTimeInterval(3600)
        let first = try db.pool.transaction { try JobQueue.enqueue($0, kind: "system.noop", options: JobOptions(uniqueKey: "sla:1", runAt: later)) }
        let again = try db.pool.transaction { try JobQueue.enqueue($0, kind: "system.noop", options: JobOptions(uniqueKey: "sla:1")) }
        #expect(first != nil && again == nil, "a pending key enqueues nothing")
        let sooner = Date().addingTimeInterval(60)
        #expect(try db.pool.transaction { try JobQueue.reschedule($0, key: "sla:1", at: sooner) })
        let runAt = try db.pool.query("SELECT run_at FROM jobs WHERE id = $1", [first!])[0].require(0, as: Date.self)
        #expect(abs(runAt.timeIntervalSince(sooner)) < 0.01)
        #expect(try db.pool.transaction { try JobQueue.cancel($0, key: "sla:1") })
        #expect(try !db.pool.transaction { try JobQueue.cancel($0, key: "sla:1") })
        #expect(try db.pool.query("SELECT count(*) FROM jobs")[0].require(0, as: Int.self) == 0)
        // Inside a tenant's transaction only that tenant's jobs (or none's) may be enqueued.
        let tenant = UUID.v7()
        try database.connect().query("INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [tenant])
        let app = Database(url: database.url, size: 1)
        #expect(throws: PostgresError.self) {
            try app.inTenant(UUID.v7()) { tx in try JobQueue.enqueue(tx, kind: "system.noop", options: JobOptions(tenant: tenant)) }
        }
        let own = try app.inTenant(tenant) { tx in try JobQueue.enqueue(tx, kind: "system.noop", options: JobOptions(tenant: tenant)) }
        #expect(own != nil)
    }

    @Test func twoWorkersNeverRunAJobTwice() throws {
        let runs = Locked<[Int64]>([])
        var handlers = JobHandlers()
        handlers.register("test.count") { context in runs.withLock { $0.append(context.job.id) } }
        try db.pool.transaction { tx in
            try JobQueue.enqueueMany(tx, kind: "test.count", payloads: (0..<2000).map { JSONText("{\"n\":\($0)}") })
        }
        let workers = (0..<2).map { _ in JobWorker(url: database.url, handlers: handlers, settings: settings(batchSize: 25), logger: quietLogger) }
        workers.forEach { $0.start() }
        defer { workers.forEach { $0.stop() } }
        let finished = try waitUntil {
            let succeeded = try db.pool.query("SELECT count(*) FROM jobs WHERE state = 'succeeded'")[0].require(0, as: Int.self)
            return succeeded == 2000
        }
        #expect(finished)
        let ids = runs.withLock { $0 }
        #expect(ids.count == 2000)
        #expect(Set(ids).count == 2000, "no job ran twice")
        #expect(try db.pool.query("SELECT max(attempts) FROM jobs")[0].require(0, as: Int.self) == 1)
    }

    @Test func failuresRetryWithBackoffThenSucceedOrDie() throws {
        let attempts = Locked<[Int64: Int]>([:])
        var handlers = JobHandlers()
        struct Flaky: Error, CustomStringConvertible { var description: String { "flaky peer" } }
        handlers.register("test.flaky") { context in
            let count = attempts.withLock { $0[context.job.id, default: 0] += 1; return $0[context.job.id]! }
            if count < 3 { throw Flaky() }
        }
        handlers.register("test.broken") { _ in throw Flaky() }
        handlers.register("test.permanent") { _ in throw PermanentJobFailure("the recipient does not exist") }
        let (flaky, broken, permanent, unknown) = try db.pool.transaction { tx in
            (try JobQueue.enqueue(tx, kind: "test.flaky")!, try JobQueue.enqueue(tx, kind: "test.broken", options: JobOptions(maxAttempts: 3))!,
             try JobQueue.enqueue(tx, kind: "test.permanent")!, try JobQueue.enqueue(tx, kind: "test.unknown")!)
        }
        let worker = JobWorker(url: database.url, handlers: handlers, settings: settings(), logger: quietLogger)
        worker.start()
        defer { worker.stop() }
        let settled = try waitUntil { try state(flaky).state == "succeeded" && state(broken).state == "dead" }
        #expect(settled)
        #expect(try state(flaky).attempts == 3)
        let dead = try state(broken)
        #expect(dead.attempts == 3 && dead.error == "flaky peer")
        #expect(try state(permanent) == ("dead", 1, "the recipient does not exist"))
        #expect(try state(unknown).state == "dead" && state(unknown).error?.contains("no handler") == true)
    }

    @Test func aHungHandlerIsGivenUpAfterItsTimeoutAndLease() throws {
        var handlers = JobHandlers()
        handlers.register("test.hang") { _ in Thread.sleep(forTimeInterval: 8) }
        handlers.register("system.noop") { _ in }
        let hung = try db.pool.transaction { try JobQueue.enqueue($0, kind: "test.hang", options: JobOptions(maxAttempts: 1, timeout: 1))! }
        let worker = JobWorker(url: database.url, handlers: handlers, settings: settings(concurrency: 1, lease: 2), logger: quietLogger)
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil(15) { try state(hung).state == "dead" })
        #expect(try state(hung).error?.contains("lease ran out") == true)
        // The worker still works: a fresh thread replaced the stuck one.
        let next = try db.pool.transaction { try JobQueue.enqueue($0, kind: "system.noop")! }
        #expect(try waitUntil(10) { try state(next).state == "succeeded" })
    }

    @Test func aNotifyWakesAnIdleWorkerAtOnce() throws {
        let started = Locked<Date?>(nil)
        var handlers = JobHandlers()
        handlers.register("test.ping") { _ in started.withLock { $0 = Date() } }
        // Polling every 30 s: only the NOTIFY can explain a quick start.
        let worker = JobWorker(url: database.url, handlers: handlers, settings: settings(poll: 30), logger: quietLogger)
        worker.start()
        defer { worker.stop() }
        Thread.sleep(forTimeInterval: 0.5)
        let committed = Date()
        try db.pool.transaction { tx in try JobQueue.enqueue(tx, kind: "test.ping") }
        #expect(try waitUntil(5) { started.withLock { $0 } != nil })
        let latency = try #require(started.withLock { $0 }).timeIntervalSince(committed)
        #expect(latency < 1, "picked up \(latency) s after commit")
    }

    @Test func aScheduleFiresOncePerPeriodWhateverTheNumberOfWorkers() throws {
        try db.pool.transaction { tx in
            try Schedules.ensure(Schedule(name: "test.tick", kind: "system.noop", recurrence: .every(seconds: 60)), in: tx)
        }
        try db.pool.query("UPDATE job_schedules SET next_run_at = now() - interval '1 second'")
        for _ in 0..<2 {
            let fired = Locked(0)
            let group = DispatchGroup()
            for _ in 0..<3 {
                let own = Database(url: database.url, size: 1, worker: true)
                DispatchQueue.global().async(group: group) {
                    let count = (try? Schedules.fireDue(own)) ?? -100
                    fired.withLock { $0 += count }
                    own.pool.close()
                }
            }
            group.wait()
            #expect(fired.withLock { $0 } == 1)
            // The next period.
            try db.pool.query("UPDATE job_schedules SET next_run_at = now() - interval '1 second'")
        }
        #expect(try db.pool.query("SELECT count(*) FROM jobs WHERE unique_key LIKE 'schedule:test.tick:%'")[0].require(0, as: Int.self) == 2)
    }

    @Test func localTimesFollowTheTimeZone() throws {
        let daily = Schedule(name: "d", kind: "system.noop", recurrence: .at(hour: 3, minute: 17, weekday: nil, timeZone: "Europe/Zurich"))
        // 2026-03-28 12:00 UTC; the next 03:17 in Zurich is 2026-03-29 (the night the clocks go forward): 01:17 UTC.
        let before = RFC3339.date("2026-03-28T12:00:00Z")!
        #expect(RFC3339.string(daily.nextRun(after: before)) == "2026-03-29T01:17:00.000Z")
        #expect(RFC3339.string(daily.nextRun(after: RFC3339.date("2026-03-29T01:17:00Z")!)) == "2026-03-30T01:17:00.000Z")
        let weekly = Schedule(name: "w", kind: "system.noop", recurrence: .at(hour: 9, minute: 0, weekday: 1, timeZone: "UTC"))
        // 2026-11-23 is a Monday.
        #expect(RFC3339.string(weekly.nextRun(after: RFC3339.date("2026-11-23T10:00:00Z")!)) == "2026-11-30T09:00:00.000Z")
    }
}

extension JobQueueTests {
    @Test func sideEffectsHappenOncePerJobAndMetricsShowTheQueue() throws {
        let effects = Locked(0)
        let runs = Locked(0)
        var handlers = JobHandlers()
        struct Crash: Error {}
        handlers.register("test.effect") { context in
            try context.once("send") { effects.withLock { $0 += 1 } }
            try context.onceInTransaction("row") { tx in try tx.query("SELECT 1") }
            // The first run fails after its effects; the retry must not repeat them.
            if runs.withLock({ $0 += 1; return $0 }) == 1 { throw Crash() }
        }
        let id = try db.pool.transaction { try JobQueue.enqueue($0, kind: "test.effect")! }
        let worker = JobWorker(url: database.url, handlers: handlers, settings: settings(), logger: quietLogger)
        let registry = MetricsRegistry()
        worker.register(metrics: registry)
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil { try state(id).state == "succeeded" })
        #expect(runs.withLock { $0 } == 2)
        #expect(effects.withLock { $0 } == 1, "the effect was recorded once and skipped on the retry")
        let metrics = registry.render()
        #expect(metrics.contains(#"purser_jobs{kind="test.effect",state="succeeded"} 1"#))
        #expect(metrics.contains(#"purser_jobs_finished_total{kind="test.effect",outcome="failed"} 1"#))
        #expect(metrics.contains(#"purser_job_duration_seconds_count{kind="test.effect"} 2"#))
        #expect(metrics.contains("purser_jobs_oldest_queued_seconds 0"))
    }

    func settings(batchSize: Int) -> JobWorker.Settings {
        var settings = settings()
        settings.batchSize = batchSize
        return settings
    }
}
