// Errors from PostgreSQL, carrying SQLSTATE so callers can tell a conflict from a bug.

public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server answered with an error; `sqlState` says which.
        case server
        /// The connection could not be made or was lost.
        case connection
        /// No connection became free in time.
        case poolTimeout
        /// A value in a row could not be read as the type asked for.
        case decoding
        /// The pool is closed.
        case closed
    }

    public let kind: Kind
    /// Five-character SQLSTATE (`23505`), when the server sent one.
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let constraint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isCheckViolation: Bool { sqlState == "23514" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    public var isNotNullViolation: Bool { sqlState == "23502" }
    /// Worth running the whole transaction again: serialization failure or deadlock.
    public var isTransient: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The connection is gone (SQLSTATE class 08, or libpq lost the socket), the server is shutting
    /// down (57P01–57P03), or it is no longer a primary: a standby, or a primary demoted by failover,
    /// refuses writes with 25006. Either way the pool drops the connection and the next one is made
    /// afresh, through a multi-host URL with target_session_attrs=read-write to the new primary.
    public var isConnectionLoss: Bool {
        kind == .connection || (sqlState?.hasPrefix("08") ?? false) || ["57P01", "57P02", "57P03", "25006"].contains(sqlState)
    }

    public var description: String {
        var text = "PostgreSQL"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }
}
