// Two `purser serve` processes on one database, with HAProxy in front: a session or token made on
// one node works on the other, and a sign-out, token revocation or role change made on one node is
// refused on the other within the bound docs/scaling.md states (the NOTIFY path: every node drops
// what it remembered of the person or token when the change commits). Rate limits hold across the
// nodes within their stated error, and the client address a node records is the one HAProxy
// forwards, not a header the client wrote.
import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.enabled(if: TestEnvironment.scaleRun), .serialized) struct NodesSessionsScaleTests {
    /// docs/scaling.md: a change committed on one node is refused on every other node within this.
    static let noticeBound: Duration = .seconds(1)

    func bearer(_ token: String) -> [(name: String, value: String)] { [("Authorization", "Bearer \(token)")] }

    @Test func sessionsAndTokensWorkOnEveryNodeAndChangesReachTheOtherNodeWithinTheBound() throws {
        let seed = try TestApp()
        let people = try People(seed, slug: "acme")
        let nodes = try PurserNodes(databaseURL: seed.database.url, serve: 2, work: 0)
        defer { nodes.stopAll() }
        let proxy = try HAProxyPeer(servers: nodes.servers)
        let (a, b) = (nodes.serves[0], nodes.serves[1])
        let client = HTTPClient()

        // Signed in through HAProxy: round robin sends the form's GET and its POST to different nodes.
        let viewer = WebVisitor(baseURL: proxy.url)
        #expect(try viewer.signIn("viewer@acme.test", People.password).status == 303, "\(nodes.logs)")
        for node in [a, b] { #expect(try viewer.at(node.url).get("/t/acme/").status == 200, "the session works on \(node.name)") }
        let token = try people.token("approver@acme.test", in: seed)
        for node in [a, b] { #expect(try client.get(node.url + "/api/v1/me", headers: bearer(token.token)).status == 200) }

        // Sign-out on a: b refuses the cookie it has just accepted.
        let onB = viewer.at(b.url)
        #expect(try onB.get("/t/acme/").status == 200)
        #expect(try viewer.at(a.url).post("/sign-out", [], from: "/account").status == 303)
        let signOut = try timeUntil(5) { try onB.get("/t/acme/").status == 303 }

        // A token revoked on a (by its owner, on the account page) is refused by b.
        let owner = WebVisitor(baseURL: a.url)
        #expect(try owner.signIn("approver@acme.test", People.password).status == 303)
        #expect(try client.get(b.url + "/api/v1/me", headers: bearer(token.token)).status == 200)
        #expect(try owner.post("/account/tokens/\(token.id.postgresText)/revoke", [], from: "/account").status == 303)
        let revocation = try timeUntil(5) { try client.get(b.url + "/api/v1/me", headers: bearer(token.token)).status == 401 }

        // A role changed on a ends the person's session and tokens on b.
        let second = try people.token("approver@acme.test", in: seed)
        let ownerOnB = owner.at(b.url)
        #expect(try ownerOnB.get("/t/acme/").status == 200)
        #expect(try client.get(b.url + "/api/v1/me", headers: bearer(second.token)).status == 200)
        let admin = WebVisitor(baseURL: a.url)
        // Changing roles takes an admin with a second factor; the nodes run on the live clock.
        let totp = try people.enableSecondFactor("tenant_admin@acme.test", in: seed)
        #expect(try admin.signIn("tenant_admin@acme.test", People.password) { totp.code(at: Date()) }.status == 303)
        let user = people.id("approver@acme.test").postgresText
        #expect(try admin.post("/t/acme/members/\(user)/role", [("role", "viewer")], from: "/t/acme/members").status == 200)
        let roleChange = try timeUntil(5) {
            try ownerOnB.get("/t/acme/").status == 303 && client.get(b.url + "/api/v1/me", headers: bearer(second.token)).status == 401
        }

        let measured = [("sign-out", signOut), ("token revocation", revocation), ("role change", roleChange)]
        print(
            "nodes: refused on the other node after "
                + measured.map { "\($0.0) \($0.1.map { "\($0)" } ?? "never")" }.joined(separator: ", "))
        for (change, took) in measured {
            let took = try #require(took, "\(change) was never refused on the other node: \(nodes.logs)")
            #expect(took <= Self.noticeBound, "\(change) took \(took) to reach the other node")
        }
    }

    @Test func aRateLimitHoldsAcrossNodesWithinItsStatedError() throws {
        let seed = try TestApp()
        let people = try People(seed, slug: "acme")
        // 120 a minute: a full bucket of 120, 2 more each second, leases of 2 tokens per node.
        try seed.database.connect().query("UPDATE plans SET api_requests_per_minute = 120, tenant_requests_per_minute = 100000")
        let token = try people.token("viewer@acme.test", in: seed).token
        let nodes = try PurserNodes(databaseURL: seed.database.url, serve: 2, work: 0)
        defer { nodes.stopAll() }
        let urls = nodes.serves.map { $0.url + "/api/v1/me" }
        let statuses = Locked<[Int]>([])
        let errors = Locked<[String]>([])
        let started = ContinuousClock.now
        // Four clients, two on each node, 60 requests each: twice the limit in well under a minute.
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let client = HTTPClient()
            for _ in 0..<60 {
                do {
                    let status = try client.get(urls[index % 2], headers: bearer(token)).status
                    statuses.withLock { $0.append(status) }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let all = statuses.withLock { $0 }
        let admitted = all.filter { $0 == 200 }.count
        let leaseLoss = 2 * RateLimiter.leaseSize(120)
        let refill = Int((2 * seconds).rounded(.up))
        print("nodes: rate limit 120/min, 2 nodes: \(admitted) of \(all.count) admitted in \(seconds) s")
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0.prefix(3) }) \(nodes.logs)")
        #expect(all.allSatisfy { $0 == 200 || $0 == 429 }, "\(all)")
        #expect(admitted <= 120 + refill, "never more than the bucket and its refill: \(admitted) in \(seconds) s")
        #expect(admitted >= 120 - leaseLoss, "at most one lease per node refused early: \(admitted)")
    }

    @Test func theClientAddressIsTheOneHAProxyForwards() throws {
        let seed = try TestApp()
        let people = try People(seed, slug: "acme")
        let nodes = try PurserNodes(databaseURL: seed.database.url, serve: 2, work: 0)
        defer { nodes.stopAll() }
        let proxy = try HAProxyPeer(servers: nodes.servers)
        // A token without requests:read: listing requests is refused, and the refusal is audited with its address.
        let token = try people.token("viewer@acme.test", [.deploymentsRead], in: seed).token
        func refused(from address: String, to url: String, id: String) throws -> String? {
            let result = try Subprocess.run(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", address, "-H", "Authorization: Bearer \(token)",
                    "-H", "X-Forwarded-For: 198.51.100.7", "-H", "X-Request-Id: \(id)", url + "/api/v1/requests",
                ])
            #expect(result.output == "403", "\(result.output)")
            return try seed.database.connect().query(
                "SELECT address FROM audit_events WHERE action = 'access.denied' AND request_id = $1", [id]
            ).first?.decode(0, as: String.self)
        }
        // Through HAProxy (which connects from 127.0.0.3, the trusted proxy) from 127.0.0.2, with a
        // forged header: the client's own address, not the forgery and not HAProxy's.
        for attempt in 1...2 {
            #expect(try refused(from: "127.0.0.2", to: proxy.url, id: "nodes-proxied-\(attempt)") == "127.0.0.2")
        }
        // Straight to a node from 127.0.0.4: its header is not believed.
        #expect(try refused(from: "127.0.0.4", to: nodes.serves[1].url, id: "nodes-direct") == "127.0.0.4")
        // A session begun through HAProxy records the browser's address in the session list.
        let browser = WebVisitor(baseURL: proxy.url)
        #expect(try browser.signIn("viewer@acme.test", People.password).status == 303)
        let addresses = try seed.database.connect().query(
            "SELECT DISTINCT address FROM sessions WHERE user_id = $1", [people.id("viewer@acme.test")]
        ).map { try $0.decode(0, as: String.self) }
        #expect(addresses == ["127.0.0.1"], "\(addresses)")
    }
}
