// A primary and a streaming replica of its own for a scale test, in a temporary folder and reached
// only through Unix sockets there: initdb, `purser migrate`, then `pg_basebackup -R` makes the
// standby, which streams from the primary from then on. PostgreSQL refuses root, so when the tests
// run as root both servers run as the `postgres` account (as scripts/test-cluster.sh does).
import Foundation
import HTTPServerTesting
import Postgres

public final class ReplicaPair: @unchecked Sendable {
    public let folder: URL
    /// The migrated `purser` database on the primary and on the replica, as `purser` (a superuser).
    public let primaryURL: String
    public let replicaURL: String
    private let bin: String
    private let asServer: [String]

    public init() throws {
        bin = try Self.serverBin()
        asServer = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("purser-replica-\(UUID().uuidString.prefix(8))")
        for sub in ["primary-run", "replica-run"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        if getuid() == 0 { try Self.run(["/usr/bin/chown", "-R", "postgres", folder.path]) }
        primaryURL = "postgresql:///purser?host=\(folder.path)/primary-run&port=5432&user=purser"
        replicaURL = "postgresql:///purser?host=\(folder.path)/replica-run&port=5432&user=purser"

        try Self.run(
            asServer + [
                "\(bin)/initdb", "-D", path("primary"), "-U", "purser", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ])
        // Streaming needs wal_level replica and WAL senders (both defaults, stated so they stay so);
        // durability is not what the test measures.
        try start(
            "primary",
            options: "-c wal_level=replica -c max_wal_senders=4 -c fsync=off -c synchronous_commit=off -c max_connections=100")
        let admin = try Connection(url: primaryURL.replacingOccurrences(of: "/purser?", with: "/postgres?"))
        try admin.execute("CREATE DATABASE purser")
        let migrate = try ChildProcess.output(
            [TestEnvironment.purserBinary.path, "migrate"],
            environment: ProcessInfo.processInfo.environment.merging(
                ["DATABASE_URL": primaryURL, "PURSER_ROOT": TestEnvironment.root.path, "PURSER_LOG_LEVEL": "error"]
            ) { $1 })
        guard migrate.status == 0 else { throw TestSetupError("purser migrate on the primary failed: \(migrate.text)") }

        try Self.run(
            asServer + [
                "\(bin)/pg_basebackup", "-D", path("replica"), "-R", "-X", "stream", "-c", "fast",
                "-h", path("primary-run"), "-p", "5432", "-U", "purser",
            ])
        try start("replica", options: "-c hot_standby=on -c max_connections=100")
        guard try waitUntil(30, { try replicaCaughtUp() }) else { throw TestSetupError("the replica did not catch up with the primary") }
    }

    deinit {
        for name in ["replica", "primary"] {
            _ = try? ChildProcess.output(asServer + ["\(bin)/pg_ctl", "-D", path(name), "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Stops replaying WAL on the replica (it still receives it): from now on it falls behind.
    public func pauseReplay() throws {
        try Connection(url: replicaURL).execute("SELECT pg_wal_replay_pause()")
    }

    public func resumeReplay() throws {
        try Connection(url: replicaURL).execute("SELECT pg_wal_replay_resume()")
    }

    /// Whether the replica has replayed everything the primary has written so far.
    public func replicaCaughtUp() throws -> Bool {
        let written: String = try Connection(url: primaryURL).query("SELECT pg_current_wal_lsn()::text").first!.require(0)
        return try Connection(url: replicaURL).query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", [written]).first!.require(0)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func start(_ name: String, options: String) throws {
        try Self.run(
            asServer + [
                "\(bin)/pg_ctl", "-D", path(name), "-l", path("\(name).log"), "-w", "-t", "60",
                "-o", "-k \(path("\(name)-run")) -c listen_addresses='' -p 5432 \(options)", "start",
            ])
    }

    private static func serverBin() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else { throw TestSetupError("no PostgreSQL under /usr/lib/postgresql") }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    private static func run(_ argv: [String]) throws {
        let result = try ChildProcess.output(argv)
        guard result.status == 0 else { throw TestSetupError("\(argv.joined(separator: " ")) failed: \(result.text)") }
    }
}

extension ReplicaPair {
    /// Stops the replica at once, as a crash would.
    public func stopReplica() throws {
        try Self.run(asServer + ["\(bin)/pg_ctl", "-D", path("replica"), "-m", "immediate", "-w", "stop"])
    }
}
