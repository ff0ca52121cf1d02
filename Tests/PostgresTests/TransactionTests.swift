import Foundation
import Postgres
import PostgresTesting
import Testing

struct Abort: Error {}

@Suite struct TransactionTests {
    let database: TestDatabase
    let pool: ConnectionPool

    init() throws {
        database = try TestDatabase(migrated: false)
        pool = ConnectionPool(url: database.url, size: 4)
        try pool.query("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))")
        try pool.query("INSERT INTO accounts VALUES (1, 100), (2, 0)")
    }

    @Test func aThrowRollsBackEverything() throws {
        #expect(throws: Abort.self) {
            try pool.transaction { tx in
                try tx.query("UPDATE accounts SET balance = balance - 50 WHERE id = 1")
                try tx.query("UPDATE accounts SET balance = balance + 50 WHERE id = 2")
                throw Abort()
            }
        }
        let balances = try pool.query("SELECT balance FROM accounts ORDER BY id").map { try $0.require(0, as: Int.self) }
        #expect(balances == [100, 0])
    }

    @Test func aReturnCommits() throws {
        try pool.transaction { tx in
            try tx.query("UPDATE accounts SET balance = balance - 30 WHERE id = 1")
            try tx.query("UPDATE accounts SET balance = balance + 30 WHERE id = 2")
        }
        let balances = try pool.query("SELECT balance FROM accounts ORDER BY id").map { try $0.require(0, as: Int.self) }
        #expect(balances == [70, 30])
    }

    @Test func constraintViolationsCarryTheirSQLState() throws {
        let unique = #expect(throws: PostgresError.self) { try pool.query("INSERT INTO accounts VALUES (1, 5)") }
        #expect(unique?.isUniqueViolation == true)
        #expect(unique?.constraint == "accounts_pkey")
        let check = #expect(throws: PostgresError.self) { try pool.query("UPDATE accounts SET balance = -1 WHERE id = 2") }
        #expect(check?.isCheckViolation == true)
        // The connection that saw the error is still good.
        #expect(try pool.query("SELECT 1")[0].require(0, as: Int.self) == 1)
    }

    @Test func serializationFailuresAreRetried() throws {
        // Two serializable transactions that each read both rows and write one: one of them must
        // fail with 40001 and run again, and both end up committed.
        let attempts = Counter()
        let barrier = DispatchGroup()
        let errors = Counter()
        for target in [1, 2] {
            barrier.enter()
            Thread.detachNewThread {
                defer { barrier.leave() }
                do {
                    try pool.transaction(isolation: .serializable, attempts: 5) { tx in
                        attempts.add()
                        let total = try tx.query("SELECT sum(balance) FROM accounts")[0].require(0, as: Int.self)
                        Thread.sleep(forTimeInterval: 0.2)
                        try tx.query("UPDATE accounts SET balance = $1 WHERE id = $2", [total, target])
                    }
                } catch {
                    errors.add()
                }
            }
        }
        #expect(barrier.wait(timeout: .now() + 20) == .success)
        #expect(errors.value == 0)
        #expect(attempts.value >= 3, "one transaction ran again after a serialization failure")
    }

    @Test func setLocalLastsOneTransaction() throws {
        let inside = try pool.transaction { tx in
            try tx.setLocal("purser.tenant_id", "acme")
            return try tx.query("SELECT current_setting('purser.tenant_id', true)")[0].require(0, as: String.self)
        }
        #expect(inside == "acme")
        let after = try pool.withConnection { connection in
            try connection.query("SELECT coalesce(current_setting('purser.tenant_id', true), '')")[0].require(0, as: String.self)
        }
        #expect(after == "")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
