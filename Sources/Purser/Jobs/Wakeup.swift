// Wakes idle worker threads when a job arrives (a NOTIFY), or lets them sleep out their poll
// interval. A generation counter makes a signal that arrives before the wait still count.
import Foundation

final class Wakeup: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation = 0

    /// The generation to wait past; read it before looking for work.
    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Waits until a signal newer than `seen`, or `timeout` passes.
    func wait(after seen: Int, timeout: TimeInterval) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while generation == seen {
            if !condition.wait(until: deadline) { return }
        }
    }

    func signalAll() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }
}
