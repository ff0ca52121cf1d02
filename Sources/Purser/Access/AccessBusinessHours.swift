// Business-hours-only access policies: the whole window of a grant, not only its start, must lie
// within the tenant's working time (its SLA calendar). Working spans that meet (17:00 one span,
// 17:00 the next; midnight into the next day) count as one stretch. A refusal says when business
// hours end (or next begin) in the tenant's own zone, and how long one may ask for.
import Foundation
import struct HTTPServer.FieldError

enum AccessBusinessHours {
    /// Why a window of `seconds` from `start` is not within business hours (the field at fault:
    /// `start` outside them, `duration_seconds` running past their end), or nil when it is.
    static func problem(start: Date, seconds: Int, calendar: BusinessCalendar) -> FieldError? {
        guard let detail = detail(start: start, seconds: seconds, calendar: calendar) else { return nil }
        return FieldError(field: calendar.workingStretchEnd(from: start) == nil ? "start" : "duration_seconds", detail: detail)
    }

    static func detail(start: Date, seconds: Int, calendar: BusinessCalendar) -> String? {
        if calendar.alwaysOn { return nil }
        let end = start.addingTimeInterval(TimeInterval(seconds))
        guard let stretchEnd = calendar.workingStretchEnd(from: start) else {
            let opens = calendar.nextWorkingMoment(start)
            return "this policy grants access only within business hours, and \(moment(start, calendar)) is outside them; "
                + "they begin next at \(moment(opens, calendar))"
        }
        guard end > stretchEnd else { return nil }
        let longest = Int(stretchEnd.timeIntervalSince(start))
        return "this policy grants access only within business hours: they end at \(moment(stretchEnd, calendar)), "
            + (longest >= 60
                ? "so ask for at most \(AccessRules.words(longest)) from this start"
                : "less than a minute after this start") + " (the window asked for ends at \(moment(end, calendar)))"
    }

    /// "17:00 Fri 27 Nov 2026 (Europe/Berlin)".
    static func moment(_ date: Date, _ calendar: BusinessCalendar) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_GB")
        format.timeZone = calendar.timeZone
        format.dateFormat = "HH:mm EEE d MMM yyyy"
        return format.string(from: date) + " (\(calendar.timeZone.identifier))"
    }
}

extension BusinessCalendar {
    /// The end of the stretch of working time that holds `date`, following spans that meet; nil
    /// when `date` is outside working time. Bounded at 62 days (a grant lasts at most 31).
    func workingStretchEnd(from date: Date) -> Date? {
        guard let first = intervals(onDayOf: date).first(where: { $0.start <= date && date < $0.end }) else { return nil }
        var end = first.end
        for _ in 0..<(62 * 4) {
            // The next span beginning where this one ends (the same day, or the next one at midnight).
            let next = intervals(onDayOf: end).first { $0.start <= end && end < $0.end }
            guard let next, next.end > end else { break }
            end = next.end
        }
        return end
    }
}
