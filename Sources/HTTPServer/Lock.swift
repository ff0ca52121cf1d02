// Locks for hot paths. pthread mutexes sleep at once when contended; Synchronization.Mutex spins
// first, which on two cores burns the time the holder needs to finish.
import Foundation
import Synchronization

/// A mutual-exclusion lock around a value.
public final class Locked<Value>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body(&value)
    }
}

/// Many readers at once, or one writer.
final class ReadWriteLock: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    init() { pthread_rwlock_init(&lock, nil) }
    deinit { pthread_rwlock_destroy(&lock) }

    func reading<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    func writing<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}

/// Which of `count` shards the calling thread uses: threads spread over shards without hashing.
public func shardIndex(count: Int) -> Int {
    // pthread_t is the address of the thread's descriptor; its low bits are alignment.
    Int((UInt(pthread_self()) >> 12) % UInt(count))
}

/// A counter split across threads: each thread adds to its own slot (no cache line bouncing
/// between I/O threads on every request); reading sums the slots.
public final class ShardedCounter: Sendable {
    private final class Slot: Sendable {
        let value = Atomic<Int>(0)
    }

    private let slots: [Slot] = (0..<8).map { _ in Slot() }

    public init() {}

    public func add(_ delta: Int) {
        slots[shardIndex(count: slots.count)].value.add(delta, ordering: .relaxed)
    }

    /// The sum; exact when no thread is adding at the same time.
    public var total: Int { slots.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }

    /// Adds one to the calling thread's slot and returns (slot, its new value): unique pairs.
    func next() -> (slot: Int, value: Int) {
        let index = shardIndex(count: slots.count)
        return (index, slots[index].value.add(1, ordering: .relaxed).newValue)
    }
}
