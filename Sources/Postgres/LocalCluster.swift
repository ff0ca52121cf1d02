// A private PostgreSQL cluster in a folder, for `purser dev` and tests: created on first use,
// reached only through a Unix socket, run as an unprivileged account when we are root
// (PostgreSQL refuses to run as root).
import Foundation

public struct LocalCluster: Sendable {
    public let folder: URL
    public let port: Int
    /// The account the server runs as when this process is root.
    public let runAs: String?
    public let binaries: URL
    /// Database role and database created in the cluster.
    public let user: String
    public let database: String

    public var dataFolder: URL { folder.appendingPathComponent("data") }
    public var socketFolder: URL { folder.appendingPathComponent("run") }
    public var logFile: URL { folder.appendingPathComponent("postgresql.log") }

    /// libpq URL for `database` over the cluster's socket.
    public func url(database name: String? = nil) -> String {
        "postgresql:///\(name ?? database)?host=\(socketFolder.path)&port=\(port)&user=\(user)"
    }

    public enum ClusterError: Error, CustomStringConvertible {
        case binariesNotFound
        case commandFailed(String, output: String)
        public var description: String {
            switch self {
            case .binariesNotFound:
                "PostgreSQL's programs were not found (install the postgresql package; looked at pg_config --bindir and /usr/lib/postgresql/*/bin)"
            case .commandFailed(let command, let output): "\(command) failed: \(output)"
            }
        }
    }

    /// Prepares a cluster description for `preferred`; when we are root and the server account cannot
    /// reach that folder (a checkout under /root), it moves to a folder it can reach under /var/tmp.
    public init(preferred: URL, port: Int = 54329, user: String = "purser", database: String = "purser") throws {
        guard let binaries = Self.findBinaries() else { throw ClusterError.binariesNotFound }
        self.binaries = binaries
        self.port = port
        self.user = user
        self.database = database
        let isRoot = getuid() == 0
        runAs = isRoot ? "postgres" : nil
        var folder = preferred.standardizedFileURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if isRoot && !Self.reachable(folder, by: "postgres") {
            let digest = folder.path.utf8.reduce(UInt64(1_469_598_103_934_665_603)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
            folder = URL(fileURLWithPath: "/var/tmp/purser-\(String(digest, radix: 16).prefix(12))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        // Unix socket paths are limited to 107 bytes.
        if folder.appendingPathComponent("run/.s.PGSQL.\(port)").path.utf8.count > 100 {
            folder = URL(fileURLWithPath: "/tmp/purser-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        self.folder = folder
    }

    /// True when the cluster's data folder exists (a second run reuses it).
    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: dataFolder.appendingPathComponent("PG_VERSION").path)
    }

    /// Creates the cluster if needed, starts it if it is not running, and makes sure the database exists.
    public func start() throws {
        try FileManager.default.createDirectory(at: socketFolder, withIntermediateDirectories: true)
        if let runAs {
            // Only what the server uses: other files in the folder (a master key) stay private.
            try run("/bin/chown", [runAs, folder.path], asServer: false)
            try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
            try run("/bin/chown", ["-R", runAs, dataFolder.path, socketFolder.path], asServer: false)
            if FileManager.default.fileExists(atPath: logFile.path) {
                try run("/bin/chown", [runAs, logFile.path], asServer: false)
            }
        }
        if !isInitialized {
            try run(
                binaries.appendingPathComponent("initdb").path,
                ["-D", dataFolder.path, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        }
        if !isRunning {
            try run(
                binaries.appendingPathComponent("pg_ctl").path,
                [
                    "-D", dataFolder.path, "-l", logFile.path, "-w", "-t", "60",
                    "-o", "-k \(socketFolder.path) -c listen_addresses='' -p \(port) -c fsync=off -c max_connections=200",
                    "start",
                ])
        }
        let admin = try Connection(url: url(database: "postgres"))
        let exists = try admin.queryOnce("SELECT 1 FROM pg_database WHERE datname = $1", [database])
        if exists.isEmpty {
            try admin.execute("CREATE DATABASE \"\(database)\"")
        }
    }

    public var isRunning: Bool {
        (try? run(binaries.appendingPathComponent("pg_ctl").path, ["-D", dataFolder.path, "status"])) != nil
    }

    /// Stops the server (fast shutdown: open transactions roll back).
    public func stop() throws {
        guard isRunning else { return }
        try run(binaries.appendingPathComponent("pg_ctl").path, ["-D", dataFolder.path, "-m", "fast", "-w", "stop"])
    }

    /// Stops and starts the server again, as an operator's restart would.
    public func restart() throws {
        try run(
            binaries.appendingPathComponent("pg_ctl").path,
            [
                "-D", dataFolder.path, "-m", "fast", "-w", "-l", logFile.path,
                "-o", "-k \(socketFolder.path) -c listen_addresses='' -p \(port) -c fsync=off -c max_connections=200",
                "restart",
            ])
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String], asServer: Bool = true) throws -> String {
        let argv =
            asServer && runAs != nil
            ? ["/usr/sbin/runuser", "-u", runAs!, "--", program] + arguments
            : [program] + arguments
        let (status, text) = try ChildProcess.output(argv)
        guard status == 0 else {
            throw ClusterError.commandFailed(argv.joined(separator: " "), output: text)
        }
        return text
    }

    static func findBinaries() -> URL? {
        var candidates: [String] = []
        if let (status, output) = try? ChildProcess.output(["/bin/sh", "-c", "pg_config --bindir 2>/dev/null"]), status == 0 {
            candidates.append(output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        candidates += versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
            .map { URL(fileURLWithPath: $0) }
    }

    static func reachable(_ folder: URL, by account: String) -> Bool {
        (try? ChildProcess.run(
            ["/usr/sbin/runuser", "-u", account, "--", "test", "-x", folder.deletingLastPathComponent().path],
            output: "/dev/null")) == 0
    }
}
