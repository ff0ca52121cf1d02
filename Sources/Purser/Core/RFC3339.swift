// UTC times as RFC 3339 text (`2026-11-23T09:14:03.123Z`), the form the API and the logs use,
// written as bytes without Foundation's formatters (they run per request).
import Foundation
import Postgres

public enum RFC3339 {
    /// Parses `2026-11-23T15:04:05Z` (fractional seconds and offsets allowed); nil otherwise.
    public static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
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
        digits(year, 4); out.append(45)
        digits(month, 2); out.append(45)
        digits(day, 2); out.append(84)
        digits(secondsOfDay / 3600, 2); out.append(58)
        digits(secondsOfDay / 60 % 60, 2); out.append(58)
        digits(secondsOfDay % 60, 2); out.append(46)
        digits(milliseconds, 3); out.append(90)
    }
}
