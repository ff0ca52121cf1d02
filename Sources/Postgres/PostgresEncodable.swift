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
extension UUID: PostgresEncodable {
    /// Lowercase canonical text, written directly (uuidString goes through sprintf and then needs lowercasing).
    public var postgresText: String {
        let digits = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var at = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    out[at] = digits[Int(byte >> 4)]
                    out[at + 1] = digits[Int(byte & 0xF)]
                    at += 2
                }
                return at
            }
        }
    }
}
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

/// An array whose elements may be NULL (`{"a",NULL}`), for unnest() over optional columns.
public struct NullableArray<Element: PostgresEncodable>: PostgresEncodable {
    public let elements: [Element?]
    public init(_ elements: [Element?]) { self.elements = elements }

    public var postgresText: String {
        "{"
            + elements.map { element in
                guard let element else { return "NULL" }
                let text = [element].postgresText
                return String(text.dropFirst().dropLast())
            }.joined(separator: ",") + "}"
    }
}

/// A `bytea` value; sent and read in PostgreSQL's hex form (`\x0a1b…`).
public struct Bytea: PostgresEncodable, PostgresDecodable, Equatable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var postgresText: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 2 + bytes.count * 2)
        text[0] = UInt8(ascii: "\\")
        text[1] = UInt8(ascii: "x")
        for (index, byte) in bytes.enumerated() {
            text[2 + index * 2] = digits[Int(byte >> 4)]
            text[3 + index * 2] = digits[Int(byte & 0xF)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    public init?(postgresText: String) {
        let utf8 = Array(postgresText.utf8)
        guard utf8.count >= 2, utf8.count % 2 == 0, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else { return nil }
        let nibble = Hex.nibble
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }
}

/// Hexadecimal digits, as bytea and uuid texts spell them.
enum Hex {
    /// The value of one hex digit (either case), or nil.
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
