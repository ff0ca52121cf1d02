// The one clock Purser reads the time of day from. `LiveClock` is the system's; tests use a clock
// they move by hand. Waiting goes through the clock too, so that moving a test clock wakes
// whatever waits on it: idle workers, the scheduler, lease keepers. Durations measured for metrics
// and timings are not times of day and use a monotonic clock (`ContinuousClock`) instead.
import Foundation

public protocol WallClock: AnyObject, Sendable {
    /// The time of day, for everything stamped or compared: rows, tokens, sessions, SLA clocks.
    var now: Date { get }

    /// Blocks until this clock reads `deadline`, `woken` returns true, or `interrupt` is signalled.
    /// A live clock waits in real time; a test clock waits until it is moved (or interrupted).
    func wait(until deadline: Date, on interrupt: Interrupt, woken: () -> Bool)
}

/// Something a waiter can be woken by: a notice, a signal to stop, a moved test clock.
public final class Interrupt: @unchecked Sendable {
    let condition = NSCondition()
    private(set) var generation = 0

    public init() {}

    /// Wakes every waiter; they then look again at what they wait for.
    public func signal() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }
}

/// The system's clock.
public final class LiveClock: WallClock {
    public init() {}

    public var now: Date { Date() }

    public func wait(until deadline: Date, on interrupt: Interrupt, woken: () -> Bool) {
        interrupt.condition.lock()
        defer { interrupt.condition.unlock() }
        while !woken() {
            if Date() >= deadline || !interrupt.condition.wait(until: deadline) { return }
        }
    }
}

/// A clock that stands still until it is moved: tests set the time of day, and moving it wakes
/// every waiter whose deadline has come. Waiters also look again every `poll` of real time, so a
/// condition changed without a signal (a row another connection wrote) is still seen.
public final class SettableClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    /// What waiters wait on, with how many wait on each.
    private var waiters: [ObjectIdentifier: (interrupt: Interrupt, count: Int)] = [:]
    private let poll: TimeInterval

    public init(_ start: Date, poll: TimeInterval = 0.05) {
        current = start
        self.poll = poll
    }

    public var now: Date { lock.withLock { current } }

    /// Moves the clock forward (never back: PostgreSQL rows stamped with it would go out of order).
    public func advance(by interval: TimeInterval) {
        precondition(interval >= 0, "the clock only moves forward")
        let interrupts = lock.withLock {
            current = current.addingTimeInterval(interval)
            return waiters.values.map(\.interrupt)
        }
        for interrupt in interrupts { interrupt.signal() }
    }

    public func wait(until deadline: Date, on interrupt: Interrupt, woken: () -> Bool) {
        let key = ObjectIdentifier(interrupt)
        lock.withLock { waiters[key] = (interrupt, (waiters[key]?.count ?? 0) + 1) }
        defer {
            lock.withLock {
                if let entry = waiters[key], entry.count > 1 { waiters[key] = (interrupt, entry.count - 1) } else { waiters[key] = nil }
            }
        }
        interrupt.condition.lock()
        defer { interrupt.condition.unlock() }
        while !woken() && now < deadline {
            _ = interrupt.condition.wait(until: Date().addingTimeInterval(poll))
        }
    }
}
