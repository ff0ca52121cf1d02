// How the connections of a pool meet the server. Directly (or through a pooler in session mode) a
// connection is one server session for its whole life; through PgBouncer in transaction mode each
// transaction may run on another server session, so nothing set on a session outlives a transaction:
// named prepared statements, `SET ROLE`, session settings, LISTEN and session advisory locks.

public enum PoolMode: String, Sendable, CaseIterable {
    /// One server session per connection: statements are prepared once by name, and the role and
    /// settings are set once when the connection opens.
    case session
    /// A pooler may switch server sessions between transactions: statements go as the unnamed
    /// statement (`PQexecParams`), and the role and settings are sent with every BEGIN, for that
    /// transaction only. The pool runs all work in transactions (`ConnectionPool.withConnection`).
    case transaction
}
