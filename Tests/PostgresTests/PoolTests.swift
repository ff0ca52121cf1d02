import Foundation
import Postgres
import PostgresTesting
import Testing

@Suite struct PoolTests {
    @Test func thePoolNeverOpensMoreThanItsSize() throws {
        let database = try TestDatabase(migrated: false)
        let pool = ConnectionPool(url: database.url, size: 2, checkoutTimeout: .seconds(10))
        let group = DispatchGroup()
        for _ in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                _ = try? pool.query("SELECT pg_sleep(0.1)")
                group.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.05)
        let busy = pool.statistics
        #expect(busy.inUse <= 2)
        #expect(group.wait(timeout: .now() + 10) == .success)
        let backends = try pool.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")[0]
            .require(0, as: Int.self)
        #expect(backends <= 2)
        #expect(pool.statistics.idle == 2)
    }

    @Test func aCallerWaitsOnlyUntilTheCheckoutTimeout() throws {
        let database = try TestDatabase(migrated: false)
        let pool = ConnectionPool(url: database.url, size: 1, checkoutTimeout: .milliseconds(200))
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? pool.withConnection { _ in
                holding.signal()
                release.wait()
            }
        }
        holding.wait()
        let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
        #expect(error?.kind == .poolTimeout)
        release.signal()
    }

    @Test func listenersReceiveNotificationsAfterCommit() throws {
        let database = try TestDatabase(migrated: false)
        let listener = try Listener(url: database.url, channels: ["jobs"])
        let pool = ConnectionPool(url: database.url, size: 1)
        try pool.transaction { tx in
            try tx.notify("jobs", payload: "42")
            try tx.notify("other", payload: "ignored")
        }
        let received = try listener.wait(timeout: .seconds(5))
        #expect(received == [Notification(channel: "jobs", payload: "42")])
        #expect(try listener.wait(timeout: .milliseconds(100)).isEmpty)
    }

    @Test func copyLoadsRowsWithAwkwardCharacters() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try connection.execute("CREATE TABLE usage (id int, note text)")
        let rows: [[String?]] = (1...1000).map { ["\($0)", $0 % 100 == 0 ? nil : "tab\there\nnewline \\ back"] }
        let copied = try connection.copyIn("COPY usage (id, note) FROM STDIN", rows: rows)
        #expect(copied == 1000)
        let note = try connection.query("SELECT note FROM usage WHERE id = 1")[0].require(0, as: String.self)
        #expect(note == "tab\there\nnewline \\ back")
        #expect(try connection.query("SELECT count(*) FROM usage WHERE note IS NULL")[0].require(0, as: Int.self) == 10)
    }
}
