import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Sign-in under attack, over the real socket on loopback: attempts counted before their hash (so
/// attempts sent at once cannot pass the throttle together), IPv6 clients counted per /64, and a
/// person whose browser signed in before still getting in while made-up sign-ins flood the node.
@Suite struct SignInFloodTests {
    /// Attempts written to their own connections all at once, answered later.
    final class Burst {
        private var sockets: [Int32] = []

        /// Opens a connection per request and sends each whole; nothing is read yet.
        init(port: Int, requests: [[UInt8]]) throws {
            for bytes in requests {
                let socket = try RawHTTP.connect(port: port)
                RawHTTP.send(socket, bytes)
                sockets.append(socket)
            }
        }

        /// The status of every answer (0 when none came within 30 s), closing the connections.
        func statuses() -> [Int] {
            defer {
                for socket in sockets { close(socket) }
                sockets = []
            }
            return sockets.map { socket in
                let head = String(decoding: RawHTTP.readUntilClosed(socket, limit: 12).prefix(12), as: UTF8.self)
                return head.hasPrefix("HTTP/1.1 ") ? Int(head.dropFirst(9).prefix(3)) ?? 0 : 0
            }
        }

        deinit { for socket in sockets { close(socket) } }
    }

    /// A sign-in POST as a browser with the sign-in form's pre-session cookie and token would send it,
    /// through the trusted proxy on loopback that names `client`.
    static func signInRequest(email: String, password: String, client: String, pre: (cookie: String, token: String)) -> [UInt8] {
        func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
        }
        let body = "email=\(encode(email))&password=\(encode(password))&csrf=\(encode(pre.token))"
        return Array(
            ("POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Cookie: purser_pre=\(pre.cookie)\r\nX-Forwarded-For: \(client)\r\n\r\n" + body).utf8)
    }

    /// The pre-session cookie and form token a sign-in form hands out.
    static func preSession(_ app: TestApp) throws -> (cookie: String, token: String) {
        let visitor = WebVisitor(app)
        let token = try visitor.formToken(on: "/sign-in")
        return (try #require(visitor.cookies["purser_pre"]), token)
    }

    @Test func wrongPasswordsSentAtOncePassNoMoreThanTheLimit() throws {
        let app = try TestApp {
            $0.trustedProxies = ["127.0.0.1"]; $0.workerThreads = 32
        }
        _ = try People(app)
        let pre = try Self.preSession(app)
        // 18 guesses at once (the hash queue's old size), each from an address of its own.
        let burst = try Burst(
            port: app.app.server.port,
            requests: (0..<18).map {
                Self.signInRequest(email: "approver@acme.test", password: "guess number \($0)", client: "198.51.100.\($0 + 1)", pre: pre)
            })
        let statuses = burst.statuses()
        #expect(statuses.filter { $0 == 401 }.count <= 5, "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(statuses)")
        let judged = try app.database.connect().query("SELECT count(*) FROM audit_events WHERE action = 'session.sign_in_failed'")[0]
            .require(0, as: Int.self)
        #expect(judged <= 5)
        #expect(try WebVisitor(app).signIn("approver@acme.test", People.password).status == 429, "the account waits")
    }

    @Test func anIPv6ClientCountsAsItsSlash64() throws {
        #expect(ThrottleAddress.canonical("2001:db8:5:6::1") == "2001:db8:5:6::/64")
        #expect(ThrottleAddress.canonical("[2001:0DB8:5:6:ffff:1:2:3]") == "2001:db8:5:6::/64")
        #expect(ThrottleAddress.canonical("2001:db8:5:7::1") == "2001:db8:5:7::/64")
        #expect(ThrottleAddress.canonical("::ffff:192.0.2.1") == "192.0.2.1")
        #expect(ThrottleAddress.canonical("192.0.2.1") == "192.0.2.1")
        #expect(ThrottleAddress.canonical("fe80::1%eth0") == "fe80::/64")
        // Over the socket: twenty failures from twenty addresses of one /64 make the whole /64 wait.
        let app = try TestApp { $0.trustedProxies = ["127.0.0.1"] }
        _ = try People(app)
        for host in 1...20 {
            let visitor = WebVisitor(app, address: "2001:db8:5:6::\(String(host, radix: 16))")
            #expect(try visitor.signIn("nobody\(host)@acme.test", "not the password").status == 401)
        }
        #expect(try WebVisitor(app, address: "2001:db8:5:6:9:9:9:9").signIn("viewer@acme.test", People.password).status == 429)
        #expect(try WebVisitor(app, address: "2001:db8:5:7::1").signIn("viewer@acme.test", People.password).status == 303)
    }

    @Test func aKnownPersonSignsInDuringAFlood() throws {
        // A node with more worker threads than the hash queue has places, so the queue, not the
        // threads, is what a flood fills.
        let app = try TestApp {
            $0.trustedProxies = ["127.0.0.1"]; $0.workerThreads = 64
        }
        _ = try People(app)
        // The person signed in from this browser before: it holds their device cookie.
        let person = WebVisitor(app, address: "203.0.113.7")
        #expect(try person.signIn("requester@acme.test", People.password).status == 303)
        #expect(person.cookies["purser_device"] != nil)
        #expect(try person.post("/sign-out", [], from: "/account").status == 303)
        let token = try person.formToken(on: "/sign-in")
        let pre = try Self.preSession(app)

        // 200 attempts with made-up emails from 1,000 addresses, sent at once (well within 10 s).
        var random = SystemRandomNumberGenerator()
        let started = ContinuousClock.now
        let flood = try Burst(
            port: app.app.server.port,
            requests: (0..<200).map { index in
                let client = Int.random(in: 0..<1000, using: &random)
                return Self.signInRequest(
                    email: "flood-\(index)-\(UUID().uuidString.prefix(8))@example.test",
                    password: "made up password \(index)",
                    client: "10.77.\(client / 256).\(client % 256)", pre: pre)
            })
        let attempt = ContinuousClock.now
        let answer = try person.post("/sign-in", [("email", "requester@acme.test"), ("password", People.password)], formToken: token)
        let took = attempt.duration(to: .now)
        let statuses = flood.statuses()
        #expect(started.duration(to: .now) < .seconds(60))
        #expect(answer.status == 303, "the known person got \(answer.status) after \(took)")
        #expect(took < .seconds(5), "took \(took)")
        // The flood itself was turned away quickly, not queued: only a few of its attempts were hashed.
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        #expect(statuses.contains(429))
    }
}
