// One queue of password hashes: a few run at once, a few more wait, and past that an attempt is
// refused at once. A waiting attempt holds a worker thread, so a lane's places (running and
// waiting together) stay well below the server's worker threads.
import Foundation
import class HTTPServer.Locked

final class HashLane: Sendable {
    private let slots: DispatchSemaphore
    /// Places taken (running and waiting), and the people holding one, for a lane that gives each
    /// person at most one place.
    private let taken = Locked<(count: Int, people: Set<UUID>)>((0, []))
    let places: Int

    init(running: Int, places: Int) {
        slots = DispatchSemaphore(value: running)
        self.places = places
    }

    /// Takes a place (for `person`, at most one each), or answers false when the lane is full.
    func enter(person: UUID?) -> Bool {
        taken.withLock { state in
            guard state.count < places else { return false }
            if let person {
                guard !state.people.contains(person) else { return false }
                state.people.insert(person)
            }
            state.count += 1
            return true
        }
    }

    func leave(person: UUID?) {
        taken.withLock { state in
            state.count -= 1
            if let person { state.people.remove(person) }
        }
    }

    /// Runs `work` when one of the lane's running slots is free (the caller holds a place).
    func run<T>(_ work: () throws -> T) rethrows -> T {
        slots.wait()
        defer { slots.signal() }
        return try work()
    }
}
