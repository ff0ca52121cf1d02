// Reading column values from PostgreSQL's text format into Swift types.
import Foundation

public protocol PostgresDecodable: Sendable {
    /// Nil when the text is not a valid value of this type.
    init?(postgresText: String)
}

extension String: PostgresDecodable { public init?(postgresText: String) { self = postgresText } }
extension Int: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Int64: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Int32: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Int16: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Double: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension UUID: PostgresDecodable {
    /// PostgreSQL prints uuids as 36 lower-case characters; those are read directly (Foundation's
    /// parser goes through sscanf, a visible cost in lists), other spellings the Foundation way.
    public init?(postgresText: String) {
        guard let uuid = Self.canonical(postgresText) ?? UUID(uuidString: postgresText) else { return nil }
        self = uuid
    }

    static func canonical(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { bytes -> UUID? in
            guard bytes.count == 36 else { return nil }
            let nibble = Hex.nibble
            var out = [UInt8](repeating: 0, count: 16)
            var index = 0, byte = 0
            while index < 36 {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard bytes[index] == UInt8(ascii: "-") else { return nil }
                    index += 1
                    continue
                }
                guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
                out[byte] = high << 4 | low
                byte += 1
                index += 2
            }
            return UUID(
                uuid: (
                    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9], out[10], out[11],
                    out[12], out[13], out[14], out[15]
                ))
        }
    }
}
extension Date: PostgresDecodable {
    public init?(postgresText: String) {
        guard let date = Timestamp.parse(postgresText) else { return nil }
        self = date
    }
}

extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// One-dimensional arrays of text, uuid, integers (`{a,"b c",NULL}`); NULL elements are refused.
    public init?(postgresText: String) {
        guard postgresText.hasPrefix("{"), postgresText.hasSuffix("}") else { return nil }
        var elements: [Element] = []
        var current = ""
        var quoted = false, escaped = false, wasQuoted = false
        let body = postgresText.dropFirst().dropLast()
        if body.isEmpty { self = []; return }
        func finish() -> Bool {
            if !wasQuoted && current == "NULL" { return false }
            guard let element = Element(postgresText: current) else { return false }
            elements.append(element)
            current = ""
            wasQuoted = false
            return true
        }
        for character in body {
            if escaped { current.append(character); escaped = false; continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle(); wasQuoted = true
            case "," where !quoted: guard finish() else { return nil }
            default: current.append(character)
            }
        }
        guard finish() else { return nil }
        self = elements
    }
}

/// `timestamptz` text in the ISO style with the session in UTC (`2026-11-23 09:14:03.123456+00`),
/// and the calendar arithmetic behind it (public for other writers of UTC timestamps, such as logs).
public enum Timestamp {
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, let digit = Optional(Int(bytes[index]) - 48), (0...9).contains(digit) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            let parts = String(decoding: bytes[(index + 1)...], as: UTF8.self).split(separator: ":").compactMap { Int($0) }
            if let hours = parts.first { offsetSeconds = sign * (hours * 3600 + (parts.count > 1 ? parts[1] * 60 : 0)) }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var whole = Int(interval.rounded(.down))
        var micros = Int(((interval - Double(whole)) * 1_000_000).rounded())
        if micros == 1_000_000 { whole += 1; micros = 0 }
        let days = Int((Double(whole) / 86400).rounded(.down))
        let secondsOfDay = whole - days * 86400
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(secondsOfDay / 3600, 2)):"
            + "\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2)).\(pad(micros, 6))+00"
    }

    // Howard Hinnant's days-from-civil algorithms: exact for the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// (year, month, day) of the proleptic Gregorian date `days` after 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
