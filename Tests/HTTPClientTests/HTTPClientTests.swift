import Foundation
import HTTPClient
import HTTPServer
import HTTPServerTesting
import Testing

/// The client against Purser's own server on loopback.
@Suite struct HTTPClientTests {
    let server: TestServer

    init() throws {
        server = try TestServer(configuration: ServerConfiguration(bodyLimit: 8 << 20)) { router in
            for method in [HTTPMethod.get, .post, .put, .delete] {
                router.add(method, "/echo") { request in
                    var response = Response.text("\(request.method.rawValue) \(request.body.count) \(request.headers["X-Probe"] ?? "-")")
                    response.headers.add("X-Seen", request.contentType ?? "none")
                    return response
                }
            }
            router.add(.get, "/big") { _ in
                Response(
                    status: .ok, contentType: "application/octet-stream",
                    body: Array(repeating: 7, count: 2 << 20))
            }
            router.add(.get, "/slow") { _ in
                Thread.sleep(forTimeInterval: 2)
                return .text("late")
            }
            router.add(.get, "/moved", options: .inline) { _ in .redirect(to: "/echo") }
        }
    }

    @Test func methodsHeadersAndBodiesGoThrough() throws {
        let client = HTTPClient()
        #expect(try client.get(server.baseURL + "/echo", headers: [("X-Probe", "yes")]).text == "GET 0 yes")
        let post = try client.post(server.baseURL + "/echo", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(post.text == "POST 2 -")
        #expect(post.header("x-seen") == "application/json")
        #expect(try client.put(server.baseURL + "/echo", body: Array(repeating: 1, count: 100_000)).text == "PUT 100000 -")
        #expect(try client.delete(server.baseURL + "/echo").text == "DELETE 0 -")
    }

    @Test func aResponseOverTheLimitIsRefused() throws {
        var options = HTTPClient.Options()
        options.maxResponseBytes = 1 << 20
        let error = #expect(throws: HTTPClientError.self) { try HTTPClient(options: options).get(server.baseURL + "/big") }
        #expect(error?.kind == .tooLarge)
        #expect(try HTTPClient().get(server.baseURL + "/big").body.count == 2 << 20)
    }

    @Test func aSlowServerTimesOut() throws {
        var options = HTTPClient.Options()
        options.totalTimeout = .milliseconds(300)
        let error = #expect(throws: HTTPClientError.self) { try HTTPClient(options: options).get(server.baseURL + "/slow") }
        #expect(error?.kind == .timeout)
    }

    @Test func redirectsAreNotFollowedUnlessAsked() throws {
        let direct = try HTTPClient().get(server.baseURL + "/moved")
        #expect(direct.status == 303)
        #expect(direct.header("Location") == "/echo")
        var options = HTTPClient.Options()
        options.followRedirects = true
        #expect(try HTTPClient(options: options).get(server.baseURL + "/moved").text == "GET 0 -")
    }

    @Test func aRefusedConnectionIsAConnectionError() throws {
        let error = #expect(throws: HTTPClientError.self) { try HTTPClient().get("http://127.0.0.1:\(RawHTTP.freePort())/") }
        #expect(error?.kind == .connection)
    }

    @Test func headerInjectionIsRefused() throws {
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().get(server.baseURL + "/echo", headers: [("X-Probe", "a\r\nX-Evil: 1")])
        }
        #expect(error?.kind == .invalidRequest)
    }
}
