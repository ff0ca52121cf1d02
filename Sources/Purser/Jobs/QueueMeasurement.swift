// Measuring this installation's queue against its own database (`purser admin measure-queue`):
// enqueue rate in batches, burn-down of no-op jobs by a worker with the configured threads, and
// pickup latency (commit of the enqueue → start of the handler) with an idle queue.
import Foundation
import class HTTPServer.Locked
import Logging
import Postgres

public enum QueueMeasurement {
    public struct Result: Sendable {
        public let enqueuePerSecond: Double
        public let burnDownPerSecond: Double
        public let pickupP50: Double
        public let pickupP99: Double
        public let jobs: Int
    }

    /// Enqueues `jobs` no-op jobs, due at the clock's now, in batches of 1,000 and returns the
    /// rate; the jobs wait for a worker.
    public static func enqueue(url: String, jobs: Int, kind: String = "system.noop", clock: any WallClock = LiveClock()) throws -> Double {
        let database = Database(url: url, size: 1, worker: true)
        defer { database.pool.close() }
        let started = ContinuousClock.now
        var done = 0
        while done < jobs {
            let count = min(1000, jobs - done)
            try database.pool.transaction { tx in
                try JobQueue.enqueueMany(tx, kind: kind, payloads: Array(repeating: JSONText("{}"), count: count), runAt: clock.now)
            }
            done += count
        }
        return Double(jobs) / seconds(since: started)
    }

    public static func run(
        url: String, jobs: Int, settings: JobWorker.Settings, latencySamples: Int = 200,
        logger: Logger
    ) throws -> Result {
        let database = Database(url: url, size: 1, worker: true)
        defer { database.pool.close() }
        let pings = Locked<[Int64: ContinuousClock.Instant]>([:])
        var handlers = JobHandlers.standard
        handlers.register("measure.ping") { context in pings.withLock { $0[context.job.id] = ContinuousClock.now } }
        let worker = JobWorker(url: url, handlers: handlers, settings: settings, logger: logger)
        let clock = worker.world.clock
        let enqueueRate = try enqueue(url: url, jobs: jobs, clock: clock)
        let started = ContinuousClock.now
        worker.start()
        defer { worker.stop() }
        while try database.pool.query(
            """
            SELECT count(*) FROM jobs WHERE kind = 'system.noop' AND state IN ('queued', 'running', 'failed')
            """)[0].require(0, as: Int.self) > 0
        {
            Thread.sleep(forTimeInterval: 0.005)
        }
        let burnDown = Double(jobs) / seconds(since: started)
        // Pickup latency with an idle queue: one job at a time, the next after the last started.
        var latencies: [Double] = []
        Thread.sleep(forTimeInterval: 0.2)
        for _ in 0..<latencySamples {
            let committed = ContinuousClock.now
            guard
                let id = try database.pool.transaction({
                    try JobQueue.enqueue($0, kind: "measure.ping", options: JobOptions(runAt: clock.now))
                })
            else { continue }
            var startedAt: ContinuousClock.Instant?
            let deadline = committed + .seconds(5)
            while startedAt == nil && ContinuousClock.now < deadline {
                startedAt = pings.withLock { $0[id] }
                if startedAt == nil { usleep(100) }
            }
            if let startedAt { latencies.append((startedAt - committed) / .seconds(1)) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        try database.pool.query("DELETE FROM jobs WHERE kind IN ('system.noop', 'measure.ping') AND state = 'succeeded'")
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Result(
            enqueuePerSecond: enqueueRate, burnDownPerSecond: burnDown, pickupP50: percentile(0.5),
            pickupP99: percentile(0.99), jobs: jobs)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start) / .seconds(1) }
}
