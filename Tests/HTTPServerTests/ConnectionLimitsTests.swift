import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

@Suite struct ConnectionLimitsTests {
    @Test func anIdleOrSlowClientIsDisconnectedAfterTheTimeout() throws {
        let server = try TestServer(configuration: ServerConfiguration(connectionTimeout: 1)) { router in
            router.add(.get, "/ok", options: .inline) { _ in .text("ok") }
        }
        // Half a request line, then silence: the server gives up instead of holding the connection.
        let start = ContinuousClock.now
        let response = try RawHTTP.exchange(port: server.port, Array("GET /ok HTTP/1.1\r\nHo".utf8), timeout: .seconds(10))
        #expect(response.isEmpty)
        #expect(start.duration(to: .now) < .seconds(8), "closed by the server, not by the test's own timeout")
    }

    @Test func connectionsPastTheLimitAreRefused() throws {
        let server = try TestServer(configuration: ServerConfiguration(ioThreads: 1, connectionLimit: 2)) { router in
            router.add(.get, "/ok", options: .inline) { _ in .text("ok") }
        }
        let held = try (0..<2).map { _ in try OpenConnection(port: server.port) }
        Thread.sleep(forTimeInterval: 0.2)
        let refused = try RawHTTP.exchange(port: server.port, Array("GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
        #expect(refused.isEmpty, "the third connection is closed unanswered")
        withExtendedLifetime(held) {}
        _ = held.map { $0.close() }
        // Once the server has seen the held connections close (a moment on a busy machine), a new one is served.
        var answered = ""
        #expect(
            try waitUntil(4) {
                answered = try RawHTTP.exchange(port: server.port, Array("GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
                return answered.hasPrefix("HTTP/1.1 200")
            }, "\(answered)")
    }
}

/// A TCP connection kept open without sending anything.
final class OpenConnection {
    private let socket: Int32

    init(port: Int) throws {
        socket = try RawHTTP.connect(port: port)
    }

    func close() { Foundation.close(socket) }
}
