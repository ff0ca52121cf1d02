import Foundation
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The queue against a real PostgreSQL: enqueueing inside transactions, unique keys, workers that
/// share the queue without running a job twice, retries, dead jobs, hung handlers, leases, and
/// wake-up by NOTIFY. The workers' clock stands still until a test moves it past a backoff, a
/// lease or a timeout.
@Suite struct JobQueueTests {
    let database: TestDatabase
    let db: Database
    let clock = SettableClock(Date())

    init() throws {
        database = try TestDatabase()
        db = database.pooled(size: 4, worker: true)
    }

    /// A worker on the test's clock, or with `live`, on the system's.
    func worker(_ handlers: JobHandlers, _ settings: JobWorker.Settings, live: Bool = false) -> JobWorker {
        JobWorker(
            url: database.pooledURL, listenURL: database.url, mode: TestEnvironment.poolMode, handlers: handlers, settings: settings,
            world: World(clock: live ? LiveClock() : clock),
            logger: quietLogger)
    }

    /// Due at once by the test's clock.
    func options(tenant: UUID? = nil, uniqueKey: String? = nil, maxAttempts: Int = 10, timeout: TimeInterval = 60) -> JobOptions {
        JobOptions(tenant: tenant, uniqueKey: uniqueKey, runAt: clock.now, maxAttempts: maxAttempts, timeout: timeout)
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

    /// Seconds from the clock's now to the job's next run.
    func delay(_ id: Int64) throws -> TimeInterval {
        try db.pool.query("SELECT run_at FROM jobs WHERE id = $1", [id])[0].require(0, as: Date.self).timeIntervalSince(clock.now)
    }

    @Test func aJobCommitsOrRollsBackWithItsChange() throws {
        struct Boom: Error {}
        _ = try? db.pool.transaction { tx in
            try JobQueue.enqueue(tx, kind: "system.noop", options: options())
            throw Boom()
        }
        #expect(try db.pool.query("SELECT count(*) FROM jobs")[0].require(0, as: Int.self) == 0)
        let id = try db.pool.transaction { tx in try JobQueue.enqueue(tx, kind: "system.noop", options: options()) }
        #expect(id != nil)
        #expect(try state(id!).state == "queued")
    }

    @Test func uniqueKeysRescheduleAndCancel() throws {
        let later = clock.now.addingTimeInterval(3600)
        let first = try db.pool.transaction {
            try JobQueue.enqueue($0, kind: "system.noop", options: JobOptions(uniqueKey: "sla:1", runAt: later))
        }
        let again = try db.pool.transaction { try JobQueue.enqueue($0, kind: "system.noop", options: options(uniqueKey: "sla:1")) }
        #expect(first != nil && again == nil, "a pending key enqueues nothing")
        let sooner = clock.now.addingTimeInterval(60)
        #expect(try db.pool.transaction { try JobQueue.reschedule($0, key: "sla:1", at: sooner) })
        let runAt = try db.pool.query("SELECT run_at FROM jobs WHERE id = $1", [first!])[0].require(0, as: Date.self)
        #expect(abs(runAt.timeIntervalSince(sooner)) < 0.01)
        #expect(try db.pool.transaction { try JobQueue.cancel($0, key: "sla:1") })
        #expect(try !db.pool.transaction { try JobQueue.cancel($0, key: "sla:1") })
        #expect(try db.pool.query("SELECT count(*) FROM jobs")[0].require(0, as: Int.self) == 0)
        // Inside a tenant's transaction only that tenant's jobs (or none's) may be enqueued.
        let tenant = UUID.v7()
        try database.connect().query(
            "INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [tenant])
        let app = database.pooled(size: 1)
        #expect(throws: PostgresError.self) {
            try app.inTenant(UUID.v7()) { tx in try JobQueue.enqueue(tx, kind: "system.noop", options: options(tenant: tenant)) }
        }
        let own = try app.inTenant(tenant) { tx in try JobQueue.enqueue(tx, kind: "system.noop", options: options(tenant: tenant)) }
        #expect(own != nil)
    }

    @Test func twoWorkersNeverRunAJobTwice() throws {
        let runs = Locked<[Int64]>([])
        var handlers = JobHandlers()
        handlers.register("test.count") { context in runs.withLock { $0.append(context.job.id) } }
        try db.pool.transaction { tx in
            try JobQueue.enqueueMany(tx, kind: "test.count", payloads: (0..<2000).map { JSONText("{\"n\":\($0)}") }, runAt: clock.now)
        }
        let workers = (0..<2).map { _ in worker(handlers, settings(batchSize: 25)) }
        for worker in workers { worker.start() }
        defer { for worker in workers { worker.stop() } }
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
            let count = attempts.withLock {
                $0[context.job.id, default: 0] += 1; return $0[context.job.id]!
            }
            if count < 3 { throw Flaky() }
        }
        handlers.register("test.broken") { _ in throw Flaky() }
        handlers.register("test.permanent") { _ in throw PermanentJobFailure("the recipient does not exist") }
        let (flaky, broken, permanent, unknown) = try db.pool.transaction { tx in
            (
                try JobQueue.enqueue(tx, kind: "test.flaky", options: options())!,
                try JobQueue.enqueue(tx, kind: "test.broken", options: options(maxAttempts: 3))!,
                try JobQueue.enqueue(tx, kind: "test.permanent", options: options())!,
                try JobQueue.enqueue(tx, kind: "test.unknown", options: options())!
            )
        }
        var settings = settings()
        settings.retryBase = 2
        let worker = worker(handlers, settings)
        worker.start()
        defer { worker.stop() }
        // First attempts: a permanent failure and an unknown kind are dead at once; the others wait
        // out their backoff (2 s ± 25 %) while the clock stands still.
        #expect(
            try waitUntil(5) {
                try state(flaky) == ("failed", 1, "flaky peer") && state(broken) == ("failed", 1, "flaky peer")
                    && state(permanent).state == "dead" && state(unknown).state == "dead"
            })
        let first = try delay(flaky)
        #expect((1.5...2.5).contains(first), "\(first)")
        clock.advance(by: 2.6)
        #expect(try waitUntil(5) { try state(flaky) == ("failed", 2, "flaky peer") && state(broken).attempts == 2 })
        let second = try delay(flaky)
        #expect((3...5).contains(second), "each retry waits twice as long: \(second)")
        clock.advance(by: 5.1)
        let settled = try waitUntil(5) { try state(flaky).state == "succeeded" && state(broken).state == "dead" }
        #expect(settled)
        #expect(try state(flaky).attempts == 3)
        let dead = try state(broken)
        #expect(dead.attempts == 3 && dead.error == "flaky peer")
        #expect(try state(permanent) == ("dead", 1, "the recipient does not exist"))
        #expect(try state(unknown).state == "dead" && state(unknown).error?.contains("no handler") == true)
    }

    @Test func aHungHandlerIsGivenUpAfterItsTimeoutAndLease() throws {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        var handlers = JobHandlers()
        handlers.register("test.hang") { _ in
            entered.signal()
            release.wait()
        }
        handlers.register("system.noop") { _ in }
        let hung = try db.pool.transaction { try JobQueue.enqueue($0, kind: "test.hang", options: options(maxAttempts: 1, timeout: 1))! }
        let worker = worker(handlers, settings(concurrency: 1, lease: 2))
        worker.start()
        defer {
            release.signal()
            worker.stop()
        }
        #expect(entered.wait(timeout: .now() + 10) == .success)
        // Past its timeout (1 s) and the lease after it (2 s).
        clock.advance(by: 3.5)
        #expect(try waitUntil(5) { try state(hung).state == "dead" })
        #expect(try state(hung).error?.contains("lease ran out") == true)
        // The worker still works: a fresh thread replaced the stuck one.
        let next = try db.pool.transaction { try JobQueue.enqueue($0, kind: "system.noop", options: options())! }
        #expect(try waitUntil(5) { try state(next).state == "succeeded" })
    }

    @Test func aJobWhoseWorkerStoppedAnsweringRunsAgainOnceItsLeaseRunsOut() throws {
        let runs = Locked(0)
        var handlers = JobHandlers()
        handlers.register("test.count") { _ in runs.withLock { $0 += 1 } }
        let id = try db.pool.transaction { try JobQueue.enqueue($0, kind: "test.count", options: options())! }
        // Claimed by a worker that died at once: its lease holds for 30 s.
        try db.pool.query(
            """
            UPDATE jobs SET state = 'running', attempts = 1, lease_owner = 'gone:1:dead', started_at = $2,
                   lease_expires_at = $2::timestamptz + interval '30 seconds'
            WHERE id = $1
            """, [id, clock.now])
        let worker = worker(handlers, settings(lease: 30))
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil(5) { worker.isListening })
        #expect(try state(id) == ("running", 1, nil), "the dead worker's claim stands until its lease runs out")
        clock.advance(by: 31)
        #expect(try waitUntil(5) { try state(id).state == "succeeded" })
        #expect(try state(id).attempts == 2, "it ran once more, not more")
        #expect(runs.withLock { $0 } == 1)
    }

    @Test func aNotifyWakesAnIdleWorkerAtOnce() throws {
        let started = Locked<Date?>(nil)
        var handlers = JobHandlers()
        handlers.register("test.ping") { context in started.withLock { $0 = context.world.now } }
        // The clock stands still, so the 30 s poll never comes: only the NOTIFY can start the job.
        let worker = worker(handlers, settings(poll: 30))
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil(5) { worker.isListening })
        let committed = clock.now
        try db.pool.transaction { tx in try JobQueue.enqueue(tx, kind: "test.ping", options: options()) }
        #expect(try waitUntil(5) { started.withLock { $0 } != nil })
        #expect(started.withLock { $0 } == committed, "picked up with the clock where it stood at the commit")
    }

    /// The live-clock check of the idle poll: a real 0.3 s wait.
    @Test func aJobWrittenWithoutANotifyIsFoundByThePoll() throws {
        let started = Locked(false)
        var handlers = JobHandlers()
        handlers.register("test.ping") { _ in started.withLock { $0 = true } }
        let worker = worker(handlers, settings(poll: 0.3), live: true)
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil(5) { worker.isListening })
        // Written without a NOTIFY (as by hand, or by a peer that lost it): only the poll finds it.
        try db.pool.query("INSERT INTO jobs (kind, run_at) VALUES ('test.ping', $1)", [worker.world.now])
        #expect(try waitUntil(5) { started.withLock { $0 } })
    }

    @Test func aScheduleFiresOncePerPeriodWhateverTheNumberOfWorkers() throws {
        try db.pool.transaction { tx in
            try Schedules.ensure(
                Schedule(name: "test.tick", kind: "system.noop", recurrence: .every(seconds: 60)), in: tx,
                now: clock.now)
        }
        for _ in 0..<2 {
            // The period is over.
            clock.advance(by: 61)
            let now = clock.now
            let fired = Locked(0)
            let group = DispatchGroup()
            for _ in 0..<3 {
                let own = database.pooled(size: 1, worker: true)
                DispatchQueue.global().async(group: group) {
                    let count = (try? Schedules.fireDue(own, now: now)) ?? -100
                    fired.withLock { $0 += count }
                    own.pool.close()
                }
            }
            group.wait()
            #expect(fired.withLock { $0 } == 1)
        }
        #expect(
            try db.pool.query("SELECT count(*) FROM jobs WHERE unique_key LIKE 'schedule:test.tick:%'")[0].require(0, as: Int.self) == 2)
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
    /// The live-clock check of the retry backoff: a real wait of about 50 ms.
    @Test func sideEffectsHappenOncePerJobAndMetricsShowTheQueue() throws {
        let effects = Locked(0)
        let runs = Locked(0)
        var handlers = JobHandlers()
        struct Crash: Error {}
        handlers.register("test.effect") { context in
            try context.once("send") { effects.withLock { $0 += 1 } }
            try context.onceInTransaction("row") { tx in try tx.query("SELECT 1") }
            // The first run fails after its effects; the retry must not repeat them.
            if runs.withLock({
                $0 += 1; return $0
            }) == 1 {
                throw Crash()
            }
        }
        let worker = worker(handlers, settings(), live: true)
        let id = try db.pool.transaction {
            try JobQueue.enqueue($0, kind: "test.effect", options: JobOptions(runAt: worker.world.now))!
        }
        let registry = MetricsRegistry()
        worker.register(metrics: registry)
        worker.start()
        defer { worker.stop() }
        #expect(try waitUntil(5) { try state(id).state == "succeeded" })
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
