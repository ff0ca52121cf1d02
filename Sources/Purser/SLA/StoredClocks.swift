// Reading a request's clocks as PostgreSQL prints the stored JSON, without Foundation's
// JSONDecoder: lists decode twenty to fifty of these per page, and the general decoder spent more
// time on them than everything else in the request (half of the CPU of GET /api/v1/requests).
// The shape is the one RequestClock encodes: an object of clocks, each an object of numbers,
// booleans and short strings. Anything else is left to JSONDecoder.
import Foundation

enum StoredClocks {
    static func decode(_ text: String) throws -> RequestClocks {
        if let clocks = parse(Array(text.utf8)) { return clocks }
        return try JSONDecoder().decode(RequestClocks.self, from: Data(text.utf8))
    }

    enum Value {
        case number(Double)
        case string(String)
        case bool(Bool)
        case null
    }

    static func parse(_ bytes: [UInt8]) -> RequestClocks? {
        var scanner = Scanner(bytes: bytes)
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        var clocks = RequestClocks()
        if scanner.take(UInt8(ascii: "}")) { return scanner.atEnd ? clocks : nil }
        repeat {
            guard let name = scanner.string(), scanner.take(UInt8(ascii: ":")), scanner.take(UInt8(ascii: "{")) else { return nil }
            var target: Double?, used: Double?, state: SLAClock.State?, business: Bool?
            var since: Date?, dueAt: Date?, warningAt: Date?, warnedAt: Date?, breachedAt: Date?
            if !scanner.take(UInt8(ascii: "}")) {
                repeat {
                    guard let key = scanner.string(), scanner.take(UInt8(ascii: ":")), let value = scanner.value() else { return nil }
                    switch (key, value) {
                    case ("target", .number(let number)): target = number
                    case ("used", .number(let number)): used = number
                    case ("state", .string(let text)): state = SLAClock.State(rawValue: text)
                    case ("business", .bool(let flag)): business = flag
                    case ("since", .number(let number)): since = Date(timeIntervalSince1970: number)
                    case ("due_at", .number(let number)): dueAt = Date(timeIntervalSince1970: number)
                    case ("warning_at", .number(let number)): warningAt = Date(timeIntervalSince1970: number)
                    case ("warned_at", .number(let number)): warnedAt = Date(timeIntervalSince1970: number)
                    case ("breached_at", .number(let number)): breachedAt = Date(timeIntervalSince1970: number)
                    default: break
                    }
                } while scanner.take(UInt8(ascii: ","))
                guard scanner.take(UInt8(ascii: "}")) else { return nil }
            }
            guard let kind = SLAClockKind(rawValue: name) else { continue }
            guard let target, let used, let state, let business else { return nil }
            clocks.clocks[kind] = RequestClock(
                clock: SLAClock(target: target, used: used, state: state, since: since ?? Date(timeIntervalSince1970: 0)),
                isBusiness: business, dueAt: dueAt, warningAt: warningAt, warnedAt: warnedAt, breachedAt: breachedAt)
        } while scanner.take(UInt8(ascii: ","))
        guard scanner.take(UInt8(ascii: "}")), scanner.atEnd else { return nil }
        return clocks
    }

    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return position == bytes.count
            }
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// A string without escapes (the stored keys and states have none); nil otherwise.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                if bytes[position] == UInt8(ascii: "\\") { return nil }
                position += 1
            }
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func value() -> Value? {
            skipSpace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default:
                let start = position
                while position < bytes.count, "0123456789+-.eE".utf8.contains(bytes[position]) { position += 1 }
                guard position > start, let number = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else { return nil }
                return .number(number)
            }
        }

        mutating func literal(_ word: String) -> Bool {
            let expected = Array(word.utf8)
            guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected else {
                return false
            }
            position += expected.count
            return true
        }
    }
}
