import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

struct Greeting: Decodable, Sendable {
    let name: String
    let count: Int
}

@Suite struct LimitsTests {
    let server: TestServer

    init() throws {
        server = try TestServer(configuration: ServerConfiguration(bodyLimit: 1024)) { router in
            router.add(.post, "/greet", options: .json) { request in
                let greeting = try request.decode(Greeting.self)
                return .text("hello \(greeting.name) × \(greeting.count)")
            }
            router.add(.post, "/upload", options: RouteOptions(bodyLimit: 64 * 1024)) { request in
                .text("got \(request.body.count)")
            }
        }
    }

    @Test func aBodyOverTheLimitIsRefusedWith413() throws {
        let response = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json")],
            body: Array(repeating: UInt8(ascii: "x"), count: 5000))
        #expect(response.status == 413)
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedBeforeTheBodyIsSent() throws {
        // Only the headers go out: the answer must come without the server waiting for 10 MB.
        let head = "POST /greet HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n"
        let (response, closed) = try RawHTTP.closedByServer(port: server.port, Array(head.utf8))
        #expect(response.hasPrefix("HTTP/1.1 413"))
        #expect(closed)
    }

    @Test func aChunkedBodyOverTheLimitIs413() throws {
        let chunk = String(repeating: "y", count: 2000)
        let raw =
            "POST /greet HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: close\r\n\r\n" + String(chunk.count, radix: 16) + "\r\n" + chunk + "\r\n0\r\n\r\n"
        let response = try RawHTTP.exchange(port: server.port, Array(raw.utf8))
        #expect(response.hasPrefix("HTTP/1.1 413"))
    }

    @Test func aRouteMayAcceptALargerBody() throws {
        let response = try server.send(
            "POST", "/upload", headers: [("Content-Type", "application/octet-stream")],
            body: Array(repeating: 1, count: 50_000))
        #expect(response.status == 200)
        #expect(response.text == "got 50000")
    }

    @Test func theWrongContentTypeIs415() throws {
        let response = try server.send(
            "POST", "/greet", headers: [("Content-Type", "text/plain")],
            body: Array(#"{"name":"a","count":1}"#.utf8))
        #expect(response.status == 415)
    }

    @Test func malformedJSONIs400NamingTheProblem() throws {
        let response = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json")],
            body: Array(#"{"name": "a", "count": }"#.utf8))
        #expect(response.status == 400)
        #expect(response.text.contains("not valid JSON"))
        // Valid JSON whose number does not fit the field is told as that, not as invalid JSON.
        let fraction = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json")], body: Array(#"{"name": "a", "count": 1.5}"#.utf8))
        #expect(fraction.status == 400 && fraction.text.contains("does not fit its field") && !fraction.text.contains("not valid"))
    }

    @Test func aMissingOrMistypedFieldIsNamed() throws {
        let missing = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json; charset=utf-8")],
            body: Array(#"{"name": "a"}"#.utf8))
        #expect(missing.status == 400)
        let problem = try JSONSerialization.jsonObject(with: Data(missing.body)) as? [String: Any]
        let errors = problem?["errors"] as? [[String: String]]
        #expect(errors?.first?["field"] == "count")
        let mistyped = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json")],
            body: Array(#"{"name": "a", "count": "three"}"#.utf8))
        #expect(mistyped.status == 400)
        #expect(mistyped.text.contains("count"))
        #expect(mistyped.text.contains("an integer"))
    }

    @Test func aValidBodyIsDecoded() throws {
        let response = try server.send(
            "POST", "/greet", headers: [("Content-Type", "application/json")],
            body: Array(#"{"name": "Ada", "count": 2}"#.utf8))
        #expect(response.status == 200)
        #expect(response.text == "hello Ada × 2")
    }
}
