// The rows of one result, read in place from libpq's buffer and freed with it.
import CPostgres

public final class Rows: @unchecked Sendable, RandomAccessCollection {
    let result: OpaquePointer
    public let count: Int
    private let names: [String]

    init(result: OpaquePointer) {
        self.result = result
        self.count = Int(PQntuples(result))
        self.names = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
    }

    deinit { PQclear(result) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> Row { Row(rows: self, index: Int32(position)) }

    /// Rows changed by an INSERT/UPDATE/DELETE.
    public var affected: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    func column(named name: String) -> Int32? {
        names.firstIndex(of: name).map(Int32.init)
    }
}

/// One row: columns by position or by name, decoded to the type asked for.
public struct Row: Sendable {
    @usableFromInline let rows: Rows
    @usableFromInline let index: Int32

    /// The text at `column`, or nil for SQL NULL.
    @usableFromInline
    func text(_ column: Int) throws -> String? {
        let result = rows.result
        let position = Int32(column)
        guard position >= 0, position < PQnfields(result) else {
            throw PostgresError(kind: .decoding, message: "no column \(column) in the result")
        }
        if PQgetisnull(result, index, position) == 1 { return nil }
        return String(cString: PQgetvalue(result, index, position))
    }

    @usableFromInline
    static func notA(_ type: String, column: Int, text: String?) -> PostgresError {
        PostgresError(
            kind: .decoding,
            message: text.map { "column \(column) holds '\($0.prefix(64))', not a \(type)" }
                ?? "column \(column) is NULL, expected a \(type)")
    }

    // Inlinable so that callers get a copy specialised to the type they read: decoding every
    // column of every row through the generic entry point cost a tenth of a list's CPU.

    /// The value at `column`, or nil for SQL NULL; throws when the text is not a `T`.
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T? {
        guard let text = try text(column) else { return nil }
        guard let value = T(postgresText: text) else { throw Self.notA("\(T.self)", column: column, text: text) }
        return value
    }

    /// The value at `column`, which must not be NULL.
    @inlinable
    public func require<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard let value = try decode(column, as: T.self) else { throw Self.notA("\(T.self)", column: column, text: nil) }
        return value
    }

    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let column = rows.column(named: name) else {
            throw PostgresError(kind: .decoding, message: "no column '\(name)' in the result")
        }
        return try decode(Int(column), as: T.self)
    }

    public func require<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decode(name, as: T.self) else {
            throw PostgresError(kind: .decoding, message: "column '\(name)' is NULL, expected a \(T.self)")
        }
        return value
    }

    /// The raw bytes of `column` (text format), or nil for NULL: for writing straight into a response.
    public func withRawBytes<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        let result = rows.result
        if PQgetisnull(result, index, Int32(column)) == 1 { return body(nil) }
        let length = Int(PQgetlength(result, index, Int32(column)))
        return PQgetvalue(result, index, Int32(column)).withMemoryRebound(to: UInt8.self, capacity: length) {
            body(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
