// A bounded pool of connections shared by every thread of a node. Blocking by design: callers
// are worker threads of our own, never Swift's cooperative pool or libmicrohttpd's I/O threads.
import Foundation

public final class ConnectionPool: @unchecked Sendable {
    public let url: String
    public let size: Int
    /// How long a caller waits for a free connection before `PostgresError.poolTimeout`.
    public let checkoutTimeout: Duration
    /// Session: role and settings set once per connection. Transaction (behind PgBouncer in that
    /// mode): sent with every BEGIN, and every piece of work runs in a transaction.
    public let mode: PoolMode
    /// What the pool's work runs as: `SET ROLE` and session settings once per new connection, or
    /// `SET LOCAL ROLE` and `set_config(…, true)` with every BEGIN (see `mode`). Empty: the login role.
    private let sessionSetup: String
    private let transactionPrologue: String
    /// Run on every new connection, before it is first handed out (what it sets on the session does
    /// not outlive a transaction in transaction mode).
    private let setup: (@Sendable (Connection) throws -> Void)?
    /// Told what a lent connection's work notified (see LocalNotifications), once the connection is
    /// back: after its transactions committed, before the borrower goes on; with the channels on
    /// which some were too many to keep.
    private let localNotifications: (@Sendable ([Notification], Set<String>) -> Void)?

    private let condition = NSCondition()
    private var idle: [Connection] = []
    private var open = 0
    private var waiting = 0
    private var closed = false

    public init(
        url: String, size: Int = 10, checkoutTimeout: Duration = .seconds(5), mode: PoolMode = .session,
        role: String? = nil, settings: [(name: String, value: String)] = [],
        setup: (@Sendable (Connection) throws -> Void)? = nil,
        localNotifications: (@Sendable ([Notification], Set<String>) -> Void)? = nil
    ) {
        self.url = url
        self.size = max(1, size)
        self.checkoutTimeout = checkoutTimeout
        self.mode = mode
        sessionSetup = Self.statements(role: role, settings: settings, local: false)
        let prologue = Self.statements(role: role, settings: settings, local: true)
        transactionPrologue = prologue.isEmpty ? "" : "; " + prologue
        self.setup = setup
        self.localNotifications = localNotifications
    }

    /// `SET [LOCAL] ROLE` and one SELECT of `set_config`s, for the session or the transaction.
    private static func statements(role: String?, settings: [(name: String, value: String)], local: Bool) -> String {
        var parts = role.map { [(local ? "SET LOCAL ROLE " : "SET ROLE ") + Connection.identifier($0)] } ?? []
        if !settings.isEmpty {
            parts.append(
                "SELECT "
                    + settings.map { "set_config(\(Connection.literal($0.name)), \(Connection.literal($0.value)), \(local))" }
                    .joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    public struct Statistics: Sendable {
        public let inUse: Int
        public let idle: Int
        public let waiting: Int
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return Statistics(inUse: open - idle.count, idle: idle.count, waiting: waiting)
    }

    /// Lends a connection to `body`. In transaction mode `body` runs in a transaction that carries
    /// the role and settings: through a pooler in that mode a statement outside a transaction runs on
    /// whichever server session is free, as the login role (row-level security would not apply).
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try lend { connection in mode == .transaction ? try connection.transaction(body) : try body(connection) }
    }

    /// Lends a connection to `body` as it is. When the connection turns out to have died while idle
    /// (the server restarted), the work runs again once on a fresh connection: nothing had reached the server.
    func lend<T>(_ body: (Connection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            let connection = try checkout()
            do {
                let value = try body(connection)
                giveBack(connection)
                return value
            } catch let error as PostgresError where error.isConnectionLoss || !connection.isHealthy {
                let diedIdle = connection.statementsSinceCheckout <= 1
                giveBack(connection, broken: true)
                dropIdle()
                if diedIdle && attempt == 1 { continue }
                throw error
            } catch {
                giveBack(connection)
                throw error
            }
        }
    }

    /// Returns a lent connection, then tells `localNotifications` what its work notified (taken
    /// first, even with nobody to tell: once back, the connection is someone else's).
    private func giveBack(_ connection: Connection, broken: Bool = false) {
        let (notifications, overflowed) = connection.localNotifications.take()
        if broken { discard(connection) } else { checkin(connection) }
        guard let localNotifications, !notifications.isEmpty || !overflowed.isEmpty else { return }
        localNotifications(notifications, overflowed)
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Rows {
        try withConnection { try $0.query(sql, parameters) }
    }

    /// Closes idle connections and refuses new checkouts; connections in use close when returned.
    public func close() {
        dropIdle(closing: true)
    }

    private func checkout() throws -> Connection {
        let deadline = Date().addingTimeInterval(
            Double(checkoutTimeout.components.seconds)
                + Double(checkoutTimeout.components.attoseconds) / 1e18)
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw PostgresError(kind: .closed, message: "the connection pool is closed")
            }
            if let connection = idle.popLast() {
                condition.unlock()
                if connection.isHealthy {
                    connection.statementsSinceCheckout = 0
                    return connection
                }
                condition.lock()
                open -= 1
                continue
            }
            if open < size {
                open += 1
                condition.unlock()
                do {
                    let connection = try Connection(url: url, mode: mode)
                    switch mode {
                    case .session: if !sessionSetup.isEmpty { try connection.execute(sessionSetup) }
                    case .transaction: connection.prologue += transactionPrologue
                    }
                    try setup?(connection)
                    connection.statementsSinceCheckout = 0
                    return connection
                } catch {
                    condition.lock()
                    open -= 1
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            waiting += 1
            let signalled = condition.wait(until: deadline)
            waiting -= 1
            if !signalled && idle.isEmpty && open >= size {
                condition.unlock()
                throw PostgresError(
                    kind: .poolTimeout,
                    message: "no database connection became free within \(checkoutTimeout)")
            }
        }
    }

    /// Closes the idle connections once one was lost: they reach the same server, gone or demoted
    /// by a failover, and would each fail one more piece of work. New ones find the new primary.
    private func dropIdle(closing: Bool = false) {
        condition.lock()
        if closing { closed = true }
        let dropped = idle
        idle.removeAll()
        open -= dropped.count
        condition.broadcast()
        condition.unlock()
        _ = dropped
    }

    private func checkin(_ connection: Connection) {
        condition.lock()
        if closed || !connection.isHealthy {
            open -= 1
        } else {
            idle.append(connection)
        }
        condition.signal()
        condition.unlock()
    }

    private func discard(_ connection: Connection) {
        condition.lock()
        open -= 1
        condition.signal()
        condition.unlock()
    }
}
