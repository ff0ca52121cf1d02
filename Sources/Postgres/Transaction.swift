// Transactions as closures: commit on return, roll back on throw, run again on serialization
// failure or deadlock (the closure must therefore only touch the database and its own values).
import Foundation

public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension ConnectionPool {
    /// Runs `body` in one transaction; retries it up to `attempts` times when PostgreSQL reports a
    /// serialization failure (40001) or deadlock (40P01), with a short randomised pause between tries.
    @discardableResult
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted, attempts: Int = 3,
        settings: [(name: String, value: String)] = [],
        _ body: (Connection) throws -> T
    ) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try lend { connection in try connection.transaction(isolation: isolation, settings: settings, body) }
            } catch let error as PostgresError where error.isTransient && attempt < attempts {
                Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.02) * Double(attempt))
            }
        }
    }
}

extension Connection {
    /// One transaction on this connection; no retry (the pool's `transaction` retries).
    /// `settings` are set for the transaction only (`set_config(name, value, true)`), sent with
    /// BEGIN in one round trip, after the connection's prologue (so a `role` setting wins over the pool's).
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted, settings: [(name: String, value: String)] = [],
        _ body: (Connection) throws -> T
    ) throws -> T {
        var begin = isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
        begin += prologue
        for setting in settings {
            begin += "; SELECT set_config(\(Self.literal(setting.name)), \(Self.literal(setting.value)), true)"
        }
        let notifiedBefore = localNotifications.pending.count
        try execute(begin)
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            localNotifications.truncate(to: notifiedBefore)
            if isHealthy { try? execute("ROLLBACK") }
            throw error
        }
    }
}

extension Connection {
    /// A string literal for SQL text: single quotes doubled (standard_conforming_strings is on,
    /// PostgreSQL's default since 9.1, so backslashes are plain characters). NUL cannot be sent.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\0", with: "").replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A quoted identifier (a role name chosen by the program).
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\0", with: "").replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
