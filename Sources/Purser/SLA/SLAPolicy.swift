// What a tenant is promised: targets per priority for the first response and for resolution, a
// deployment target, the business calendar that business targets count in, when to warn, and
// what a breach does. A tenant's own policy wins over its plan's, and the plan's over Purser's.
import Foundation
import struct HTTPServer.FieldError

public struct SLATarget: Sendable, Equatable, Codable {
    public enum Unit: String, Sendable, Codable, CaseIterable {
        case seconds, minutes, hours
        case businessHours = "business_hours"
        case businessDays = "business_days"

        var label: String {
            switch self {
            case .seconds: "seconds"
            case .minutes: "minutes"
            case .hours: "hours"
            case .businessHours: "business hours"
            case .businessDays: "business days"
            }
        }

        /// The largest target in this unit: a year. Beyond it `seconds(from:calendar:)` would
        /// overflow (hours × 3600) or walk business days for ever.
        public var maximum: Int {
            switch self {
            case .seconds: 365 * 86400
            case .minutes: 365 * 1440
            case .hours, .businessHours: 365 * 24
            case .businessDays: 365
            }
        }
    }

    public var amount: Int
    public var unit: Unit

    public init(_ amount: Int, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// Business targets count working time of the policy's calendar; the others every second.
    public var isBusiness: Bool { unit == .businessHours || unit == .businessDays }

    /// The target in working seconds for a clock started at `start`. N business days are the
    /// working time from `start` to the same working time of day N working days later.
    public func seconds(from start: Date, calendar: BusinessCalendar) -> TimeInterval {
        switch unit {
        case .seconds: TimeInterval(amount)
        case .minutes: TimeInterval(amount * 60)
        case .hours, .businessHours: TimeInterval(amount * 3600)
        case .businessDays: calendar.workingSeconds(from: start, to: calendar.adding(businessDays: amount, to: start))
        }
    }

    public var label: String { amount == 1 ? "1 " + String(unit.label.dropLast()) : "\(amount) \(unit.label)" }
}

public struct SLAPolicy: Sendable, Equatable, Codable {
    public struct Targets: Sendable, Equatable, Codable {
        public var firstResponse: SLATarget
        public var resolution: SLATarget

        enum CodingKeys: String, CodingKey {
            case firstResponse = "first_response"
            case resolution
        }
    }

    /// What a breach does besides telling the assignee and the group's lead.
    public enum Escalation: String, Sendable, Codable, CaseIterable {
        /// The request is given to the group's lead.
        case reassign
        /// The request is marked escalated and shows in the lead's queue ("escalated").
        case raise
    }

    public var timeZone: String
    /// Working spans per weekday ("1" = Monday … "7" = Sunday), minutes from local midnight.
    public var hours: [String: [BusinessCalendar.Span]]
    /// Local dates off, `2026-12-25`.
    public var holidays: [String]
    /// The share of a target at which a warning goes out.
    public var warningShare: Double
    /// Per priority, P1 … P4.
    public var targets: [String: Targets]
    /// A deployment-type request is live within this of being filed.
    public var deployment: SLATarget
    public var escalation: Escalation
    /// How many days after resolving a request its requester may reopen it (nil: 14).
    public var reopenDays: Int?
    /// Endpoint objectives ("uptime"); each key absent here falls back to the plan's, then Purser's
    /// (docs/monitoring.md).
    public var uptime: UptimeObjectives? = nil

    /// The reopen window in days.
    public var reopenWindow: Int { reopenDays ?? 14 }

    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone", hours, holidays, warningShare = "warning_share", targets, deployment, escalation
        case reopenDays = "reopen_days"
        case uptime
    }

