import Foundation
@testable import HTTPServer
import Testing

@Suite struct ClientAddressTests {
    @Test func aTrustedProxysForwardedClientIsBelieved() {
        let proxies = TrustedProxies(["10.0.0.0/8", "192.0.2.7"])
        let headers = HTTPHeaders([("X-Forwarded-For", "203.0.113.9, 10.1.2.3")])
        #expect(proxies.client(peer: "10.0.0.1", headers: headers) == "203.0.113.9")
        let rfc7239 = TrustedProxies(["10.0.0.0/8", "192.0.2.7"], header: .forwarded)
        #expect(
            rfc7239.client(peer: "192.0.2.7", headers: HTTPHeaders([("Forwarded", "for=\"198.51.100.4\";proto=https")])) == "198.51.100.4")
        #expect(
            rfc7239.client(peer: "192.0.2.7", headers: HTTPHeaders([("Forwarded", "for=\"[2001:db8:cafe::17]:4711\"")]))
                == "2001:db8:cafe::17")
        #expect(rfc7239.client(peer: "192.0.2.7", headers: HTTPHeaders([("Forwarded", "for=\"198.51.100.4:8443\"")])) == "198.51.100.4")
    }

    @Test func anUntrustedPeerCannotClaimAnotherAddress() {
        let proxies = TrustedProxies(["10.0.0.0/8"])
        let headers = HTTPHeaders([("X-Forwarded-For", "1.2.3.4")])
        #expect(proxies.client(peer: "198.51.100.1", headers: headers) == "198.51.100.1")
        #expect(TrustedProxies([]).client(peer: "10.0.0.1", headers: headers) == "10.0.0.1")
    }

    @Test func theRightMostAddressNotOfOurProxiesIsTheClient() {
        // The client wrote the first two hops itself; our two proxies appended the last two.
        let proxies = TrustedProxies(["10.0.0.0/8", "192.0.2.7"])
        let headers = HTTPHeaders([("X-Forwarded-For", "6.6.6.6, 7.7.7.7"), ("X-Forwarded-For", "203.0.113.9, 10.1.2.3")])
        #expect(proxies.client(peer: "192.0.2.7", headers: headers) == "203.0.113.9")
        // A request that never left our network is from the left-most hop.
        #expect(proxies.client(peer: "192.0.2.7", headers: HTTPHeaders([("X-Forwarded-For", "10.9.9.9, 10.1.2.3")])) == "10.9.9.9")
        // A hop that is no address ends what can be known.
        #expect(proxies.client(peer: "192.0.2.7", headers: HTTPHeaders([("X-Forwarded-For", "1.2.3.4, nonsense")])) == "192.0.2.7")
    }

    @Test func onlyTheHeaderTheProxyWritesIsRead() {
        // The proxy writes Forwarded and passes the client's own X-Forwarded-For through.
        let forwarded = TrustedProxies(["127.0.0.1"], header: .forwarded)
        let headers = HTTPHeaders([("X-Forwarded-For", "6.6.6.6"), ("Forwarded", "for=203.0.113.9")])
        #expect(forwarded.client(peer: "127.0.0.1", headers: headers) == "203.0.113.9")
        // And the other way round.
        let xff = TrustedProxies(["127.0.0.1"])
        #expect(
            xff.client(peer: "127.0.0.1", headers: HTTPHeaders([("Forwarded", "for=6.6.6.6"), ("X-Forwarded-For", "203.0.113.9")]))
                == "203.0.113.9")
        #expect(xff.client(peer: "127.0.0.1", headers: HTTPHeaders([("Forwarded", "for=6.6.6.6")])) == "127.0.0.1")
    }

    @Test func ipv6ProxiesAndBlocks() {
        let proxies = TrustedProxies(["2001:db8::/32", "::1"])
        #expect(proxies.contains("2001:db8:1::5") && proxies.contains("::1") && !proxies.contains("2001:db9::1"))
        #expect(proxies.client(peer: "::1", headers: HTTPHeaders([("X-Forwarded-For", "2a00:1450::1, 2001:db8::9")])) == "2a00:1450::1")
        #expect(IPBlock("10.0.0.0/33") == nil && IPBlock("proxy.example") == nil && IPBlock("::/0") != nil)
        #expect(TrustedProxies(["0.0.0.0/0"]).contains("198.51.100.1") && !TrustedProxies(["0.0.0.0/0"]).contains("2001:db8::1"))
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
            Route(
                .get, "/api/v1/things/{id}",
                operation: Operation(
                    id: "getThing", summary: "A thing.", parameters: [.init("id", in: .path, description: "Its id.")],
                    responses: [.init(200, "The thing.", schema: ["type": "object"])], scopes: ["things:read"])
            ) { _ in Response() },
            Route(.get, "/page") { _ in Response() },
        ]
        let document = OpenAPIBuilder(title: "T", version: "1", description: "D").document(for: routes)
        let paths = document["paths"]
        #expect(paths?["/api/v1/things/{id}"]?["get"]?["operationId"] == "getThing")
        #expect(paths?["/page"] == nil)
        #expect(paths?["/api/v1/things/{id}"]?["get"]?["security"] == [["bearer": ["things:read"]]])
    }
}
