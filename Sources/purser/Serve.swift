// `purser serve`: the HTTP server.
import ArgumentParser
import Foundation
import Logging
import Purser

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve pages, the API, /healthz, /readyz and /metrics.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        Startup.blockTerminationSignals()
        let configuration = try Startup.configuration(options, requireDatabase: true, requireMasterKey: true)
        let logger = Startup.logger(configuration)
        let app = try PurserApp(configuration: configuration, databaseURL: configuration.databaseURL!, logger: logger)
        try app.start()
        logger.notice(
            "serving",
            metadata: [
                "url": .string(configuration.effectivePublicURL),
                "listen": .string("\(configuration.listenHost):\(app.server.port)"),
                "version": .string(PurserVersion.current),
            ])
        let signal = Startup.waitForSignal()
        // Behind a load balancer: /readyz answers 503 for the drain period while every request sent
        // is still answered, so the balancer's health check moves traffic away before the listener
        // closes. A second signal ends the period at once.
        app.readiness.beginDraining()
        logger.notice(
            "draining",
            metadata: [
                "signal": .string(signal), "drain_seconds": .stringConvertible(configuration.drainSeconds),
                "in_flight": .stringConvertible(app.server.requestsInFlight),
            ])
        if configuration.drainSeconds > 0, let again = Startup.waitForSignal(seconds: configuration.drainSeconds) {
            logger.notice("drain cut short", metadata: ["signal": .string(again)])
        }
        // Stops accepting, then waits for the requests in flight (up to the server's drain deadline).
        logger.notice("closing", metadata: ["in_flight": .stringConvertible(app.server.requestsInFlight)])
        app.shutdown()
        logger.notice("stopped")
        LogSink.standardOutput.flush()
    }
}
