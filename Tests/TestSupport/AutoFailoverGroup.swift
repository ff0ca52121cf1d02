// A pg_auto_failover formation on loopback for the failover suite: a monitor and two Postgres nodes
// (a primary and its synchronous secondary), each `pg_autoctl run` a child process of the test, in
// a temporary directory, on ephemeral ports. The monitor's health checks are tuned from tens of
// seconds down to about two, so that a killed primary is replaced in a few seconds.
// PostgreSQL refuses root: as root every pg_autoctl runs as the `postgres` account.
import Foundation
import HTTPServerTesting
import Postgres
import PostgresTesting

public final class AutoFailoverGroup: @unchecked Sendable {
    public struct Node: Sendable {
        public let name: String
        public let port: Int
        /// Where the node is in pg_auto_failover's state machine, as the monitor last heard it.
        public let reported: String
        /// Where the monitor wants it.
        public let assigned: String
    }

    public let directory: URL
    public let monitorPort: Int
    /// The two Postgres nodes by name, in the order they joined (the first starts as the primary).
    public let ports: [(name: String, port: Int)]
    public static let database = "purser"
    private let binDirectory: String
    private var processes: [String: ChildProcess] = [:]
    private let lock = NSLock()

    /// What the monitor's postgresql.conf gains: failure noticed within about 2 s instead of 20–30 s.
    /// The defaults are 5 s between checks, 5 s timeout, 2 retries 2 s apart, 20 s before a node
    /// counts as unhealthy and 30 s for a primary to demote itself.
    public static let monitorSettings = [
        "pgautofailover.health_check_period = 1000",
        "pgautofailover.health_check_timeout = 1000",
        "pgautofailover.health_check_max_retries = 1",
        "pgautofailover.health_check_retry_delay = 500",
        "pgautofailover.node_considered_unhealthy_timeout = 2000",
        "pgautofailover.primary_demote_timeout = 2000",
        "pgautofailover.startup_grace_period = 1000",
    ]
    /// What every node's postgresql.conf gains (the secondary copies the primary's with its base
    /// backup). pg_autoctl sizes shared_buffers to a quarter of the machine: three clusters of that
    /// on a shared test box is too much. A standby whose primary is gone retries WAL every
    /// wal_retrieve_retry_interval (5 s) and is promoted only after that wait: 500 ms here.
    /// fsync off: the test kills processes, never the machine, and the page cache survives a process.
    public static let nodeSettings = ["shared_buffers = '32MB'", "fsync = off", "wal_retrieve_retry_interval = 500"]

