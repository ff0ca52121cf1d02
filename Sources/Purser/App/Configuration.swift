// Purser's settings, from environment variables (twelve-factor) with flags on top, checked at start.
import Foundation
import HTTPClient
import HTTPServer
import Logging
import Postgres

public struct Configuration: Sendable {
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    /// Where `/metrics` is served; never the public address. Nil turns it off.
    public var metricsHost: String? = "127.0.0.1"
    public var metricsPort = 9464
    public var databaseURL: String?
    /// A streaming replica that reports and read-heavy lists may read from (ReplicaReads.swift);
    /// nil: every read goes to the primary.
    public var databaseReplicaURL: String?
    /// The replica serves a read only while it is at most this far behind the primary.
    public var replicaMaxLagSeconds = 10
    /// After a person's successful write, their reads go to the primary for this long.
    public var readOwnWritesSeconds = 30
    /// A connection straight to PostgreSQL, for what cannot pass a pooler in transaction mode: LISTEN,
    /// `purser migrate` (a session advisory lock) and admin commands. Nil: `databaseURL`.
    public var databaseDirectURL: String?
    /// `transaction` when DATABASE_URL is PgBouncer with `pool_mode = transaction` (see PoolMode).
    public var poolMode: PoolMode = .session
    public var poolSize = 10
    public var logLevel: Logger.Level = .info
    /// The address people reach Purser at; links in mail use it, and `https` turns on Secure cookies and HSTS.
    public var publicURL: URL?
    public var trustedProxies: [String] = []
    /// `purser serve` on SIGTERM: seconds /readyz answers 503 while everything else is still served,
    /// so a load balancer's health check takes the node out before it stops accepting
    /// (PURSER_DRAIN_SECONDS; at least the balancer's check interval times its fall count).
    public var drainSeconds = 5
    public var forwardedHeader: ForwardedHeader = .xForwardedFor
    /// Keys for sealing secrets at rest and signing audit checkpoints: one 32-byte key in base64,
    /// or `id:base64,id:base64` whose first key seals and signs and all of which open and verify.
    public var masterKey: Keyring?
    /// Folder holding `Templates/`, `Public/` and `migrations/`.
    public var root: URL
    public var ioThreads = 2
    public var workerThreads = 16
    public var connectionLimit = 2048
    /// Whether request lists and the staff queue page are remembered between changes
    /// (`PURSER_REMEMBER_ANSWERS=off` builds every answer, for measuring what remembering saves).
    public var rememberAnswers = true
    public var bodyLimit = 1 << 20
    /// A session ends after this long without a request, and after the lifetime in any case.
    public var sessionIdleMinutes = 30
    public var sessionHours = 12
    /// `purser work`: handler threads, jobs claimed at once per thread, and the lease on a claim.
    public var workConcurrency = 2
    public var jobBatchSize = 100
    public var jobLeaseSeconds = 30
    /// Outgoing mail: `smtp://[user:password@]host:port` (STARTTLS required; `?tls=optional` or
    /// `?tls=none` for a local relay) or `smtps://…`. Nil: email deliveries wait until one is set.
    public var mailServer: MailServer?
    public var mailFrom: String?
    /// Notification destinations: plain http allowed (tests, development), and non-public
    /// addresses let through (CIDRs; tests).
    public var allowHTTPDestinations = false
    public var allowedDestinations: [String] = []
    public var breakerCoolDownSeconds = 60
    /// `verify-audit`: rows may wait this long for a checkpoint (the schedule takes one hourly).
    public var auditCheckpointMaxAgeHours = 3
    /// Where Purser's nodes connect to GPU hosts from (CIDRs, `PURSER_SSH_SOURCE_ADDRESSES`): the
    /// certificates Purser signs for itself are valid from there only. Empty: Purser does not SSH.
    public var sshSourceAddresses: [String] = []

    public init(root: URL) { self.root = root }

    public var isHTTPS: Bool { publicURL?.scheme == "https" }
    public var directDatabaseURL: String? { databaseDirectURL ?? databaseURL }
    public var templatesFolder: URL { root.appendingPathComponent("Templates") }
    public var publicFolder: URL { root.appendingPathComponent("Public") }
    public var migrationsFolder: URL { root.appendingPathComponent("migrations") }
    public var effectivePublicURL: String {
        publicURL?.absoluteString ?? "http://\(listenHost.contains(":") ? "[\(listenHost)]" : listenHost):\(listenPort)"
    }

