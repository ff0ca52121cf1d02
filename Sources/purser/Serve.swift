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
        logger.notice("draining", metadata: ["signal": .string(signal), "in_flight": .stringConvertible(app.server.requestsInFlight)])
        app.shutdown()
        logger.notice("stopped")
        LogSink.standardOutput.flush()
    }
}
