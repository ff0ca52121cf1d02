import Foundation
import Testing
import TestSupport

/// Hostile and broken requests against the real server: none may produce a 500 or stop it.
/// Bounded: a fixed number of requests, all to loopback.
@Suite struct MalformedInputTests {
    @Test func brokenRequestsNeverProduceA500() throws {
        let app = try TestApp()
        let port = app.app.server.port
        var generator = SplitMix(seed: 20_261_123)
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW", "G\u{0}T", ""]
        let paths = [
            "/", "/healthz", "/readyz", "/api/openapi.json", "/api/v1/requests/%ZZ", "/static/%2e%2e/x",
            "/static/css/../../Package.swift", "//", "/\u{7f}", "/api/v1/" + String(repeating: "a", count: 3000),
            "/t/acme/requests?q=%00&limit=-1", "*",
        ]
        let bodies = ["", "{", "{\"a\":", "\u{0}\u{1}\u{2}", "name=%E0%A4%A&x", String(repeating: "[", count: 10_000)]
        var statuses: [Int: Int] = [:]
        for _ in 0..<300 {
            let method = methods[generator.next(methods.count)]
            let path = paths[generator.next(paths.count)]
            let body = bodies[generator.next(bodies.count)]
            let type = ["application/json", "text/plain", "application/x-www-form-urlencoded", "bogus/"][generator.next(4)]
            var raw = "\(method) \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: \(type)\r\n"
            if generator.next(5) == 0 { raw += "X-Weird: \u{1}\u{2}\r\n" }
            raw += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            let response = try RawHTTP.exchange(port: port, Array(raw.utf8), timeout: .seconds(5))
            if let statusText = response.split(separator: " ", maxSplits: 2).dropFirst().first, let status = Int(statusText) {
                statuses[status, default: 0] += 1
            }
        }
        #expect(statuses.keys.allSatisfy { $0 < 500 }, "statuses seen: \(statuses)")
        #expect(statuses.values.reduce(0, +) > 200, "most requests were answered: \(statuses)")
        #expect(try app.get("/healthz").status == 200)
        #expect(try app.get("/readyz").status == 200)
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
