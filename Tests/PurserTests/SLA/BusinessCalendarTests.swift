import Foundation
@testable import Purser
import Testing

/// Working time in a real zone: weekends, holidays, a daylight-saving change, business days, and
/// SLA clocks that never count paused time (checked on random pause patterns).
@Suite struct BusinessCalendarTests {
    let zurich = TimeZone(identifier: "Europe/Zurich")!
    func date(_ text: String) -> Date { RFC3339.date(text)! }
    func text(_ date: Date) -> String { RFC3339.string(date) }

    @Test func businessHoursSkipNightsWeekendsAndHolidays() {
        let office = BusinessCalendar.officeHours(zurich, holidays: ["2026-12-25"])
        // Thursday 24 Dec 2026, 16:00 Zurich (15:00 UTC) + 4 working hours: 1 h on Thursday, Friday is
        // Christmas, the weekend is off, 3 h on Monday 28 Dec → 12:00 Zurich = 11:00 UTC.
        #expect(text(office.adding(workingSeconds: 4 * 3600, to: date("2026-12-24T15:00:00Z"))) == "2026-12-28T11:00:00.000Z")
        #expect(office.workingSeconds(from: date("2026-12-24T15:00:00Z"), to: date("2026-12-28T11:00:00Z")) == 4 * 3600)
        // Filed on Saturday: the clock starts Monday 09:00.
        #expect(text(office.adding(workingSeconds: 3600, to: date("2026-11-28T10:00:00Z"))) == "2026-11-30T09:00:00.000Z")
    }

    @Test func aDaylightSavingChangeIsCountedAsTheWallClockReads() {
        // 24 × 7 in Zurich: Sunday 29 March 2026 has 23 hours. 24 working hours from Saturday 12:00
        // local (11:00 UTC) end at Sunday 13:00 local = 11:00 UTC: 24 real hours, whatever the wall says.
        let always = BusinessCalendar(
            timeZone: zurich,
            hours: Dictionary(
                uniqueKeysWithValues: (1...7).map {
                    ($0, [BusinessCalendar.Span(start: 0, end: 1440)])
                }))
        #expect(text(always.adding(workingSeconds: 24 * 3600, to: date("2026-03-28T11:00:00Z"))) == "2026-03-29T11:00:00.000Z")
        // Office hours across the change: Friday 16:00 CET (15:00 UTC) + 2 h → Monday 10:00 CEST = 08:00 UTC.
        let office = BusinessCalendar.officeHours(zurich)
        #expect(text(office.adding(workingSeconds: 2 * 3600, to: date("2026-03-27T15:00:00Z"))) == "2026-03-30T08:00:00.000Z")
        // And back in October: Friday 16:00 CEST (14:00 UTC) + 2 h → Monday 10:00 CET = 09:00 UTC.
        #expect(text(office.adding(workingSeconds: 2 * 3600, to: date("2026-10-23T14:00:00Z"))) == "2026-10-26T09:00:00.000Z")
    }

    @Test func businessDaysFallDueAtTheSameTimeOfDay() {
        let office = BusinessCalendar.officeHours(zurich, holidays: ["2026-12-25"])
        // Wednesday 23 Dec 10:30 local + 3 business days: Thu 24, (Fri 25 holiday), Mon 28, Tue 29 → 10:30 local.
        #expect(text(office.adding(businessDays: 3, to: date("2026-12-23T09:30:00Z"))) == "2026-12-29T09:30:00.000Z")
        // Filed Friday evening: counts from Monday 09:00; 1 business day later is Tuesday 09:00.
        #expect(text(office.adding(businessDays: 1, to: date("2026-11-27T19:00:00Z"))) == "2026-12-01T08:00:00.000Z")
        #expect(
            text(BusinessCalendar.aroundTheClock.adding(businessDays: 2, to: date("2026-11-27T19:00:00Z"))) == "2026-11-29T19:00:00.000Z")
    }

    @Test func pausedTimeIsNeverCounted() {
        var generator = SeededGenerator(seed: 42)
        let calendars = [BusinessCalendar.officeHours(zurich, holidays: ["2026-12-25", "2027-01-01"]), .aroundTheClock]
        for round in 0..<200 {
            let calendar = calendars[round % 2]
            let start = date("2026-12-20T00:00:00Z").addingTimeInterval(Double.random(in: 0...(20 * 86400), using: &generator))
            var clock = SLAClock(target: 8 * 3600, startedAt: start)
            var cursor = start
            var running: [(Date, Date)] = []
            var runningSince = start
            var paused = false
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                cursor = cursor.addingTimeInterval(Double.random(in: 60...(3 * 86400), using: &generator))
                if paused {
                    clock.resume(at: cursor)
                    runningSince = cursor
                } else {
                    clock.pause(at: cursor, calendar: calendar)
                    running.append((runningSince, cursor))
                }
                paused.toggle()
            }
            let end = cursor.addingTimeInterval(Double.random(in: 60...86400, using: &generator))
            if !paused { running.append((runningSince, end)) }
            let expected = running.reduce(0) { $0 + calendar.workingSeconds(from: $1.0, to: $1.1) }
            #expect(abs(clock.used(at: end, calendar: calendar) - expected) < 0.001, "round \(round)")
            if let due = clock.due(calendar: calendar) {
                // Running: what is left, counted from the last resume, lands exactly on the target.
                let used = clock.used(at: due, calendar: calendar)
                #expect(abs(used - 8 * 3600) < 0.001 || clock.used(at: clock.since, calendar: calendar) >= 8 * 3600)
            }
        }
    }

    @Test func workingTimeAndAddingAgree() {
        var generator = SeededGenerator(seed: 7)
        // Office hours, and a late shift that runs to midnight (a span ending at 24:00 across DST days).
        let calendars = [
            BusinessCalendar.officeHours(zurich, holidays: ["2026-12-25"]),
            BusinessCalendar(
                timeZone: zurich,
                hours: Dictionary(
                    uniqueKeysWithValues: (1...6).map {
                        ($0, [BusinessCalendar.Span(start: 360, end: 720), BusinessCalendar.Span(start: 1080, end: 1440)])
                    })),
        ]
        for round in 0..<400 {
            let calendar = calendars[round % 2]
            let start = date("2026-03-20T00:00:00Z").addingTimeInterval(Double.random(in: 0...(300 * 86400), using: &generator))
            let amount = Double(Int.random(in: 1...(40 * 3600), using: &generator))
            let due = calendar.adding(workingSeconds: amount, to: start)
            #expect(abs(calendar.workingSeconds(from: start, to: due) - amount) < 0.001, "round \(round)")
        }
    }
}

/// A small deterministic generator (SplitMix64), so property tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