    /// Creates the monitor and both nodes and starts them; `waitForPrimaryAndSecondary` says when
    /// the formation has settled.
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("purser-failover-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        binDirectory = try Self.postgresBin()
        monitorPort = RawHTTP.freePort()
        ports = [("node1", RawHTTP.freePort()), ("node2", RawHTTP.freePort())]
        if getuid() == 0 {
            guard let account = getpwnam("postgres") else { throw TestSetupError("the postgres account is missing") }
            chown(directory.path, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        do {
            try start()
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// The URL Purser is given: both nodes, and only the one that accepts writes will do.
    public var url: String {
        "postgresql://postgres@" + ports.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
            + "/\(Self.database)?target_session_attrs=read-write"
    }

    /// One node, whatever its role.
    public func url(node: String) -> String {
        "postgresql://postgres@127.0.0.1:\(port(node))/\(Self.database)"
    }

    public var monitorURL: String { "postgresql://postgres@127.0.0.1:\(monitorPort)/pg_auto_failover" }

    public func port(_ node: String) -> Int { ports.first { $0.name == node }!.port }

    private func start() throws {
        let monitor = directory.appendingPathComponent("monitor").path
        try autoctl([
            "create", "monitor", "--pgdata", monitor, "--pgport", "\(monitorPort)", "--hostname", "127.0.0.1",
            "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", binDirectory + "/pg_ctl",
        ])
        try append(Self.monitorSettings + Self.nodeSettings, to: monitor)
        try run("monitor", pgdata: monitor)
        guard waitUntil(30, { (try? Connection(url: monitorURL)) != nil }) else {
            throw TestSetupError("the pg_auto_failover monitor did not start: \(log("monitor"))")
        }
        for (index, node) in ports.enumerated() {
            let pgdata = directory.appendingPathComponent(node.name).path
            try autoctl([
                "create", "postgres", "--pgdata", pgdata, "--pgport", "\(node.port)", "--listen", "127.0.0.1",
                "--hostname", "127.0.0.1", "--name", node.name, "--dbname", Self.database,
                "--monitor", "postgres://autoctl_node@127.0.0.1:\(monitorPort)/pg_auto_failover?sslmode=disable",
                "--auth", "trust", "--no-ssl", "--pgctl", binDirectory + "/pg_ctl",
            ])
            if index == 0 { try append(Self.nodeSettings, to: pgdata) }
            // The keeper waits this long for the WAL receiver to stop before promoting (default 5 s).
            try autoctl(["config", "set", "--pgdata", pgdata, "timeout.prepare_promotion_walreceiver", "1"])
            try run(node.name, pgdata: pgdata)
        }
    }

    /// The nodes as the monitor sees them.
    public func nodes() throws -> [Node] {
        try Connection(url: monitorURL).query(
            "SELECT nodename, nodeport, reportedstate::text, goalstate::text FROM pgautofailover.node ORDER BY nodeid"
        ).map {
            Node(
                name: try $0.require(0, as: String.self), port: try $0.require(1, as: Int.self),
                reported: try $0.require(2, as: String.self), assigned: try $0.require(3, as: String.self))
        }
    }

    /// The node that is primary (or primary without its standby, `wait_primary`) and has said so.
    public func primary() throws -> String? {
        try nodes().first { ["primary", "wait_primary"].contains($0.reported) && $0.reported == $0.assigned }?.name
    }

    /// True once one node reports primary and the other secondary; false after `seconds`.
    public func waitForPrimaryAndSecondary(seconds: TimeInterval) -> Bool {
        waitUntil(seconds) {
            let states = ((try? nodes()) ?? []).filter { $0.reported == $0.assigned }.map(\.reported).sorted()
            return states == ["primary", "secondary"]
        }
    }

    /// Applies Purser's migrations through the multi-host URL (so on the primary).
    public func migrate() throws {
        let result = try Subprocess.run(
            TestEnvironment.purserBinary.path, ["migrate"],
            environment: ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": url])
        guard result.status == 0 else { throw TestSetupError("purser migrate failed: \(result.output)") }
    }

    /// SIGKILLs the node's pg_autoctl and everything it started (its postgres and backends share
    /// its process group): the machine under it might as well have lost power.
    public func kill(_ node: String) {
        let process = lock.withLock { processes.removeValue(forKey: node) }
        process?.stop(signal: SIGKILL)
    }

    /// Starts a node's keeper again (after `kill`): pg_auto_failover rewinds the old primary with
    /// pg_rewind and it rejoins as the secondary.
    public func restart(_ node: String) throws {
        try run(node, pgdata: directory.appendingPathComponent(node).path)
    }

    /// Starts a planned switchover (the primary is demoted while it runs, the secondary promoted)
    /// and returns at once; the process ends when the monitor has seen it through (at most 60 s).
    public func startSwitchover() throws -> ChildProcess {
        try ChildProcess(
            ["/usr/bin/timeout", "90"]
                + command(["perform", "switchover", "--pgdata", directory.appendingPathComponent("monitor").path, "--wait", "60"]),
            environment: [:], output: directory.appendingPathComponent("switchover.log").path)
    }

    /// What a process wrote, for a failure message.
    public func log(_ name: String) -> String {
        let text = (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

    /// Stops every process (SIGTERM, then SIGKILL after a bounded wait), frees the shared memory a
    /// killed postmaster leaves behind, and removes the directory. Safe to call twice.
    public func stop() {
        let running = lock.withLock {
            let all = processes
            processes.removeAll()
            return all
        }
        func pidFile(_ name: String) -> String { directory.appendingPathComponent("\(name)/postmaster.pid").path }
        for process in running.values { Foundation.kill(-process.pid, SIGTERM) }
        // pg_autoctl stops its postgres (fast shutdown), which removes postmaster.pid.
        _ = waitUntil(15) { running.keys.allSatisfy { !FileManager.default.fileExists(atPath: pidFile($0)) } }
        for process in running.values { process.stop(signal: SIGKILL) }
        for name in ["monitor"] + ports.map(\.name) { Self.removeSharedMemory(postmasterPID: pidFile(name)) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A postmaster killed with SIGKILL leaves its System V segment; postmaster.pid's seventh line
    /// names it ("key id").
    private static func removeSharedMemory(postmasterPID path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 6, let id = lines[6].split(separator: " ").last.flatMap({ Int32($0) }) else { return }
        shmctl(id, IPC_RMID, nil)
    }

    private func run(_ name: String, pgdata: String) throws {
        let process = try ChildProcess(
            command(["run", "--pgdata", pgdata]), environment: [:],
            output: directory.appendingPathComponent("\(name).log").path)
        lock.withLock { processes[name] = process }
    }

    /// Runs one pg_autoctl command to completion, bounded by coreutils' timeout.
    private func autoctl(_ arguments: [String]) throws {
        let (status, output) = try ChildProcess.output(["/usr/bin/timeout", "60"] + command(arguments), environment: [:])
        guard status == 0 else {
            throw TestSetupError("pg_autoctl \(arguments.prefix(2).joined(separator: " ")) failed (\(status)): \(output.suffix(3000))")
        }
    }

    /// pg_autoctl keeps its configuration and state under XDG directories: here, inside `directory`.
    private func command(_ arguments: [String]) -> [String] {
        let xdg = directory.appendingPathComponent("xdg").path
        let asServer = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        return asServer + [
            "/usr/bin/env", "XDG_CONFIG_HOME=\(xdg)", "XDG_DATA_HOME=\(xdg)", "XDG_RUNTIME_DIR=\(xdg)",
            "PATH=\(binDirectory):/usr/bin:/bin", "/usr/bin/pg_autoctl",
        ] + arguments
    }

    /// Later lines win: these come after pg_autoctl's own include at the top of postgresql.conf.
    private func append(_ settings: [String], to pgdata: String) throws {
        guard let file = FileHandle(forWritingAtPath: pgdata + "/postgresql.conf") else {
            throw TestSetupError("\(pgdata)/postgresql.conf is missing")
        }
        defer { try? file.close() }
        try file.seekToEnd()
        try file.write(contentsOf: Data(("\n" + settings.joined(separator: "\n") + "\n").utf8))
    }

    /// The newest PostgreSQL's bin directory (where pg_ctl is), as scripts/test-cluster.sh finds it.
    private static func postgresBin() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard
            let version = versions.compactMap(Int.init).sorted().last(where: {
                FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/pg_ctl")
            })
        else { throw TestSetupError("no PostgreSQL under /usr/lib/postgresql") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pg_autoctl") else {
            throw TestSetupError("/usr/bin/pg_autoctl is missing (postgresql-\(version)-auto-failover)")
        }
        return "/usr/lib/postgresql/\(version)/bin"
    }
}
