import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

@Suite struct RoutingTests {
    let server: TestServer

    init() throws {
        server = try TestServer { router in
            router.add(.get, "/items/{id}", options: .inline) { request in
                .text("item \(try request.parameter("id", as: Int.self))")
            }
            router.add(.delete, "/items/{id}") { _ in Response(status: .noContent) }
            router.add(.get, "/plain", options: .inline) { _ in .text("plain") }
        }
    }

    @Test func pathParametersReachTheHandler() throws {
        let response = try server.send("GET", "/items/42")
        #expect(response.status == 200)
        #expect(response.text == "item 42")
    }

    @Test func aMalformedPathParameterIsABadRequest() throws {
        let response = try server.send("GET", "/items/forty-two")
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.text.contains("'id'"))
    }

    @Test func anUnknownPathIsANotFoundProblem() throws {
        let response = try server.send("GET", "/nothing/here")
        #expect(response.status == 404)
        let problem = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(problem?["status"] as? Int == 404)
        #expect(problem?["title"] as? String == "Not Found")
        #expect((problem?["request_id"] as? String)?.isEmpty == false)
    }

    @Test func aKnownPathWithTheWrongMethodIs405WithAllow() throws {
        let response = try server.send("POST", "/items/7")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "DELETE, GET, HEAD")
    }

    @Test func headAnswersLikeGetWithoutABody() throws {
        let response = try server.send("HEAD", "/plain")
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test func theCallersRequestIdIsEchoedAndAnUnsafeOneReplaced() throws {
        let echoed = try server.send("GET", "/plain", headers: [("X-Request-Id", "abc-123")])
        #expect(echoed.header("X-Request-Id") == "abc-123")
        let replaced = try server.send("GET", "/plain", headers: [("X-Request-Id", "bad id\"<script>")])
        #expect(replaced.header("X-Request-Id") != nil)
        #expect(replaced.header("X-Request-Id") != "bad id\"<script>")
    }
}
