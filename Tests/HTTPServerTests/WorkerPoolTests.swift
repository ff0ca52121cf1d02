import Foundation
import HTTPServer
import Testing

/// The worker pool keeps no finished job: a job holds its request (and the request its body, up
/// to 16 MiB for usage batches), so a queue that kept run jobs until it was compacted held up to a
/// thousand bodies.
@Suite struct WorkerPoolTests {
    final class Payload: Sendable {}

    @Test func aJobThatRanLetsGoOfWhatItCaptured() {
        let pool = WorkerPool(threads: 1, name: "pool-test")
        defer { pool.shutdown() }
        weak var watched: Payload?
        let ran = DispatchSemaphore(value: 0)
        do {
            let payload = Payload()
            watched = payload
            pool.submit {
                _ = payload
                ran.signal()
            }
        }
        ran.wait()
        // One thread: once the next job runs, the first one has returned and been let go.
        pool.submit { ran.signal() }
        ran.wait()
        #expect(watched == nil)
    }
}
