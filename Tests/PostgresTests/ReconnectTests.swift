import Foundation
import Postgres
import Testing

/// A cluster of the test's own, so restarting it disturbs no other test.
@Suite(.serialized) struct ReconnectTests {
    @Test func thePoolReconnectsAfterPostgreSQLRestarts() throws {
        let folder = URL(fileURLWithPath: "/tmp/purser-restart-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cluster = try LocalCluster(preferred: folder, port: 55999)
        try cluster.start()
        defer { try? cluster.stop() }
        let pool = ConnectionPool(url: cluster.url(), size: 2)
        let before = try pool.query("SELECT pg_backend_pid()")[0].require(0, as: Int.self)

        try cluster.restart()

        let after = try pool.query("SELECT pg_backend_pid()")[0].require(0, as: Int.self)
        #expect(after != before, "a new backend answered")
        #expect(try pool.query("SELECT 1")[0].require(0, as: Int.self) == 1)
    }

    @Test func aSecondStartReusesTheCluster() throws {
        let folder = URL(fileURLWithPath: "/tmp/purser-reuse-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cluster = try LocalCluster(preferred: folder, port: 55998)
        try cluster.start()
        try Connection(url: cluster.url()).execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)")
        try cluster.stop()
        #expect(!cluster.isRunning)
        try cluster.start()
        defer { try? cluster.stop() }
        #expect(try Connection(url: cluster.url()).query("SELECT x FROM kept")[0].require(0, as: Int.self) == 1)
    }
}
