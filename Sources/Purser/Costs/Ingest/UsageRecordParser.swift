// A bounded parser for the flat JSON objects a usage event is: string, number, boolean and null
// values only, at most `maxFields` fields of at most `maxValueBytes` each. One pass over the bytes,
// no recursion and no backtracking, so its time is linear in the input whatever the input is; a
// number is kept as its text, so token counts and GPU-seconds stay exact.
import Foundation

/// A field's value as sent. `text` is a CSV cell: untyped, read as a string or a number by the field.
enum UsageValue: Equatable, Sendable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case text(String)
}

/// One event as fields, before the rules read it.
typealias UsageRecord = [(name: String, value: UsageValue)]

/// Why a line or element could not be read; `message` names the problem without echoing the input.
struct UsageParseError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

enum UsageRecordParser {
    static let maxFields = 32
    static let maxKeyBytes = 64
    static let maxValueBytes = 1024

    /// Parses the object starting at `index` (after whitespace) and leaves `index` after it.
    static func object(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int) throws(UsageParseError) -> UsageRecord {
        skipSpace(bytes, &index, end: end)
        guard index < end, bytes[index] == UInt8(ascii: "{") else { throw UsageParseError("expected a JSON object") }
        index += 1
        var record: UsageRecord = []
        skipSpace(bytes, &index, end: end)
        if index < end, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return record
        }
        while true {
            skipSpace(bytes, &index, end: end)
            guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw UsageParseError("expected a field name in quotes") }
            let name = try string(bytes, &index, end: end, limit: maxKeyBytes, what: "a field name")
            if record.contains(where: { $0.name == name }) { throw UsageParseError("field '\(name)' appears twice") }
            guard record.count < maxFields else { throw UsageParseError("more than \(maxFields) fields") }
            skipSpace(bytes, &index, end: end)
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw UsageParseError("expected ':' after '\(name)'") }
            index += 1
            skipSpace(bytes, &index, end: end)
            guard index < end else { throw UsageParseError("'\(name)' has no value") }
            let value: UsageValue
            switch bytes[index] {
            case UInt8(ascii: "\""): value = .string(try string(bytes, &index, end: end, limit: maxValueBytes, what: "'\(name)'"))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = .number(try number(bytes, &index, end: end, name: name))
            case UInt8(ascii: "t"): try literal("true", bytes, &index, end: end, name: name); value = .bool(true)
            case UInt8(ascii: "f"): try literal("false", bytes, &index, end: end, name: name); value = .bool(false)
            case UInt8(ascii: "n"): try literal("null", bytes, &index, end: end, name: name); value = .null
            case UInt8(ascii: "{"), UInt8(ascii: "["): throw UsageParseError("'\(name)' is an object or array; events are flat")
            default: throw UsageParseError("'\(name)' has a value that is not JSON")
            }
            record.append((name, value))
            skipSpace(bytes, &index, end: end)
            guard index < end else { throw UsageParseError("the object is not closed") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw UsageParseError("expected ',' or '}' after '\(name)'") }
            index += 1
            return record
        }
    }

    static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int) {
        while index < end, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 { index += 1 }
    }

    private static func literal(
        _ word: StaticString, _ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int, name: String
    ) throws(UsageParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= end else { throw UsageParseError("'\(name)' has a value that is not JSON") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw UsageParseError("'\(name)' has a value that is not JSON")
        }
        index += count
    }

    /// A JSON number's text (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`), at most 40 bytes.
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int, name: String) throws(UsageParseError)
        -> String
    {
        let start = index
        func digits() -> Int {
            let first = index
            while index < end, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let whole = index
        guard digits() > 0, !(bytes[whole] == 48 && index - whole > 1) else { throw UsageParseError("'\(name)' is not a valid number") }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw UsageParseError("'\(name)' is not a valid number") }
        }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw UsageParseError("'\(name)' is not a valid number") }
        }
        guard index - start <= 40 else { throw UsageParseError("'\(name)' is longer than 40 digits") }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// A JSON string (escapes decoded), of at most `limit` bytes once decoded. NUL and invalid UTF-8
    /// are refused: PostgreSQL text can hold neither.
    static func string(
        _ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int, limit: Int, what: String
    ) throws(UsageParseError) -> String {
        index += 1  // the opening quote
        // Most strings hold no escape and no control character: made from the bytes in place. Any
        // other string is read again from its start below, byte by byte, with the same checks.
        var scan = index
        var ascii = true
        while scan < end {
            let byte = bytes[scan]
            if byte == UInt8(ascii: "\"") {
                guard scan - index <= limit else { break }
                let raw = UnsafeBufferPointer(rebasing: bytes[index..<scan])
                // ASCII is valid UTF-8 as it stands: String(validating:) is not specialised and
                // looked up its generic metadata for every value (a tenth of Purser's CPU on a batch).
                guard let text = ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self) else {
                    throw UsageParseError("\(what) is not valid UTF-8")
                }
                index = scan + 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte >= 0x80 { ascii = false }
            scan += 1
        }
        var out = [UInt8]()
        while true {
            guard index < end else { throw UsageParseError("\(what) is not closed with a quote") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw UsageParseError("\(what) holds a control character") }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
            } else {
                guard index < end else { throw UsageParseError("\(what) ends inside an escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(bytes, &index, end: end, what: what)
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < end, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw UsageParseError("\(what) holds a lone surrogate")
                        }
                        index += 2
                        let low = try hex4(bytes, &index, end: end, what: what)
                        guard (0xDC00...0xDFFF).contains(low) else { throw UsageParseError("\(what) holds a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard scalar != 0, let unicode = Unicode.Scalar(scalar) else {
                        throw UsageParseError("\(what) holds NUL or a lone surrogate")
                    }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw UsageParseError("\(what) holds an unknown escape")
                }
            }
            if out.count > limit { throw UsageParseError("\(what) is longer than \(limit) bytes") }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw UsageParseError("\(what) is not valid UTF-8") }
        return text
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int, what: String) throws(UsageParseError)
        -> UInt32
    {
        guard index + 4 <= end else { throw UsageParseError("\(what) ends inside an escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw UsageParseError("\(what) holds a bad \\u escape")
            }
            value = value * 16 + digit
        }
        return value
    }
}
