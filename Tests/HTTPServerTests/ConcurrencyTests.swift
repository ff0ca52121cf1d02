import Foundation
import HTTPClient
import HTTPServer
import HTTPServerTesting
import Testing

/// Slow handlers run on worker threads with their connection suspended, so the I/O threads keep
/// answering everything else.
@Suite struct ConcurrencyTests {
    @Test func slowHandlersDoNotHoldUpHealthChecks() throws {
        let gate = Gate()
        let server = try TestServer(configuration: ServerConfiguration(ioThreads: 2, workerThreads: 8)) { router in
            router.add(.get, "/slow") { _ in
                gate.wait()
                return .text("slow done")
            }
            router.add(.get, "/healthz", options: .inline) { _ in .text("ok") }
        }
        let finished = LockedCounter()
        let group = DispatchGroup()
        for _ in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                if (try? server.send("GET", "/slow"))?.status == 200 { _ = finished.next() }
                group.leave()
            }
        }
        #expect(waitUntil { server.server.requestsInFlight == 6 }, "all six slow requests reached their handler")
        // All six slow requests are still held; health checks on new connections answer anyway.
        for _ in 0..<5 {
            let health = try HTTPClient().get(server.baseURL + "/healthz")
            #expect(health.status == 200)
        }
        #expect(finished.next() == 0, "no slow request had finished while health was checked")
        gate.open()
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(finished.next() == 7)
    }

    @Test func shutdownFinishesARequestInFlight() throws {
        let gate = Gate()
        let server = try TestServer { router in
            router.add(.get, "/slow") { _ in
                gate.wait()
                return .text("finished")
            }
        }
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.set(try? server.send("GET", "/slow"))
            done.signal()
        }
        #expect(waitUntil { server.server.requestsInFlight == 1 })
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.3)
            gate.open()
        }
        server.server.shutdown()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.value?.status == 200)
        #expect(result.value?.text == "finished")
        // The listener is gone: new connections are refused.
        #expect(throws: (any Error).self) { try HTTPClient().get(server.baseURL + "/slow") }
    }
}

/// Polls `condition` for up to five seconds.
func waitUntil(_ condition: () -> Bool) -> Bool {
    for _ in 0..<500 {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

/// Blocks callers until opened.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }
    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ClientResponse?
    func set(_ value: ClientResponse?) { lock.lock(); stored = value; lock.unlock() }
    var value: ClientResponse? { lock.lock(); defer { lock.unlock() }; return stored }
}

@Suite struct InlineFirstTests {
    @Test func aHandlerThatWouldBlockMovesToAWorkerThread() throws {
        let seen = Locked<[Bool]>([])
        let server = try TestServer { router in
            router.add(.get, "/maybe", options: .inlineFirst) { request in
                seen.withLock { $0.append(request.mayBlock) }
                if !request.mayBlock && request.query["cached"] == nil { throw WouldBlock() }
                return .text(request.mayBlock ? "worker" : "inline")
            }
        }
        #expect(try server.send("GET", "/maybe?cached=1").text == "inline")
        #expect(try server.send("GET", "/maybe").text == "worker")
        #expect(seen.withLock { $0 } == [false, false, true])
    }
}
