import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

/// Framing that a proxy in front could read differently must be refused, and the connection closed,
/// so that nothing after it is taken as a second request (request smuggling).
@Suite struct FramingTests {
    let server: TestServer

    init() throws {
        server = try TestServer { router in
            router.add(.post, "/echo") { request in .text("body=\(String(decoding: request.body, as: UTF8.self))") }
            router.add(.get, "/secret", options: .inline) { _ in .text("smuggled") }
        }
    }

    func expectRefused(_ raw: String) throws {
        let (response, closed) = try RawHTTP.closedByServer(port: server.port, Array(raw.utf8))
        #expect(response.hasPrefix("HTTP/1.1 400"))
        #expect(response.components(separatedBy: "HTTP/1.1 ").count == 2, "exactly one response")
        #expect(!response.contains("smuggled"))
        #expect(response.lowercased().contains("connection: close"))
        #expect(closed)
    }

    @Test func twoContentLengthHeadersAreRefused() throws {
        try expectRefused(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n"
                + "abcdGET /secret HTTP/1.1\r\nHost: t\r\n\r\n")
    }

    @Test func contentLengthWithTransferEncodingIsRefused() throws {
        try expectRefused(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /secret HTTP/1.1\r\nHost: t\r\n\r\n")
    }

    @Test func whitespaceBeforeTheColonIsRefused() throws {
        try expectRefused("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length : 4\r\n\r\nabcdGET /secret HTTP/1.1\r\nHost: t\r\n\r\n")
    }

    @Test func wellFramedPipelinedRequestsAreAnsweredInOrder() throws {
        let raw =
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd"
            + "GET /secret HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        let response = try RawHTTP.exchange(port: server.port, Array(raw.utf8))
        #expect(response.components(separatedBy: "HTTP/1.1 200").count == 3)
        #expect(response.contains("body=abcd"))
    }
}
