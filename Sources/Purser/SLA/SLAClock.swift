// One SLA clock (first response or resolution): a target in working time, the working time used
// so far, and whether it runs. Pausing (waiting on the customer) banks the working time used;
// resuming starts counting again; the due time is always "now plus what is left", in working time.
import Foundation

public struct SLAClock: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case running, paused, stopped }

    /// The target, in working seconds of the calendar.
    public var target: TimeInterval
    /// Working seconds used before `since` (the last start or resume).
    public private(set) var used: TimeInterval = 0
    public private(set) var state: State = .running
    /// When the clock last started or resumed (running), paused, or stopped.
    public private(set) var since: Date

    public init(target: TimeInterval, startedAt: Date) {
        self.target = target
        since = startedAt
    }

    /// A clock as stored.
    public init(target: TimeInterval, used: TimeInterval, state: State, since: Date) {
        self.target = target
        self.used = used
        self.state = state
        self.since = since
    }

    /// Working seconds used up to `date`.
    public func used(at date: Date, calendar: BusinessCalendar) -> TimeInterval {
        state == .running ? used + calendar.workingSeconds(from: since, to: date) : used
    }

    /// When the target is reached if the clock keeps running; nil while paused or stopped.
    public func due(calendar: BusinessCalendar) -> Date? {
        guard state == .running else { return nil }
        return calendar.adding(workingSeconds: max(0, target - used), to: since)
    }

    /// When `share` of the target is reached (the warning); nil when that is already past or not running.
    public func warning(share: Double, calendar: BusinessCalendar) -> Date? {
        guard state == .running, used < target * share else { return nil }
        return calendar.adding(workingSeconds: target * share - used, to: since)
    }

    public mutating func pause(at date: Date, calendar: BusinessCalendar) {
        guard state == .running else { return }
        used += calendar.workingSeconds(from: since, to: date)
        state = .paused
        since = date
    }

    public mutating func resume(at date: Date) {
        guard state == .paused else { return }
        state = .running
        since = date
    }

    /// A stopped clock counting again (the request was reopened): the time used so far still counts.
    public mutating func restart(at date: Date) {
        guard state == .stopped else { return }
        state = .running
        since = date
    }

    public mutating func stop(at date: Date, calendar: BusinessCalendar) {
        if state == .running { used += calendar.workingSeconds(from: since, to: date) }
        state = .stopped
        since = date
    }

    /// A new target (the priority changed): the working time already used still counts.
    public mutating func retarget(_ newTarget: TimeInterval) {
        target = newTarget
    }

    public func breached(at date: Date, calendar: BusinessCalendar) -> Bool {
        used(at: date, calendar: calendar) > target
    }
}
