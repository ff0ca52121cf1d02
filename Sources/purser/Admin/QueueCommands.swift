// `purser admin measure-queue` and `enqueue-noop`: the queue's speed on this database, for `make bench`.
import ArgumentParser
import Foundation
import Logging
import Purser

struct MeasureQueue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-queue",
        abstract: "Measure enqueue rate, burn-down of no-op jobs and pickup latency on DATABASE_URL (no worker may be running).")

    @OptionGroup var options: CommonOptions
    @Option(help: "No-op jobs to burn down.") var jobs = 20000
    @Option(help: "Worker threads.") var concurrency = 2

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        var settings = configuration.jobWorkerSettings
        settings.concurrency = concurrency
        let result = try QueueMeasurement.run(
            url: configuration.directDatabaseURL!, jobs: jobs, settings: settings,
            logger: Logger(label: "measure") { _ in SwiftLogNoOpLogHandler() })
        print(String(format: "enqueue: %.0f jobs/s (batches of 1000)", result.enqueuePerSecond))
        print(
            String(
                format: "burn-down: %.0f jobs/s (%d jobs, %d threads, batch %d)", result.burnDownPerSecond, result.jobs,
                concurrency, settings.batchSize))
        print(String(format: "pickup: p50 %.2f ms, p99 %.2f ms", result.pickupP50 * 1000, result.pickupP99 * 1000))
    }
}

struct EnqueueNoop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue-noop", abstract: "Enqueue no-op jobs (for measuring workers).")

    @OptionGroup var options: CommonOptions
    @Option var jobs = 10000

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        let rate = try QueueMeasurement.enqueue(url: configuration.directDatabaseURL!, jobs: jobs)
        print(String(format: "enqueued %d jobs at %.0f jobs/s", jobs, rate))
    }
}
