// One libpq connection. Used by one thread at a time (the pool hands it out); statements are
// prepared once per connection and reused by their SQL text — in session mode. In transaction mode
// (PoolMode) nothing is kept on the server session: every statement is the unnamed one.
import CPostgres
import Foundation

public final class Connection: @unchecked Sendable {
    let handle: OpaquePointer
    public let mode: PoolMode
    /// Sent after every BEGIN (one round trip): in transaction mode the session's settings for that
    /// transaction only, then the pool's role and settings (`ConnectionPool`).
    var prologue: String
    private var prepared: [String: String] = [:]
    /// Statements run since the pool handed this connection out; a loss on the first means
    /// it died while idle, so the work can safely go to a new connection.
    var statementsSinceCheckout = 0
    /// What this connection's work notified, for the node that did it (see LocalNotifications).
    let localNotifications = LocalNotifications()

    /// Connects with a libpq URI or conninfo string; the session (in transaction mode each
    /// transaction) runs in UTC with ISO dates.
    public init(url: String, mode: PoolMode = .session) throws {
        guard let handle = PQconnectdb(url) else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        self.handle = handle
        self.mode = mode
        prologue = mode == .transaction ? Self.transactionSettings : ""
        guard PQstatus(handle) == CONNECTION_OK else {
            // deinit runs PQfinish: every stored property is set, so a throw here still deinitialises.
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresError(kind: .connection, message: message)
        }
        // The box is a stored property: it lives until deinit has finished the handle.
        localNotifications.receive(on: handle)
        if mode == .session { try execute(Self.sessionSettings) }
    }

    static let sessionSettings =
        "SET TIME ZONE 'UTC'; SET datestyle TO 'ISO, YMD'; SET intervalstyle TO 'iso_8601'; SET standard_conforming_strings TO on"
    /// PgBouncer 1.18 carries TimeZone and DateStyle between server sessions, but not IntervalStyle:
    /// all four go with every transaction.
    static let transactionSettings =
        "; SET LOCAL TIME ZONE 'UTC'; SET LOCAL datestyle TO 'ISO, YMD'; SET LOCAL intervalstyle TO 'iso_8601'"
        + "; SET LOCAL standard_conforming_strings TO on"

    deinit { PQfinish(handle) }

    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs `sql` with `$1…` bound to `parameters`, through a statement prepared on first use; in
    /// transaction mode as the unnamed statement, the only one a pooler in that mode carries.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Rows {
        if mode == .transaction { return try queryOnce(sql, parameters) }
        statementsSinceCheckout += 1
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "s\(prepared.count + 1)"
            let result = PQprepare(handle, name, sql, Int32(parameters.count), nil)
            try check(result, expecting: PGRES_COMMAND_OK).map { _ in () }
            prepared[sql] = name
        }
        let result = withParameters(parameters) { values in
            PQexecPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try check(result)!
    }

    /// Runs `sql` with parameters but without preparing it: for statements run once (DDL, one-off admin).
    @discardableResult
    public func queryOnce(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Rows {
        statementsSinceCheckout += 1
        let result = withParameters(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try check(result)!
    }

    /// Runs one or more statements with no parameters (migrations, session settings).
    public func execute(_ sql: String) throws {
        statementsSinceCheckout += 1
        _ = try check(PQexec(handle, sql))
    }

    /// Sets a configuration value for the current transaction only (`set_config(name, value, true)`).
    public func setLocal(_ name: String, _ value: String) throws {
        try query("SELECT set_config($1, $2, true)", [name, value])
    }

    /// Sends `NOTIFY channel, payload` (delivered when the transaction commits).
    public func notify(_ channel: String, payload: String = "") throws {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
        localNotifications.append(Notification(channel: channel, payload: payload))
    }

    /// Loads rows with `COPY … FROM STDIN` (text format); returns the number of rows copied.
    /// `sql` is the COPY statement; nil values are NULL.
    @discardableResult
    public func copyIn(_ sql: String, rows: some Sequence<[String?]>) throws -> Int {
        statementsSinceCheckout += 1
        let start = PQexec(handle, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start)
            throw PostgresError(kind: .server, message: "\(sql.prefix(40)) did not start a COPY FROM STDIN")
        }
        PQclear(start)
        var buffer = [UInt8]()
        buffer.reserveCapacity(64 * 1024)
        func flush() throws {
            guard !buffer.isEmpty else { return }
            let sent = buffer.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else { throw connectionError() }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.append(9) }
                if let value { CopyText.append(value, to: &buffer) } else { buffer.append(contentsOf: [92, 78]) }
            }
            buffer.append(10)
            if buffer.count >= 60 * 1024 { try flush() }
        }
        try flush()
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError() }
        var copied = 0
        while let result = PQgetResult(handle) {
            let rows = try check(result)
            copied = rows?.affected ?? copied
        }
        return copied
    }

    /// Raises the error a result carries, or wraps the result as rows.
    @discardableResult
    func check(_ result: OpaquePointer?, expecting: ExecStatusType? = nil) throws -> Rows? {
        guard let result else { throw connectionError() }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_SINGLE_TUPLE:
            return Rows(result: result)
        case PGRES_EMPTY_QUERY:
            PQclear(result)
            return nil
        default:
            defer { PQclear(result) }
            func field(_ code: Character) -> String? {
                PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
            }
            let sqlState = field("C")
            let message = field("M") ?? String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            let kind: PostgresError.Kind = isHealthy && sqlState != nil ? .server : .connection
            throw PostgresError(kind: kind, sqlState: sqlState, message: message, detail: field("D"), constraint: field("n"))
        }
    }

    func connectionError() -> PostgresError {
        PostgresError(
            kind: .connection,
            message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func withParameters<R>(
        _ parameters: [(any PostgresEncodable)?],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        if parameters.isEmpty { return body(nil) }
        // One buffer holds every value, NUL-terminated, so the pointers stay valid for the call.
        var storage = [CChar]()
        var offsets: [Int?] = []
        offsets.reserveCapacity(parameters.count)
        for parameter in parameters {
            if let parameter {
                offsets.append(storage.count)
                storage.append(contentsOf: parameter.postgresText.utf8CString)
            } else {
                offsets.append(nil)
            }
        }
        return storage.withUnsafeBufferPointer { base in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { $0.map { base.baseAddress! + $0 } }
            return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}

enum CopyText {
    /// Escapes a value for COPY's text format: backslash, tab, newline and carriage return.
    static func append(_ value: String, to buffer: inout [UInt8]) {
        // Nearly every value needs no escape: copied whole rather than byte by byte.
        let copied = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) else { return false }
            buffer.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
        for byte in value.utf8 {
            switch byte {
            case 92: buffer.append(contentsOf: [92, 92])
            case 9: buffer.append(contentsOf: [92, 116])
            case 10: buffer.append(contentsOf: [92, 110])
            case 13: buffer.append(contentsOf: [92, 114])
            default: buffer.append(byte)
            }
        }
    }
}
