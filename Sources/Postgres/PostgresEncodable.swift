// Values sent as statement parameters, in PostgreSQL's text format.
import Foundation

/// A value that can be bound to `$n`. Parameters are always bound, never spliced into SQL.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresEncodable { public var postgresText: String { self } }
extension Substring: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int64: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int32: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int16: PostgresEncodable { public var postgresText: String { String(self) } }
extension Double: PostgresEncodable { public var postgresText: String { String(self) } }
extension Bool: PostgresEncodable { public var postgresText: String { self ? "t" : "f" } }
extension UUID: PostgresEncodable { public var postgresText: String { uuidString.lowercased() } }
extension Date: PostgresEncodable { public var postgresText: String { Timestamp.format(self) } }

/// A JSON document for a `json`/`jsonb` parameter or column, kept as its text.
public struct JSONText: PostgresEncodable, PostgresDecodable, Equatable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public init<T: Encodable>(encoding value: T) throws {
        text = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
    public var postgresText: String { text }
    public init(postgresText: String) { text = postgresText }
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// A `numeric` value as exact decimal text (`"12.3400"`): money and rates never pass through a binary float.
public struct NumericText: PostgresEncodable, PostgresDecodable, Equatable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var postgresText: String { text }
    public init(postgresText: String) { text = postgresText }
    public var description: String { text }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// An array literal (`{"a","b\"c"}`) with every element quoted and escaped.
    public var postgresText: String {
        var out = "{"
        for (index, element) in enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for character in element.postgresText {
                if character == "\"" || character == "\\" { out += "\\" }
                out.append(character)
            }
            out += "\""
        }
        return out + "}"
    }
}
