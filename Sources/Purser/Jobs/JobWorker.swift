// `purser work`: claims jobs in batches with FOR UPDATE SKIP LOCKED, runs their handlers on a
// few threads, and records the outcomes in batches. It wakes on NOTIFY (a slow poll remains as a
// safety net), renews its leases while it works, takes over jobs whose worker stopped answering,
// fires due schedules, and on stop finishes or hands back what it holds. It stamps, compares and
// waits by its world's clock, so moving a test clock wakes it at once.
import Foundation
import class HTTPServer.Locked
import class HTTPServer.MetricsRegistry
import Logging
import Postgres

public final class JobWorker: Sendable {
    public struct Settings: Sendable {
        /// Threads running handlers.
        public var concurrency = 2
        /// Jobs claimed at once per thread: large batches make short jobs cheap.
        public var batchSize = 100
        /// How long a claim holds before another worker may take the job; renewed while working.
        public var lease: TimeInterval = 30
        /// How often an idle worker looks without being woken.
        public var pollInterval: TimeInterval = 1
        /// How long `stop` waits for handlers to finish before handing their jobs back.
        public var drainDeadline: TimeInterval = 20
        /// The first retry's delay; each further one doubles it (capped at an hour).
        public var retryBase: TimeInterval = 2
        public init() {}
    }

    public let owner: String
    /// Time and the outside world, for the worker and every job it runs.
    public let world: World
    let database: Database
    let url: String
    /// Where the worker LISTENs: straight to PostgreSQL when `url` is a pooler in transaction mode.
    let listenURL: String
    let handlers: JobHandlers
    let settings: Settings
    let logger: Logger
    let metrics = JobMetrics()
    /// Wakes idle threads and housekeeping: a NOTIFY, a lease taken over, `stop`, a moved test clock.
    private let interrupt = Interrupt()
    private let running = Locked(false)
    /// Whether the listener holds its LISTEN connection (NOTIFYs reach idle threads).
    private let listening = Locked(false)
    /// Jobs a thread is running now, with when each started (the clock's time) and its timeout.
    private let inFlight = Locked<[Int64: (started: Date, timeout: TimeInterval, thread: Int)]>([:])
    /// Threads that have returned; `stop` waits for them.
    private let exited = DispatchSemaphore(value: 0)
    private let threadCount = Locked(0)
    private let nextThreadIndex = Locked(0)
    /// Threads whose job hung past its timeout: they exit when (if) it returns; a fresh thread replaces each.
    private let abandoned = Locked<Set<Int>>([])

