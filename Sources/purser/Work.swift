// `purser work`: runs background jobs until SIGTERM or SIGINT, then finishes or hands back what
// it holds and exits 0.
import ArgumentParser
import Foundation
import HTTPServer
import Logging
import Purser

struct Work: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run background jobs and schedules.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Threads running jobs (PURSER_WORK_CONCURRENCY, default 2).")
    var concurrency: Int?

    func run() throws {
        Startup.blockTerminationSignals()
        var environment = options.environment()
        // Beside `serve` on one machine: metrics on the next port unless told otherwise.
        if environment["PURSER_METRICS_LISTEN"] == nil { environment["PURSER_METRICS_LISTEN"] = "127.0.0.1:9465" }
        if let concurrency { environment["PURSER_WORK_CONCURRENCY"] = String(concurrency) }
        let configuration = try Startup.configuration(environment: environment, requireDatabase: true, requireMasterKey: true)
        let logger = Startup.logger(configuration, label: "purser.work")
        let worker = try JobRunner.start(configuration: configuration, logger: logger)
        let metrics = MetricsRegistry()
        worker.register(metrics: metrics)
        let metricsServer = configuration.metricsHost.map {
            MetricsEndpoint.server(host: $0, port: configuration.metricsPort, registry: metrics, logger: logger)
        }
        try metricsServer?.start()
        logger.notice(
            "working",
            metadata: [
                "owner": .string(worker.owner),
                "concurrency": .stringConvertible(configuration.workConcurrency),
            ])
        let signal = Startup.waitForSignal()
        logger.notice("stopping", metadata: ["signal": .string(signal)])
        worker.stop()
        metricsServer?.shutdown()
        logger.notice("stopped")
        LogSink.standardOutput.flush()
    }
}
