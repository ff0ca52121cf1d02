import Foundation
@testable import HTTPServer
import Testing

@Suite struct ClientAddressTests {
    @Test func aTrustedProxysForwardedClientIsBelieved() {
        let proxies = TrustedProxies(["10.0.0.0/8", "192.0.2.7"])
        let headers = HTTPHeaders([("X-Forwarded-For", "203.0.113.9, 10.1.2.3")])
        #expect(proxies.client(peer: "10.0.0.1", headers: headers) == "203.0.113.9")
        #expect(proxies.client(peer: "192.0.2.7", headers: HTTPHeaders([("Forwarded", "for=\"198.51.100.4\";proto=https")])) == "198.51.100.4")
    }

    @Test func anUntrustedPeerCannotClaimAnotherAddress() {
        let proxies = TrustedProxies(["10.0.0.0/8"])
        let headers = HTTPHeaders([("X-Forwarded-For", "1.2.3.4")])
        #expect(proxies.client(peer: "198.51.100.1", headers: headers) == "198.51.100.1")
        #expect(TrustedProxies([]).client(peer: "10.0.0.1", headers: headers) == "10.0.0.1")
    }
}

@Suite struct FramingRuleTests {
    @Test func singleLengthOrChunkedIsFine() {
        #expect(Framing.problem(in: HTTPHeaders([("Content-Length", "12")])) == nil)
        #expect(Framing.problem(in: HTTPHeaders([("Transfer-Encoding", "chunked")])) == nil)
    }

    @Test func nonNumericLengthIsRefused() {
        #expect(Framing.problem(in: HTTPHeaders([("Content-Length", "+12")])) != nil)
    }
}

@Suite struct OpenAPIBuilderTests {
    @Test func documentsOnlyRoutesWithAnOperation() {
        let routes = [
            Route(.get, "/api/v1/things/{id}", operation: Operation(
                id: "getThing", summary: "A thing.", parameters: [.init("id", in: .path, description: "Its id.")],
                responses: [.init(200, "The thing.", schema: ["type": "object"])], scopes: ["things:read"])) { _ in Response() },
            Route(.get, "/page") { _ in Response() },
        ]
        let document = OpenAPIBuilder(title: "T", version: "1", description: "D").document(for: routes)
        let paths = document["paths"]
        #expect(paths?["/api/v1/things/{id}"]?["get"]?["operationId"] == "getThing")
        #expect(paths?["/page"] == nil)
        #expect(paths?["/api/v1/things/{id}"]?["get"]?["security"] == [["bearer": ["things:read"]]])
    }
}