    /// Reads the environment; returns the configuration and one line per problem found.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        root: URL? = nil
    ) -> (Configuration, [String]) {
        var problems: [String] = []
        var config = Configuration(root: root ?? defaultRoot(environment))
        if let listen = environment["PURSER_LISTEN"] {
            if let (host, port) = parseAddress(listen) {
                config.listenHost = host; config.listenPort = port
            } else {
                problems.append("PURSER_LISTEN=\(listen): expected HOST:PORT with a numeric address, e.g. 127.0.0.1:8080")
            }
        }
        if let metrics = environment["PURSER_METRICS_LISTEN"] {
            if metrics == "off" {
                config.metricsHost = nil
            } else if let (host, port) = parseAddress(metrics) {
                config.metricsHost = host; config.metricsPort = port
            } else {
                problems.append("PURSER_METRICS_LISTEN=\(metrics): expected HOST:PORT or off")
            }
        }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.contains("=") {
                config.databaseURL = url
            } else {
                problems.append("DATABASE_URL: expected postgres://user@host:port/database or a libpq conninfo string")
            }
        }
        if let url = environment["DATABASE_DIRECT_URL"], !url.isEmpty {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.contains("=") {
                config.databaseDirectURL = url
            } else {
                problems.append("DATABASE_DIRECT_URL: expected postgres://user@host:port/database or a libpq conninfo string")
            }
        }
        if let mode = environment["PURSER_POOL_MODE"] {
            if let parsed = PoolMode(rawValue: mode.lowercased()) {
                config.poolMode = parsed
            } else {
                problems.append(
                    "PURSER_POOL_MODE=\(mode): expected session (PostgreSQL directly) or transaction"
                        + " (PgBouncer with pool_mode = transaction)")
            }
        }
        if config.poolMode == .transaction && config.databaseURL != nil && config.databaseDirectURL == nil {
            problems.append(
                "PURSER_POOL_MODE=transaction needs DATABASE_DIRECT_URL, a connection straight to PostgreSQL:"
                    + " LISTEN and migrate's lock cannot pass a pooler in transaction mode")
        }
        if let url = environment["DATABASE_REPLICA_URL"], !url.isEmpty {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.contains("=") {
                config.databaseReplicaURL = url
            } else {
                problems.append("DATABASE_REPLICA_URL: expected postgres://user@host:port/database or a libpq conninfo string")
            }
        }
        integer(environment, "PURSER_REPLICA_MAX_LAG_SECONDS", 1...3600, &config.replicaMaxLagSeconds, &problems)
        integer(environment, "PURSER_READ_OWN_WRITES_SECONDS", 1...3600, &config.readOwnWritesSeconds, &problems)
        integer(environment, "PURSER_POOL_SIZE", 1...500, &config.poolSize, &problems)
        integer(environment, "PURSER_WORKER_THREADS", 1...1024, &config.workerThreads, &problems)
        integer(environment, "PURSER_IO_THREADS", 1...64, &config.ioThreads, &problems)
        integer(environment, "PURSER_CONNECTION_LIMIT", 1...100_000, &config.connectionLimit, &problems)
        integer(environment, "PURSER_BODY_LIMIT", 1024...(1 << 30), &config.bodyLimit, &problems)
        integer(environment, "PURSER_SESSION_IDLE_MINUTES", 1...1440, &config.sessionIdleMinutes, &problems)
        integer(environment, "PURSER_SESSION_HOURS", 1...720, &config.sessionHours, &problems)
        integer(environment, "PURSER_WORK_CONCURRENCY", 1...256, &config.workConcurrency, &problems)
        integer(environment, "PURSER_JOB_BATCH_SIZE", 1...1000, &config.jobBatchSize, &problems)
        integer(environment, "PURSER_JOB_LEASE_SECONDS", 2...3600, &config.jobLeaseSeconds, &problems)
        integer(environment, "PURSER_DRAIN_SECONDS", 0...3600, &config.drainSeconds, &problems)
        integer(environment, "PURSER_BREAKER_COOLDOWN_SECONDS", 1...86400, &config.breakerCoolDownSeconds, &problems)
        integer(environment, "PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS", 1...8784, &config.auditCheckpointMaxAgeHours, &problems)
        if let remember = environment["PURSER_REMEMBER_ANSWERS"] {
            switch remember.lowercased() {
            case "on": config.rememberAnswers = true
            case "off": config.rememberAnswers = false
            default: problems.append("PURSER_REMEMBER_ANSWERS=\(remember): expected on or off")
            }
        }
        if let smtp = environment["SMTP_URL"], !smtp.isEmpty {
            if let server = Self.parseMailServer(smtp) {
                config.mailServer = server
            } else {
                problems.append("SMTP_URL: expected smtp://[user:password@]host:port[?tls=required|optional|none] or smtps://…")
            }
        }
        config.mailFrom = environment["PURSER_MAIL_FROM"]
        if let allow = environment["PURSER_ALLOW_HTTP_DESTINATIONS"] {
            config.allowHTTPDestinations = ["1", "true", "yes"].contains(allow.lowercased())
        }
        if let allowed = environment["PURSER_DESTINATION_ALLOW"] {
            config.allowedDestinations = allowed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        }
        if let sources = environment["PURSER_SSH_SOURCE_ADDRESSES"] {
            config.sshSourceAddresses = sources.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter {
                !$0.isEmpty
            }
            if let bad = config.sshSourceAddresses.first(where: {
                $0.range(of: "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?\\z", options: .regularExpression) == nil
            }) {
                problems.append("PURSER_SSH_SOURCE_ADDRESSES: \(bad) is not an address or CIDR (e.g. 10.0.4.0/24,10.0.5.7)")
            }
        }
        if let level = environment["PURSER_LOG_LEVEL"] {
            if let parsed = Logger.Level(rawValue: level.lowercased()) {
                config.logLevel = parsed
            } else {
                problems.append("PURSER_LOG_LEVEL=\(level): expected trace, debug, info, notice, warning, error or critical")
            }
        }
        if let text = environment["PURSER_PUBLIC_URL"] {
            if let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil {
                config.publicURL = url
            } else {
                problems.append("PURSER_PUBLIC_URL=\(text): expected an absolute http or https URL")
            }
        }
        if let proxies = environment["PURSER_TRUSTED_PROXIES"] {
            config.trustedProxies = proxies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            for entry in config.trustedProxies where IPBlock(entry) == nil {
                problems.append("PURSER_TRUSTED_PROXIES: \(entry) is not an IPv4 or IPv6 address or CIDR block")
            }
        }
        if let header = environment["PURSER_FORWARDED_HEADER"] {
            if let parsed = ForwardedHeader(rawValue: header.lowercased()) {
                config.forwardedHeader = parsed
            } else {
                problems.append("PURSER_FORWARDED_HEADER=\(header): expected x-forwarded-for or forwarded")
            }
        }
        if let key = environment["PURSER_MASTER_KEY"] {
            // Never echo the key itself.
            do { config.masterKey = try Keyring(parsing: key) } catch { problems.append("\(error)") }
        }
        for folder in [config.templatesFolder, config.publicFolder, config.migrationsFolder] {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                problems.append("PURSER_ROOT: \(folder.path) is missing (run from the checkout or set PURSER_ROOT)")
            }
        }
        return (config, problems)
    }

    /// `HOST:PORT`, `[v6]:PORT` or `:PORT` (all IPv4 addresses).
    public static func parseAddress(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        if host == "localhost" { host = "127.0.0.1" }
        let isNumeric = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        guard isNumeric || host.contains(":") else { return nil }
        return (host, port)
    }

    static func defaultRoot(_ environment: [String: String]) -> URL {
        if let root = environment["PURSER_ROOT"] { return URL(fileURLWithPath: root) }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: cwd.appendingPathComponent("Templates").path) { return cwd }
        // An installed binary: /app/bin/purser looks in /app.
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().deletingLastPathComponent()
    }

    private static func integer(
        _ environment: [String: String], _ name: String, _ range: ClosedRange<Int>,
        _ value: inout Int, _ problems: inout [String]
    ) {
        guard let text = environment[name] else { return }
        if let parsed = Int(text), range.contains(parsed) {
            value = parsed
        } else {
            problems.append("\(name)=\(text): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    /// The worker's settings from the configuration.
    public var jobWorkerSettings: JobWorker.Settings {
        var settings = JobWorker.Settings()
        settings.concurrency = workConcurrency
        settings.batchSize = jobBatchSize
        settings.lease = TimeInterval(jobLeaseSeconds)
        return settings
    }

    static func parseMailServer(_ text: String) -> MailServer? {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["smtp", "smtps"].contains(scheme),
            let host = url.host, !host.isEmpty
        else { return nil }
        let tls = url.queryItems?.first { $0.name == "tls" }?.value ?? "required"
        let security: MailServer.Security
        switch (scheme, tls) {
        case ("smtps", _): security = .implicitTLS
        case (_, "required"): security = .startTLS
        case (_, "optional"): security = .startTLSIfOffered
        case (_, "none"): security = .none
        default: return nil
        }
        let port = url.port ?? (scheme == "smtps" ? 465 : 587)
        return MailServer(
            url: "\(scheme)://\(host):\(port)", security: security, username: url.user?.removingPercentEncoding,
            password: url.password?.removingPercentEncoding)
    }
}
