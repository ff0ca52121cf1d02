// UTC times as RFC 3339 text (`2026-11-23T09:14:03.123Z`), the form the API and the logs use,
// written as bytes without Foundation's formatters (they run per request).
import Foundation
import Postgres

public enum RFC3339 {
    /// Parses `2026-11-23T15:04:05Z` (fractional seconds and offsets allowed); nil otherwise.
    public static func date(_ text: String) -> Date? {
        // Foundation's reader takes what RFC 3339 does not and misreads it: +25:00 as +02:00,
        // +12:99 as +12:00, +0200 without its colon, a five-digit year.
        guard hasShape(Array(text.utf8)) else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with an offset of at most 23:59, as RFC 3339's
    /// grammar has it (the reader checks the date's own ranges).
    static func hasShape(_ b: [UInt8]) -> Bool {
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, digits(0..<4) != nil, b[4] == 45, digits(5..<7) != nil, b[7] == 45, digits(8..<10) != nil,
            b[10] == 84 || b[10] == 116, digits(11..<13) != nil, b[13] == 58, digits(14..<16) != nil, b[16] == 58,
            digits(17..<19) != nil
        else { return false }
        var index = 19
        if b[index] == 46 {
            index += 1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57 { index += 1 }
            guard index > start else { return false }
        }
        guard index < b.count else { return false }
        if b[index] == 90 || b[index] == 122 { return index + 1 == b.count }
        guard b[index] == 43 || b[index] == 45, index + 6 == b.count, let hours = digits((index + 1)..<(index + 3)),
            b[index + 3] == 58, let minutes = digits((index + 4)..<(index + 6))
        else { return false }
        return hours <= 23 && minutes <= 59
    }

    public static func string(_ date: Date) -> String {
        var bytes = [UInt8]()
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func append(_ date: Date, to out: inout [UInt8]) {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = Int((Double(milliseconds) / 1000).rounded(.down))
        append(seconds: seconds, milliseconds: milliseconds - seconds * 1000, to: &out)
    }

    /// Appends the instant `seconds` after the epoch plus `milliseconds` (0–999).
    static func append(seconds: Int, milliseconds: Int, to out: inout [UInt8]) {
        // Calendar arithmetic rather than gmtime_r, which takes a process-wide lock.
        let days = Int((Double(seconds) / 86400).rounded(.down))
        let secondsOfDay = seconds - days * 86400
        let (year, month, day) = Timestamp.civilFromDays(days)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(48 + rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        // A year past 9999 (PostgreSQL keeps them) with all its digits, never its last four.
        var yearWidth = 4
        while yearWidth < 19 && year >= Int(pow(10, Double(yearWidth))) { yearWidth += 1 }
        digits(year, yearWidth); out.append(45)
        digits(month, 2); out.append(45)
        digits(day, 2); out.append(84)
        digits(secondsOfDay / 3600, 2); out.append(58)
        digits(secondsOfDay / 60 % 60, 2); out.append(58)
        digits(secondsOfDay % 60, 2); out.append(46)
        digits(milliseconds, 3); out.append(90)
    }
}
