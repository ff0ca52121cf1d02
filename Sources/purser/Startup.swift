// What every subcommand does first: read the configuration, stop on problems, set up logging.
import ArgumentParser
import Foundation
import Logging
import Purser

/// Flags shared by the subcommands; each overrides its environment variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "Address to listen on, HOST:PORT (PURSER_LISTEN, default 127.0.0.1:8080).")
    var listen: String?

    @Option(help: "Address for /metrics, HOST:PORT or off (PURSER_METRICS_LISTEN, default 127.0.0.1:9464).")
    var metricsListen: String?

    @Option(help: "Log level (PURSER_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(help: "Database connections per node (PURSER_POOL_SIZE, default 10).")
    var poolSize: Int?

    /// The environment with flags applied on top.
    func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let listen { environment["PURSER_LISTEN"] = listen }
        if let metricsListen { environment["PURSER_METRICS_LISTEN"] = metricsListen }
        if let logLevel { environment["PURSER_LOG_LEVEL"] = logLevel }
        if let poolSize { environment["PURSER_POOL_SIZE"] = String(poolSize) }
        return environment
    }
}

enum Startup {
    /// Loads and checks the configuration; prints one line per problem and exits 2 when there are any.
    static func configuration(
        _ options: CommonOptions, requireDatabase: Bool,
        requireMasterKey: Bool = false
    ) throws -> Configuration {
        try configuration(
            environment: options.environment(), requireDatabase: requireDatabase,
            requireMasterKey: requireMasterKey)
    }

    static func configuration(
        environment: [String: String], requireDatabase: Bool,
        requireMasterKey: Bool = false
    ) throws -> Configuration {
        let (configuration, found) = Configuration.load(environment: environment)
        var problems = found
        if requireDatabase && configuration.databaseURL == nil {
            problems.append("DATABASE_URL is not set (purser dev starts a private PostgreSQL when it is unset)")
        }
        if requireMasterKey && configuration.masterKey == nil { problems.append(MissingMasterKey().description) }
        guard problems.isEmpty else {
            for problem in problems { FileHandle.standardError.write(Data("purser: \(problem)\n".utf8)) }
            throw ExitCode(2)
        }
        return configuration
    }

    static func logger(_ configuration: Configuration, label: String = "purser") -> Logger {
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        return Logger(label: label)
    }

    /// Blocks SIGTERM and SIGINT in every thread started after this call, so that `waitForSignal`
    /// receives them in order; call before anything starts a thread.
    static func blockTerminationSignals() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Waits for SIGTERM or SIGINT; returns the signal's name.
    static func waitForSignal() -> String {
        var signals = terminationSignals
        var received: Int32 = 0
        sigwait(&signals, &received)
        return received == SIGTERM ? "SIGTERM" : "SIGINT"
    }

    /// Waits up to `seconds` for SIGTERM or SIGINT; returns the signal's name, or nil when the time
    /// passed first (an operator's second signal cuts a drain short).
    static func waitForSignal(seconds: Int) -> String? {
        var signals = terminationSignals
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let left = (deadline - ContinuousClock.now).components
            var timeout = timespec(tv_sec: Int(left.seconds), tv_nsec: Int(left.attoseconds / 1_000_000_000))
            let received = sigtimedwait(&signals, nil, &timeout)
            if received == SIGTERM { return "SIGTERM" }
            if received == SIGINT { return "SIGINT" }
            // EAGAIN: the time passed; EINTR: another signal arrived, so the loop waits out the rest.
        }
        return nil
    }

    private static var terminationSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        return signals
    }
}
