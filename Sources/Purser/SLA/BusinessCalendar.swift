// Working time: a time zone, weekly working hours and holidays. SLA targets in business hours
// count only working time; a target of N business days falls due at the same working time of day
// N working days later. Local times are turned into instants by the zone's own rules, so a
// daylight-saving change shortens or lengthens the day exactly as the clocks on the wall do.
import Foundation

public struct BusinessCalendar: Sendable, Equatable {
    /// A working interval within a local day, in minutes from midnight: `[start, end)`.
    public struct Span: Sendable, Equatable, Codable {
        public let start: Int
        public let end: Int
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    public let timeZone: TimeZone
    /// Working spans per weekday, 1 = Monday … 7 = Sunday; a day without spans is a day off.
    public let hours: [Int: [Span]]
    /// Local dates off (`2026-12-25`).
    public let holidays: Set<String>
    /// Around the clock: every second counts.
    public let alwaysOn: Bool

    public init(timeZone: TimeZone, hours: [Int: [Span]], holidays: Set<String> = []) {
        self.timeZone = timeZone
        self.hours = hours.mapValues { $0.sorted { $0.start < $1.start } }
        self.holidays = holidays
        alwaysOn = false
    }

    private init(alwaysOn timeZone: TimeZone) {
        self.timeZone = timeZone
        hours = [:]
        holidays = []
        alwaysOn = true
    }

    /// 24 × 7.
    public static let aroundTheClock = BusinessCalendar(alwaysOn: TimeZone(identifier: "UTC")!)

    /// Monday to Friday, 09:00–17:00 in `zone`, with `holidays`.
    public static func officeHours(_ zone: TimeZone, holidays: Set<String> = []) -> BusinessCalendar {
        BusinessCalendar(
            timeZone: zone, hours: Dictionary(uniqueKeysWithValues: (1...5).map { ($0, [Span(start: 540, end: 1020)]) }),
            holidays: holidays)
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The working intervals of the local day containing `date`, as instants.
    func intervals(onDayOf date: Date) -> [(start: Date, end: Date)] {
        let calendar = self.calendar
        let day = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
        let key = String(format: "%04d-%02d-%02d", day.year!, day.month!, day.day!)
        if holidays.contains(key) { return [] }
        let weekday = (day.weekday! + 5) % 7 + 1  // Foundation: 1 = Sunday
        return (hours[weekday] ?? []).compactMap { span in
            func instant(_ minutes: Int) -> Date? {
                if minutes >= 1440 {
                    return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: date))
                }
                // A wall time skipped by a DST change comes out an hour later, as the wall clock reads then.
                return calendar.date(
                    from: DateComponents(
                        year: day.year, month: day.month, day: day.day, hour: minutes / 60,
                        minute: minutes % 60))
            }
            guard let start = instant(span.start), let end = instant(span.end), end > start else { return nil }
            return (start, end)
        }
    }

    private func startOfNextDay(after date: Date) -> Date {
        let calendar = self.calendar
        return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: date))!
    }

    /// The instant `seconds` of working time after `start`.
    public func adding(workingSeconds seconds: TimeInterval, to start: Date) -> Date {
        if alwaysOn { return start.addingTimeInterval(seconds) }
        var remaining = seconds
        var cursor = start
        var day = calendar.startOfDay(for: start)
        for _ in 0..<(366 * 20) {
            for interval in intervals(onDayOf: day) where interval.end > cursor {
                let from = max(interval.start, cursor)
                let available = interval.end.timeIntervalSince(from)
                if remaining <= available { return from.addingTimeInterval(remaining) }
                remaining -= available
                cursor = interval.end
            }
            day = startOfNextDay(after: day)
            cursor = max(cursor, day)
        }
        return cursor
    }

    /// Working seconds between `from` and `to` (zero when `to` is not after `from`).
    public func workingSeconds(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        if alwaysOn { return to.timeIntervalSince(from) }
        var total: TimeInterval = 0
        var cursor = from
        while cursor < to {
            for interval in intervals(onDayOf: cursor) {
                let start = max(interval.start, cursor), end = min(interval.end, to)
                if end > start { total += end.timeIntervalSince(start) }
            }
            cursor = startOfNextDay(after: cursor)
        }
        return total
    }

    /// The first working instant at or after `date`.
    public func nextWorkingMoment(_ date: Date) -> Date {
        if alwaysOn { return date }
        var cursor = date
        for _ in 0..<(366 * 20) {
            if let interval = intervals(onDayOf: cursor).first(where: { $0.end > cursor }) { return max(interval.start, cursor) }
            cursor = startOfNextDay(after: cursor)
        }
        return date
    }

    /// N business days after `start`: the same working time of day on the N-th following working
    /// day (a start outside working hours counts from the next working moment).
    public func adding(businessDays days: Int, to start: Date) -> Date {
        if alwaysOn { return calendar.date(byAdding: .day, value: days, to: start)! }
        let from = nextWorkingMoment(start)
        let calendar = self.calendar
        let time = calendar.dateComponents([.hour, .minute, .second], from: from)
        var day = calendar.startOfDay(for: from)
        var counted = 0
        while counted < days {
            day = calendar.date(byAdding: .day, value: 1, to: day)!
            if !intervals(onDayOf: day.addingTimeInterval(3600 * 12)).isEmpty { counted += 1 }
        }
        var components = calendar.dateComponents([.year, .month, .day], from: day.addingTimeInterval(3600 * 12))
        components.hour = time.hour
        components.minute = time.minute
        components.second = time.second
        let candidate = calendar.date(from: components) ?? day
        // The same wall time may fall outside that day's hours (shorter hours): the next working moment.
        return nextWorkingMoment(candidate)
    }
}
