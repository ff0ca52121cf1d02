// A report's period: whole local days in the tenant's time zone (`tenants.time_zone`), from the
// first to the last inclusive, given as dates or as a preset (this month, last month, the last 7,
// 30 or 90 days, counting today). The rollups' days are local days of the same zone.
import Foundation
import struct HTTPServer.FieldError

public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// "2026-11-27" (also how PostgreSQL reads and writes a date): digits in place, so "2026-+1-05"
    /// or "2026- 1-05" (which Int reads as 1) is not a date.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let shape = text.utf8.enumerated().allSatisfy { index, byte in
            index == 4 || index == 7 ? byte == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard text.utf8.count == 10, shape, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1, day <= LocalDate.days(inMonth: month, year: year), year >= 1970, year <= 9999
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The local date at `instant` in `zone`.
    public init(_ instant: Date, in zone: TimeZone) {
        let parts = LocalDate.calendar(zone).dateComponents([.year, .month, .day], from: instant)
        self.init(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// Days counted in the proleptic calendar (no zone: a local date is a date).
    public func adding(days: Int) -> LocalDate {
        let utc = TimeZone(identifier: "UTC")!
        return LocalDate(LocalDate.calendar(utc).date(byAdding: .day, value: days, to: start(in: utc))!, in: utc)
    }

    public var firstOfMonth: LocalDate { LocalDate(year: year, month: month, day: 1) }
    public var lastOfMonth: LocalDate { LocalDate(year: year, month: month, day: LocalDate.days(inMonth: month, year: year)) }
    public var previousMonth: LocalDate {
        month == 1 ? LocalDate(year: year - 1, month: 12, day: 1) : LocalDate(year: year, month: month - 1, day: 1)
    }
    public var nextMonth: LocalDate {
        month == 12 ? LocalDate(year: year + 1, month: 1, day: 1) : LocalDate(year: year, month: month + 1, day: 1)
    }

    /// The instant this day starts in `zone` (its local midnight, or the first instant after it).
    public func start(in zone: TimeZone) -> Date {
        LocalDate.calendar(zone).date(from: DateComponents(year: year, month: month, day: day))!
    }

    /// Days from this date to `other` (positive when `other` is later).
    public func days(to other: LocalDate) -> Int {
        let utc = TimeZone(identifier: "UTC")!
        return Int((other.start(in: utc).timeIntervalSince(start(in: utc)) / 86400).rounded())
    }
}

public struct CostPeriod: Sendable, Equatable {
    public enum Preset: String, CaseIterable, Sendable {
        case thisMonth = "this_month"
        case lastMonth = "last_month"
        case last7Days = "last_7_days"
        case last30Days = "last_30_days"
        case last90Days = "last_90_days"

        public var label: String {
            switch self {
            case .thisMonth: "This month"
            case .lastMonth: "Last month"
            case .last7Days: "Last 7 days"
            case .last30Days: "Last 30 days"
            case .last90Days: "Last 90 days"
            }
        }
    }

    public let from: LocalDate
    /// The last day, inclusive.
    public let to: LocalDate
    public let preset: Preset?

    /// The longest period a report covers (a year and a bit: this month against the same month last year).
    public static let maximumDays = 400

    public init(from: LocalDate, to: LocalDate, preset: Preset? = nil) {
        self.from = from
        self.to = to
        self.preset = preset
    }

    public init(_ preset: Preset, today: LocalDate) {
        switch preset {
        case .thisMonth: self.init(from: today.firstOfMonth, to: today, preset: preset)
        case .lastMonth:
            let first = today.firstOfMonth.previousMonth
            self.init(from: first, to: first.lastOfMonth, preset: preset)
        case .last7Days: self.init(from: today.adding(days: -6), to: today, preset: preset)
        case .last30Days: self.init(from: today.adding(days: -29), to: today, preset: preset)
        case .last90Days: self.init(from: today.adding(days: -89), to: today, preset: preset)
        }
    }

    /// From a query's `preset`, or `from`/`to` (either may be left out: `to` is today, `from` the
    /// first of `to`'s month); this month when none is given.
    public init(preset: String?, from: String?, to: String?, today: LocalDate) throws {
        var errors: [FieldError] = []
        if let preset, !preset.isEmpty {
            guard let known = Preset(rawValue: preset) else {
                throw ValidationError(field: "preset", "use one of \(Preset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.init(known, today: today)
            return
        }
        let (fromText, toText) = (from.flatMap { $0.isEmpty ? nil : $0 }, to.flatMap { $0.isEmpty ? nil : $0 })
        if fromText == nil && toText == nil {
            self.init(.thisMonth, today: today)
            return
        }
        let last = toText.map { LocalDate($0) } ?? today
        let first = fromText.map { LocalDate($0) } ?? last.map { $0.firstOfMonth }
        if last == nil { errors.append(FieldError(field: "to", detail: "give a date as YYYY-MM-DD")) }
        if first == nil { errors.append(FieldError(field: "from", detail: "give a date as YYYY-MM-DD")) }
        if let first, let last {
            if first > last {
                errors.append(FieldError(field: "from", detail: "the first day must not be after the last"))
            } else if first.days(to: last) >= CostPeriod.maximumDays {
                errors.append(FieldError(field: "from", detail: "a report covers at most \(CostPeriod.maximumDays) days"))
            }
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        self.init(from: first!, to: last!)
    }

    /// Every day of the period, in order.
    public var days: [LocalDate] {
        (0...from.days(to: to)).map { from.adding(days: $0) }
    }
}
