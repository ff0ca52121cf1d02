import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// `purser work` as a process: killed with SIGKILL mid-job, the job runs again once its lease
/// runs out; stopped with SIGTERM, it finishes what it runs, hands back what it only claimed, and
/// exits 0. A process cannot share a test's clock: these are the live-clock checks of the
/// worker's lease and drain (JobQueueTests moves a clock instead).
@Suite struct WorkCommandTests {
    let database: TestDatabase
    let db: Database

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 2, worker: true)
    }

    func worker(_ extra: [String: String] = [:]) throws -> (ChildProcess, URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("work-\(UUID().uuidString).log")
        var environment = [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.pooledURL,
            "DATABASE_DIRECT_URL": database.url, "PURSER_POOL_MODE": TestEnvironment.poolMode.rawValue,
            "PURSER_METRICS_LISTEN": "off", "PURSER_JOB_LEASE_SECONDS": "2",
            "PURSER_MASTER_KEY": TestEnvironment.masterKeyText,
        ]
        environment.merge(extra) { $1 }
        return (try ChildProcess([TestEnvironment.purserBinary.path, "work"], environment: environment, output: log.path), log)
    }

    func job(_ id: Int64) throws -> (state: String, attempts: Int) {
        let row = try db.pool.query("SELECT state, attempts FROM jobs WHERE id = $1", [id])[0]
        return (try row.require(0), try row.require(1))
    }

    @Test func aKilledWorkersJobRunsAgainAfterItsLease() throws {
        let id = try db.pool.transaction { tx in
            try JobQueue.enqueue(tx, kind: "system.sleep", payload: JSONText(#"{"seconds": 1}"#), options: JobOptions(runAt: Date()))!
        }
        let (first, log) = try worker()
        defer { try? FileManager.default.removeItem(at: log) }
        let running = try waitUntil(15) { try job(id).state == "running" }
        #expect(running, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        _ = first.stop(signal: SIGKILL)
        #expect(try job(id) == ("running", 1), "the killed worker's claim stands until its lease runs out")
        let (second, secondLog) = try worker()
        defer { try? FileManager.default.removeItem(at: secondLog) }
        // Live clock: the 2 s lease (the shortest allowed) runs out, then the job holds the worker 1 s.
        let done = try waitUntil(10) { try job(id).state == "succeeded" }
        #expect(done)
        #expect(try job(id).attempts == 2, "it ran once more, not more")
        #expect(second.stop(signal: SIGTERM) == 0)
    }

    @Test func sigtermFinishesTheRunningJobAndHandsBackTheRest() throws {
        let ids = try db.pool.transaction { tx in
            try (0..<4).map { _ in
                try JobQueue.enqueue(tx, kind: "system.sleep", payload: JSONText(#"{"seconds": 1}"#), options: JobOptions(runAt: Date()))!
            }
        }
        let (process, log) = try worker(["PURSER_WORK_CONCURRENCY": "1", "PURSER_JOB_BATCH_SIZE": "10", "PURSER_LOG_LEVEL": "debug"])
        defer { try? FileManager.default.removeItem(at: log) }
        // Claimed together; the first is in its handler once the worker says so.
        let started = try waitUntil(15) {
            (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n")
                .contains { $0.contains(#""message":"job started""#) && $0.contains(#""job":"\#(ids[0])""#) } == true
        }
        #expect(started)
        #expect(try job(ids[0]).state == "running")
        #expect(process.stop(signal: SIGTERM) == 0)
        let states = try ids.map { try job($0) }
        #expect(states[0] == ("succeeded", 1), "\(states)")
        #expect(states.dropFirst().allSatisfy { $0 == ("queued", 0) }, "claimed but not started: handed back untouched: \(states)")
        let lines = (try String(contentsOf: log, encoding: .utf8)).split(separator: "\n")
        #expect(lines.contains { $0.contains("handed back jobs") })
        #expect(lines.contains { $0.contains(#""message":"stopped""#) })
    }
}
