// Purser as it runs past one machine, on loopback: `purser serve` and `purser work` processes of
// the debug build against one test database, each with a log of its own in a temporary folder. A
// serve node listens on a free loopback port and is started once /healthz answers; a worker once
// it logs "working". Every process is killed when the nodes go away, whatever the test did.
import Foundation
import HTTPClient
import HTTPServerTesting
import Postgres
import Purser

/// One `purser` process.
public final class PurserNode: @unchecked Sendable {
    public enum Role: String, Sendable { case serve, work }

    public let role: Role
    public let name: String
    public let log: URL
    private let process: ChildProcess
    /// The port a serve node listens on (0 for a worker).
    public let port: Int

    public var url: String { "http://127.0.0.1:\(port)" }

    init(role: Role, name: String, environment: [String: String], folder: URL) throws {
        self.role = role
        self.name = name
        log = folder.appendingPathComponent("\(name).log")
        var environment = environment
        port = role == .serve ? RawHTTP.freePort() : 0
        if role == .serve { environment["PURSER_LISTEN"] = "127.0.0.1:\(port)" }
        process = try ChildProcess([TestEnvironment.purserBinary.path, role.rawValue], environment: environment, output: log.path)
        let client = HTTPClient()
        let started = waitUntil(30) { [self] in
            guard role == .serve else { return line(containing: #""message":"working""#) != nil }
            return (try? client.get(url + "/healthz"))?.status == 200
        }
        guard started else {
            _ = process.stop(signal: SIGKILL)
            throw TestSetupError("purser \(role.rawValue) (\(name)) did not start: \(logText)")
        }
    }

    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The first log line holding `text`.
    public func line(containing text: String) -> String? {
        logText.split(separator: "\n").first { $0.contains(text) }.map(String.init)
    }

    /// Sends `signal`, waits for the process to end, and returns its exit status (128+n after signal n).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 { process.stop(signal: signal) }

    /// Sends `signal` to the process alone and returns at once (`waitForExit` reaps it).
    public func send(_ signal: Int32) { kill(process.pid, signal) }

    /// Waits for the process to end by itself; returns its exit status.
    @discardableResult
    public func waitForExit() -> Int32 { process.wait() }

    deinit { _ = process.stop(signal: SIGKILL) }
}

/// `serve` and `work` nodes of one Purser on one database.
public final class PurserNodes: @unchecked Sendable {
    public let databaseURL: String
    public let folder: URL
    public private(set) var serves: [PurserNode] = []
    public private(set) var workers: [PurserNode] = []
    /// Settings every node gets (the test's own on top of the defaults below).
    private let environment: [String: String]

    /// Starts `serve` serve nodes and `work` workers against `databaseURL`. Defaults for a test:
    /// metrics off, a 2 s job lease (the shortest allowed), a 2 s drain, 127.0.0.3 trusted as the
    /// proxy (HAProxyPeer's source), small pools.
    public init(databaseURL: String, serve: Int = 2, work: Int = 2, environment extra: [String: String] = [:]) throws {
        self.databaseURL = databaseURL
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var environment = [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": databaseURL,
            "PURSER_MASTER_KEY": TestEnvironment.masterKeyText, "PURSER_METRICS_LISTEN": "off",
            "PURSER_POOL_SIZE": "4", "PURSER_WORKER_THREADS": "8",
            "PURSER_JOB_LEASE_SECONDS": "2", "PURSER_DRAIN_SECONDS": "2", "PURSER_TRUSTED_PROXIES": "127.0.0.3",
            "PURSER_LOG_LEVEL": "info",
        ]
        environment.merge(extra) { $1 }
        self.environment = environment
        for _ in 0..<serve { try start(.serve) }
        for _ in 0..<work { try start(.work) }
    }

    /// Starts one more node of `role`, with `extra` settings on top of the nodes' own.
    @discardableResult
    public func start(_ role: PurserNode.Role, _ extra: [String: String] = [:]) throws -> PurserNode {
        let all = role == .serve ? serves : workers
        let node = try PurserNode(
            role: role, name: "\(role.rawValue)\(all.count + 1)", environment: environment.merging(extra) { $1 }, folder: folder)
        if role == .serve { serves.append(node) } else { workers.append(node) }
        return node
    }

    /// Each serve node as HAProxy names it.
    public var servers: [(name: String, port: Int)] { serves.map { ($0.name, $0.port) } }

    /// Every node's log, for a failed expectation's message.
    public var logs: String { (serves + workers).map { "== \($0.name)\n\($0.logText.suffix(4000))" }.joined(separator: "\n") }

    /// Stops every node that still runs (SIGKILL: nothing is left behind to hold the database).
    public func stopAll() {
        for node in serves + workers { node.stop(signal: SIGKILL) }
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(at: folder)
    }
}

extension People {
    /// A token of `email` in this tenant with `scopes`, made through `app`'s store, for an hour.
    public func token(_ email: String, _ scopes: [Scope] = [.requestsRead], in app: TestApp) throws -> (id: UUID, token: String) {
        let made = try app.app.tokens.create(
            user: id(email), tenant: tenant, name: "nodes", scopes: scopes, lifetime: 3600, actor: .system)
        return (made.id, made.token)
    }
}

/// How long a change takes to show: runs `condition` back to back (each call is a request, which
/// paces it) until it holds; returns the time it took, or nil when `seconds` pass first.
public func timeUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Duration? {
    let started = ContinuousClock.now
    let deadline = started + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return ContinuousClock.now - started }
    }
    return nil
}