    /// `world`: the live one by default; tests pass one with a clock they move. `listenURL`: nil for `url`.
    public init(
        url: String, listenURL: String? = nil, mode: PoolMode = .session, handlers: JobHandlers, settings: Settings = Settings(),
        world: World = World(clock: LiveClock()), logger: Logger
    ) {
        self.world = world
        self.url = url
        self.listenURL = listenURL ?? url
        self.handlers = handlers
        self.settings = settings
        self.logger = logger
        database = Database(url: url, size: settings.concurrency + 2, worker: true, mode: mode)
        owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func register(metrics registry: MetricsRegistry) {
        metrics.register(in: registry)
        let database = self.database
        registry.register(name: "purser_jobs", help: "Jobs by kind and state (read from the database at scrape).") {
            (try? database.pool.query("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY 1, 2").map {
                MetricsRegistry.Sample(
                    [("kind", try $0.require(0, as: String.self)), ("state", try $0.require(1, as: String.self))],
                    Double(try $0.require(2, as: Int.self)))
            }) ?? []
        }
        let clock = world.clock
        registry.register(name: "purser_jobs_oldest_queued_seconds", help: "Age of the oldest due job not yet claimed.") {
            let age = try? database.pool.query(
                """
                SELECT coalesce(extract(epoch FROM $1::timestamptz - min(run_at)), 0) FROM jobs
                WHERE state IN ('queued', 'failed') AND run_at <= $1
                """, [clock.now]
            ).first?.require(0, as: Double.self)
            return [.init([], age ?? 0)]
        }
    }

    public func start() {
        running.withLock { $0 = true }
        for _ in 0..<settings.concurrency { startExecutor() }
        spawn("jobs-listener") { [self] in listen() }
        spawn("jobs-housekeeping") { [self] in housekeep() }
    }

    /// Stops claiming, lets running handlers finish within the drain deadline, hands back every job
    /// claimed but not started (and, past the deadline, those still running), and returns.
    public func stop() {
        guard
            running.withLock({ running in
                defer { running = false }
                return running
            })
        else { return }
        interrupt.signal()
        let deadline = DispatchTime.now() + settings.drainDeadline
        let threads = threadCount.withLock { $0 }
        for _ in 0..<threads where exited.wait(timeout: deadline) == .timedOut {
            break
        }
        do {
            let released = try database.pool.query(
                """
                UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL,
                       started_at = NULL
                WHERE lease_owner = $1 AND state = 'running'
                """, [owner]
            ).affected
            if released > 0 { logger.notice("handed back jobs", metadata: ["jobs": .stringConvertible(released)]) }
        } catch {
            logger.error("could not hand back jobs; their leases will run out", metadata: ["error": .string("\(error)")])
        }
        database.pool.close()
    }

    private var isRunning: Bool { running.withLock { $0 } }

    /// True once NOTIFYs can wake this worker.
    var isListening: Bool { listening.withLock { $0 } }

    private var clock: any WallClock { world.clock }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    private func startExecutor() {
        threadCount.withLock { $0 += 1 }
        let index = nextThreadIndex.withLock { next -> Int in
            defer { next += 1 }
            return next
        }
        spawn("jobs-\(index)") { [self] in
            execute(index)
            exited.signal()
        }
    }

    // MARK: Claiming and running

    private func execute(_ index: Int) {
        while isRunning && !abandoned.withLock({ $0.contains(index) }) {
            let seen = interrupt.current
            let now = clock.now
            let batch: [Job]
            do {
                batch = try claim(at: now)
            } catch {
                logger.warning("claiming jobs failed", metadata: ["error": .string("\(error)")])
                idle(after: seen, since: now)
                continue
            }
            if batch.isEmpty {
                idle(after: seen, since: now)
                continue
            }
            run(batch, thread: index)
        }
    }

    /// Waits for a signal newer than `seen` (a NOTIFY, `stop`, a moved test clock) or a poll
    /// interval after `since`, the time the last claim looked at: a clock moved past it meanwhile
    /// ends the wait at once.
    private func idle(after seen: Int, since: Date) {
        clock.wait(until: since.addingTimeInterval(settings.pollInterval), on: interrupt) { interrupt.generation != seen }
    }

    /// Runs a claimed batch; successes are recorded together (every 50 ms at most), failures one by one.
    private func run(_ batch: [Job], thread: Int) {
        var succeeded: [Int64] = []
        var lastFlush = ContinuousClock.now
        for job in batch {
            guard isRunning, !abandoned.withLock({ $0.contains(thread) }) else { break }
            let started = ContinuousClock.now
            inFlight.withLock { $0[job.id] = (clock.now, job.timeout, thread) }
            logger.debug("job started", metadata: ["job": .stringConvertible(job.id), "kind": .string(job.kind)])
            var failure: (any Error)?
            if let handler = handlers.handler(for: job.kind) {
                do { try handler(JobContext(job: job, database: database, world: world)) } catch { failure = error }
            } else {
                failure = PermanentJobFailure("no handler for the kind \(job.kind)")
            }
            inFlight.withLock { $0[job.id] = nil }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            if abandoned.withLock({ $0.contains(thread) }) {
                logger.warning("a job returned after its timeout; its outcome is dropped", metadata: ["job": .stringConvertible(job.id)])
                break
            }
            if let failure {
                metrics.record(kind: job.kind, outcome: "failed", seconds: seconds)
                record(failure, of: job)
            } else {
                metrics.record(kind: job.kind, outcome: "succeeded", seconds: seconds)
                succeeded.append(job.id)
            }
            if ContinuousClock.now - lastFlush > .milliseconds(50) {
                complete(succeeded)
                succeeded.removeAll(keepingCapacity: true)
                lastFlush = ContinuousClock.now
            }
        }
        complete(succeeded)
    }

    /// Claims up to a batch of jobs due at `now`; each claim counts as an attempt.
    private func claim(at now: Date) throws -> [Job] {
        try database.pool.query(
            """
            WITH next AS (
                SELECT id FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= $4::timestamptz
                ORDER BY priority DESC, run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
            UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $2,
                   lease_expires_at = $4::timestamptz + $3 * interval '1 second', started_at = $4::timestamptz
            FROM next WHERE j.id = next.id
            RETURNING j.id, j.kind, j.payload::text, j.tenant_id, j.attempts, j.max_attempts, j.timeout_seconds
            """, [settings.batchSize, owner, settings.lease, now]
        ).map { row in
            Job(
                id: try row.require(0), kind: try row.require(1), payload: JSONText(try row.require(2, as: String.self)),
                tenant: try row.decode(3), attempt: try row.require(4), maxAttempts: try row.require(5),
                timeout: TimeInterval(try row.require(6, as: Int.self)))
        }.sorted { $0.id < $1.id }
    }

    private func complete(_ ids: [Int64]) {
        guard !ids.isEmpty else { return }
        do {
            try database.pool.query(
                """
                UPDATE jobs SET state = 'succeeded', finished_at = $3, lease_owner = NULL, lease_expires_at = NULL,
                       last_error = NULL
                WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND state = 'running'
                """, [ids.map { String($0) }, owner, clock.now])
        } catch {
            // The jobs ran; their leases will run out and they run again (handlers are idempotent).
            logger.error("could not record finished jobs", metadata: ["error": .string("\(error)"), "jobs": .stringConvertible(ids.count)])
        }
    }

    /// A failed attempt: retried after an exponential backoff with jitter, or dead when out of
    /// attempts or when the failure is permanent.
    private func record(_ failure: any Error, of job: Job) {
        let permanent = failure is PermanentJobFailure
        let dead = permanent || job.attempt >= job.maxAttempts
        let message = String(String(describing: failure).prefix(2000))
        do {
            try database.pool.query(
                """
                UPDATE jobs SET state = $3, last_error = $4, lease_owner = NULL, lease_expires_at = NULL,
                       run_at = $6::timestamptz + $5 * interval '1 second',
                       finished_at = CASE WHEN $3 = 'dead' THEN $6::timestamptz END
                WHERE id = $1 AND lease_owner = $2 AND state = 'running'
                """,
                [
                    job.id, owner, dead ? "dead" : "failed", message, Self.backoff(attempt: job.attempt, base: settings.retryBase),
                    clock.now,
                ])
            logger.warning(
                dead ? "job is dead" : "job failed; it will be retried",
                metadata: [
                    "job": .stringConvertible(job.id), "kind": .string(job.kind), "attempt": .stringConvertible(job.attempt),
                    "error": .string(message),
                ])
        } catch {
            logger.error("could not record a failed job; its lease will run out", metadata: ["error": .string("\(error)")])
        }
    }

    /// Seconds before retry `attempt + 1`: base, 2 × base, 4 × base … capped at an hour, ±25 % so
    /// retries spread out.
    static func backoff(attempt: Int, base: TimeInterval) -> Double {
        min(3600, base * pow(2, Double(min(max(attempt - 1, 0), 20)))) * Double.random(in: 0.75...1.25)
    }

    // MARK: Waking, leases, schedules

    private func listen() {
        var listener: Listener?
        while isRunning {
            do {
                if listener == nil {
                    listener = try Listener(url: listenURL, channels: [JobQueue.channel])
                    listening.withLock { $0 = true }
                }
                if !(try listener!.wait(timeout: .milliseconds(500))).isEmpty { interrupt.signal() }
            } catch {
                logger.warning("job listener lost its connection; polling until it is back", metadata: ["error": .string("\(error)")])
                listener = nil
                listening.withLock { $0 = false }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Every second of the clock: renew this worker's leases (except jobs past their timeout, which
    /// are left to expire and be retried elsewhere), take over expired leases, and fire due schedules.
    private func housekeep() {
        var lastRenewal = Date.distantPast
        while isRunning {
            let now = clock.now
            let overdue = inFlight.withLock { jobs in
                jobs.filter { now.timeIntervalSince($0.value.started) > $0.value.timeout }
            }
            replaceHungThreads(overdue, now: now)
            do {
                if now.timeIntervalSince(lastRenewal) >= settings.lease / 3 {
                    try database.pool.query(
                        """
                        UPDATE jobs SET lease_expires_at = $4::timestamptz + $2 * interval '1 second'
                        WHERE lease_owner = $1 AND state = 'running' AND NOT (id = ANY($3::bigint[]))
                        """, [owner, settings.lease, overdue.keys.map { String($0) }, now])
                    lastRenewal = now
                }
                try reclaimExpired(at: now)
                try Schedules.fireDue(database, now: now)
            } catch {
                logger.warning("job housekeeping failed", metadata: ["error": .string("\(error)")])
            }
            // Measured from `now`: a clock moved during the round starts the next one at once.
            clock.wait(until: now.addingTimeInterval(min(1, settings.lease / 3)), on: interrupt) { !isRunning }
        }
    }

    /// A thread stuck in a handler past its timeout and the lease after it is given up: its job is
    /// retried elsewhere by now, and a fresh thread takes its place so capacity stays.
    private func replaceHungThreads(_ overdue: [Int64: (started: Date, timeout: TimeInterval, thread: Int)], now: Date) {
        for (job, entry) in overdue where now.timeIntervalSince(entry.started) > entry.timeout + settings.lease {
            let fresh = abandoned.withLock { set -> Bool in set.insert(entry.thread).inserted }
            guard fresh else { continue }
            logger.error("a job hung past its timeout; its thread is replaced", metadata: ["job": .stringConvertible(job)])
            inFlight.withLock { $0[job] = nil }
            startExecutor()
        }
    }

    /// Jobs whose worker stopped renewing by `now`: failed (retried) or, out of attempts, dead.
    private func reclaimExpired(at now: Date) throws {
        let rows = try database.pool.query(
            """
            WITH expired AS (
                SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < $1::timestamptz FOR UPDATE SKIP LOCKED)
            UPDATE jobs j SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
                   last_error = 'the worker running it stopped answering (its lease ran out)', run_at = $1::timestamptz,
                   lease_owner = NULL, lease_expires_at = NULL,
                   finished_at = CASE WHEN j.attempts >= j.max_attempts THEN $1::timestamptz END
            FROM expired WHERE j.id = expired.id
            RETURNING j.id
            """, [now])
        if !rows.isEmpty {
            logger.warning("took over jobs whose leases ran out", metadata: ["jobs": .stringConvertible(rows.count)])
            interrupt.signal()
        }
    }
}

extension Interrupt {
    /// The number of signals so far: a waiter reads it before looking for work, and a signal after
    /// that (even one sent before it waits) ends its wait.
    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }
}
