// PgBouncer in transaction mode in front of the test cluster, started by a scale test on a Unix
// socket in a temp folder of its own (scripts/scale/pgbouncer.sh, the same file `make test-scale`'s
// pooled run uses) and stopped when the peer goes. Every database passes through (`*`).
import Foundation
import Postgres
import PostgresTesting
import Purser

public final class PgBouncerPeer: Sendable {
    public let folder: URL
    /// The cluster's `postgres` database through PgBouncer.
    public let adminURL: String
    private let script: String

    /// `poolSize`: server connections per database and user; 1 makes every transaction of a
    /// database run on one server session, which a test can then inspect.
    public init(poolSize: Int = 20) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("purser-pgbouncer-\(UUID().uuidString.prefix(8))")
        script = TestEnvironment.root.appendingPathComponent("scripts/scale/pgbouncer.sh").path
        var environment = ProcessInfo.processInfo.environment
        environment["PGBOUNCER_POOL_SIZE"] = "\(poolSize)"
        let started = try Subprocess.run(
            "/bin/bash", [script, "start", folder.path, try TestEnvironment.adminURL()], environment: environment)
        guard started.status == 0, let url = started.output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgresql:")
        else {
            throw TestSetupError("pgbouncer did not start: \(started.output)")
        }
        adminURL = url
    }

    deinit { _ = try? Subprocess.run("/bin/bash", [script, "stop", folder.path]) }

    /// `database` through PgBouncer.
    public func url(for database: TestDatabase) -> String { TestEnvironment.url(adminURL, database: database.name) }
}

extension TestDatabase {
    /// A Database as a Purser node opens it: through PgBouncer in transaction mode in the pooled run
    /// of `make test-scale`, straight to the database otherwise.
    public func pooled(size: Int, worker: Bool = false) -> Database {
        Database(url: pooledURL, size: size, worker: worker, mode: TestEnvironment.poolMode)
    }
}
