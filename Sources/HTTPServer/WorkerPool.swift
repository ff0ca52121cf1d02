// Threads of our own for handlers that block (libpq, libcurl, argon2): blocking there never
// holds libmicrohttpd's I/O threads or Swift's cooperative pool.
import Foundation

/// A fixed set of threads running submitted jobs in order of arrival.
public final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    private var running = 0
    private static let done: @Sendable () -> Void = {}

    public init(threads count: Int, name: String) {
        for index in 0..<max(1, count) {
            let thread = Thread { [unowned self] in self.run() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            running += 1
            thread.start()
        }
    }

    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Jobs waiting for a thread.
    public var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Lets queued jobs finish, then ends the threads; returns when they have ended.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs[head]
            // The slot lets go of the job now: it keeps what the job captured (a request and its
            // body) alive until the queue is compacted, up to a thousand jobs later.
            jobs[head] = Self.done
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
