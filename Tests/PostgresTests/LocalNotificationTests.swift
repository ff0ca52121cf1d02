import Foundation
import Postgres
import PostgresTesting
import Testing

/// What a lent connection's work notified — by `notify`, or by a trigger's NOTICE with SQLSTATE
/// PN001 — reaches the pool's receiver when the connection comes back, committed work only.
final class Heard: @unchecked Sendable {
    private let lock = NSLock()
    private var notifications: [Postgres.Notification] = []
    func withLock<T>(_ body: (inout [Postgres.Notification]) -> T) -> T { lock.withLock { body(&notifications) } }
}

@Suite struct LocalNotificationTests {
    let database: TestDatabase
    let pool: ConnectionPool
    let heard = Heard()

    init() throws {
        database = try TestDatabase(migrated: false)
        let heard = heard
        pool = ConnectionPool(
            url: database.url, size: 2,
            localNotifications: { notifications, _ in
                heard.withLock { $0 += notifications }
            })
        try pool.query("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL)")
        try pool.query("INSERT INTO people VALUES (1, 'Ada'), (2, 'Grace')")
        try pool.withConnection {
            try $0.execute(
                """
                CREATE FUNCTION person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE NOTICE USING ERRCODE = 'PN001', MESSAGE = 'people', DETAIL = NEW.id::text;
                    RAISE NOTICE 'an ordinary notice, not for us';
                    RETURN NULL;
                END $$;
                CREATE TRIGGER person_changed AFTER UPDATE ON people FOR EACH ROW EXECUTE FUNCTION person_changed();
                """)
        }
        heard.withLock { $0.removeAll() }
    }

    @Test func committedWorkIsHeardWhenTheConnectionComesBack() throws {
        try pool.transaction { tx in
            try tx.query("UPDATE people SET name = upper(name)")
            try tx.notify("tokens", payload: "abc")
            #expect(heard.withLock { $0 }.isEmpty, "nothing before the commit")
        }
        #expect(
            Set(heard.withLock { $0 }) == [
                Postgres.Notification(channel: "people", payload: "1"), Postgres.Notification(channel: "people", payload: "2"),
                Postgres.Notification(channel: "tokens", payload: "abc"),
            ])
        // A statement outside a transaction counts as committed.
        heard.withLock { $0.removeAll() }
        try pool.query("UPDATE people SET name = 'Ada' WHERE id = 1")
        #expect(heard.withLock { $0 } == [Postgres.Notification(channel: "people", payload: "1")])
        // Repeats within one borrowing are told once, as NOTIFY sends them.
        heard.withLock { $0.removeAll() }
        try pool.transaction { tx in
            for _ in 0..<3 { try tx.query("UPDATE people SET name = 'Ada' WHERE id = 1") }
        }
        #expect(heard.withLock { $0 } == [Postgres.Notification(channel: "people", payload: "1")])
    }

    @Test func rolledBackWorkTellsNobody() throws {
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try pool.transaction { tx in
                try tx.query("UPDATE people SET name = 'x'")
                try tx.notify("tokens", payload: "abc")
                throw Abandon()
            }
        }
        #expect(heard.withLock { $0 }.isEmpty)
        // The connection carries nothing over to its next borrower.
        try pool.query("SELECT 1")
        #expect(heard.withLock { $0 }.isEmpty)
    }
}