    /// Purser's own: P1 15 min / 4 h around the clock, P2 1 h / 8 business hours, P3 4 business
    /// hours / 3 business days, P4 1 business day / 5 business days; Monday–Friday 09:00–17:00 UTC.
    public static let standard = SLAPolicy(
        timeZone: "UTC",
        hours: Dictionary(uniqueKeysWithValues: (1...5).map { (String($0), [BusinessCalendar.Span(start: 540, end: 1020)]) }),
        holidays: [], warningShare: 0.75,
        targets: [
            "P1": Targets(firstResponse: SLATarget(15, .minutes), resolution: SLATarget(4, .hours)),
            "P2": Targets(firstResponse: SLATarget(1, .hours), resolution: SLATarget(8, .businessHours)),
            "P3": Targets(firstResponse: SLATarget(4, .businessHours), resolution: SLATarget(3, .businessDays)),
            "P4": Targets(firstResponse: SLATarget(1, .businessDays), resolution: SLATarget(5, .businessDays)),
        ],
        deployment: SLATarget(4, .hours), escalation: .raise, reopenDays: 14)

    /// The business calendar (a valid policy always has a known zone).
    public var calendar: BusinessCalendar {
        BusinessCalendar(
            timeZone: TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!,
            hours: Dictionary(uniqueKeysWithValues: hours.compactMap { key, spans in Int(key).map { ($0, spans) } }),
            holidays: Set(holidays))
    }

    /// The calendar a target counts in.
    public func calendar(for target: SLATarget) -> BusinessCalendar {
        target.isBusiness ? calendar : .aroundTheClock
    }

    public func targets(for priority: String) -> Targets {
        targets[priority] ?? Self.standard.targets[priority] ?? Self.standard.targets["P4"]!
    }

    static func rangeDetail(_ unit: SLATarget.Unit) -> String { "a target is 1 to \(unit.maximum) \(unit.label) (a year)" }

    /// Every problem, by field; empty when the policy can be used.
    public func problems() -> [FieldError] {
        var errors: [FieldError] = []
        if TimeZone(identifier: timeZone) == nil {
            errors.append(FieldError(field: "time_zone", detail: "name a time zone such as Europe/Zurich"))
        }
        for (day, spans) in hours {
            guard let weekday = Int(day), (1...7).contains(weekday) else {
                errors.append(FieldError(field: "hours", detail: "weekdays are 1 (Monday) to 7 (Sunday)"))
                continue
            }
            for span in spans where !(0..<span.end).contains(span.start) || span.end > 1440 {
                errors.append(FieldError(field: "hours", detail: "working hours run forward within one day (day \(weekday))"))
            }
        }
        if hours.values.allSatisfy(\.isEmpty) && targets.values.contains(where: { $0.firstResponse.isBusiness || $0.resolution.isBusiness })
        {
            errors.append(FieldError(field: "hours", detail: "business targets need at least one working day"))
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for day in holidays where day.count != 10 || formatter.date(from: day) == nil {
            errors.append(FieldError(field: "holidays", detail: "\(day) is not a date like 2026-12-25"))
        }
        if !(0.05...0.99).contains(warningShare) {
            errors.append(FieldError(field: "warning_share", detail: "warn between 5 % and 99 % of a target"))
        }
        for priority in RequestPriority.allCases.map(\.rawValue) {
            guard let pair = targets[priority] else {
                errors.append(FieldError(field: "targets", detail: "give targets for \(priority)"))
                continue
            }
            for (name, target) in [("first_response", pair.firstResponse), ("resolution", pair.resolution)]
            where !(1...target.unit.maximum).contains(target.amount) {
                errors.append(FieldError(field: "\(priority).\(name)", detail: Self.rangeDetail(target.unit)))
            }
        }
        if !(1...deployment.unit.maximum).contains(deployment.amount) {
            errors.append(FieldError(field: "deployment", detail: Self.rangeDetail(deployment.unit)))
        }
        if !(0...365).contains(reopenWindow) { errors.append(FieldError(field: "reopen_days", detail: "reopen within 0–365 days")) }
        return errors
    }
}
