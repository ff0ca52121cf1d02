import Foundation
import HTTPClient
import HTTPServer
import HTTPServerTesting
import Testing

/// A shutdown whose drain deadline passes while requests are still held must close them, not
/// abort: libmicrohttpd stops the process when it is stopped with a connection still suspended.
@Suite struct ShutdownTests {
    @Test func shutdownPastTheDrainDeadlineClosesHeldRequestsAndStreams() throws {
        let gate = Gate()
        let server = try TestServer(configuration: ServerConfiguration(drainDeadline: .milliseconds(200))) { router in
            // Held on a worker thread, its connection suspended.
            router.add(.get, "/held") { _ in
                gate.wait()
                return .text("too late")
            }
            // A stream whose second piece never comes before the deadline: suspended by the I/O thread.
            router.add(.get, "/stalled") { _ in
                let pieces = LockedCounter()
                return Response(
                    headers: HTTPHeaders([("Content-Type", "text/plain")]),
                    body: .stream {
                        if pieces.next() == 0 { return Array("first piece\n".utf8) }
                        gate.wait()
                        return nil
                    })
            }
        }
        let answered = LockedCounter()
        let group = DispatchGroup()
        for path in ["/held", "/held", "/stalled"] {
            group.enter()
            Thread.detachNewThread {
                if (try? server.send("GET", path))?.status == 200 { _ = answered.next() }
                group.leave()
            }
        }
        #expect(waitUntil { server.server.requestsInFlight == 3 }, "all three requests reached the server")
        // Shutdown waits for the worker threads, which are held until the gate opens: run it
        // aside, and see every client's connection closed while the handlers still hold.
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            server.server.shutdown()
            stopped.signal()
        }
        #expect(group.wait(timeout: .now() + 10) == .success, "every client's connection was closed")
        #expect(answered.next() == 0, "no held request was answered as if it had finished")
        gate.open()
        #expect(stopped.wait(timeout: .now() + 10) == .success, "shutdown returned, and the process lives on")
        #expect(throws: (any Error).self) { try HTTPClient().get(server.baseURL + "/held") }
    }
}
