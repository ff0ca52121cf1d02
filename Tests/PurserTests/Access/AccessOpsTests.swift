import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Extending a grant and elevations seen on every node, on a test clock: an extension is asked
/// under the grant's own policy, owes its approvals again, stays within the policy's maximum, and
/// its approval moves the same grant's end and expiry job (audited); two Purser nodes on one
/// database, where an elevation approved on one speaks through a token and a session already read
/// on the other, and its revocation is refused there at once.
@Suite(.serialized) struct AccessOpsTests {
    let clock = SettableClock(Date(timeIntervalSince1970: 1_790_100_000))
    let app: TestApp
    let acme: People
    let policy: UUID
    let other: UUID

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme")
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let policy = AccessPolicy(
            id: UUID(), name: "Approver for a while", kind: .role, role: "approver", requesterRoles: ["requester", "approver"],
            maxSeconds: 600,
            customerApprovals: 1)
        let other = AccessPolicy(
            id: UUID(), name: "Approver on call", kind: .role, role: "approver", requesterRoles: ["requester"], maxSeconds: 600,
            customerApprovals: 1)
        try store.save(policy, tenant: acme.tenant, actor: .system)
        try store.save(other, tenant: acme.tenant, actor: .system)
        (self.policy, self.other) = (policy.id, other.id)
    }

    func token(_ email: String, _ scopes: [Scope]) throws -> String {
        try app.app.tokens.create(user: acme.id(email), tenant: acme.tenant, name: "t", scopes: scopes, lifetime: 86400, actor: .system)
            .token
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil, on node: TestApp? = nil) throws -> (
        status: Int, body: [String: Any]
    ) {
        let response = try (node ?? app).send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: json.map { Array($0.utf8) })
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    /// Asks under `policy` for `seconds` (extending `grant` when given); the answer.
    func ask(_ token: String, policy: UUID, seconds: Int, extending grant: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let extends = grant.map { #", "extends_grant_id": "\#($0)""# } ?? ""
        return try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: token,
            #"{"policy_id": "\#(policy)", "reason": "drain the queue", "duration_seconds": \#(seconds)\#(extends)}"#)
    }

    func approve(_ request: String, _ token: String) throws -> (status: Int, body: [String: Any]) {
        try send("POST", "/api/v1/access/requests/\(request)/approvals?tenant=acme", token: token, #"{"decision": "approve"}"#)
    }

    /// Everyone's live grants: only an approver (or an elevation to one) reads them.
    func readsLiveGrants(_ token: String, on node: TestApp? = nil) throws -> Int {
        try send("GET", "/api/v1/access/grants?tenant=acme&view=live", token: token, on: node).status
    }

    @Test func anExtensionIsApprovedAgainAndMovesTheSameGrantsEndAndJob() throws {
        let requester = try token("requester@acme.test", [.accessRequest])
        let approver = try token("approver@acme.test", [.accessApprove, .accessRequest])
        let asked = try ask(requester, policy: policy, seconds: 300)
        let first = try #require(asked.body["id"] as? String)
        let grant = try #require((try approve(first, approver).body["grant"] as? [String: Any])?["id"] as? String)
        let db = try app.database.connect()
        func stored() throws -> (end: Date, runAt: Date, job: Int64) {
            let row = try db.query(
                "SELECT g.ends_at, j.run_at, j.id FROM access_grants g JOIN jobs j ON j.id = g.expire_job_id WHERE g.id = $1",
                [UUID(uuidString: grant)!])[0]
            return (try row.require(0), try row.require(1), try row.require(2))
        }
        let before = try stored()
        #expect(before.end == before.runAt)
        #expect(try readsLiveGrants(requester) == 200)

        // With 300 s left, 400 more would run past the policy's 600 s from now: refused, audited.
        clock.advance(by: 60)
        let tooLong = try ask(requester, policy: policy, seconds: 400, extending: grant)
        #expect(tooLong.status == 422)
        #expect(((tooLong.body["errors"] as? [[String: Any]])?.first?["detail"] as? String)?.contains("the policy's maximum") == true)
        // Under another policy, or someone else's grant: refused.
        #expect(try ask(requester, policy: other, seconds: 120, extending: grant).status == 422)
        let approverAsks = try token("approver@acme.test", [.accessRequest])
        #expect(try ask(approverAsks, policy: policy, seconds: 120, extending: grant).status == 422)

        // Asked within the maximum: pending until approved, the grant unchanged meanwhile.
        let extended = try ask(requester, policy: policy, seconds: 240, extending: grant)
        #expect(extended.status == 201, "\(extended.body)")
        #expect(extended.body["state"] as? String == "pending")
        #expect(extended.body["extends_grant_id"] as? String == grant)
        let second = try #require(extended.body["id"] as? String)
        #expect(try stored().end == before.end)
        // The requester cannot approve their own extension.
        #expect(try approve(second, requester).status == 403)
        clock.advance(by: 30)
        let approved = try approve(second, approver)
        #expect(approved.status == 200, "\(approved.body)")
        #expect(approved.body["state"] as? String == "approved")
        // The extension's page and answer lead to the grant it extended.
        #expect((approved.body["grant"] as? [String: Any])?["id"] as? String == grant)

        // The same grant ends 240 s later; its expiry job moved with it.
        let after = try stored()
        #expect(after.end == before.end.addingTimeInterval(240))
        #expect(after.runAt == after.end)
        #expect(after.job == before.job)
        let shown = try send("GET", "/api/v1/access/grants/\(grant)?tenant=acme", token: requester)
        #expect(shown.body["ends_at"] as? String == RFC3339.string(after.end))
        let audited = try db.query(
            "SELECT after->>'ends_at_before', after->>'ends_at' FROM audit_events WHERE action = 'access.extend' AND target_id = $1",
            [grant])
        #expect(audited.count == 1)
        #expect(try audited.first?.require(0, as: String.self) == RFC3339.string(before.end))
        let refused = try db.query(
            "SELECT count(*) FROM audit_events WHERE action = 'access.refused' AND tenant_id = $1", [acme.tenant])
        #expect(try refused[0].require(0, as: Int64.self) >= 3)

        // The elevation holds past the old end, and ends on the second at the new one.
        clock.advance(by: before.end.timeIntervalSince(clock.now) + 1)
        #expect(try readsLiveGrants(requester) == 200)
        clock.advance(by: after.end.timeIntervalSince(clock.now) - 1)
        #expect(try readsLiveGrants(requester) == 200)
        clock.advance(by: 1)
        #expect(try readsLiveGrants(requester) == 403)
        // An ended grant is not extended.
        #expect(try ask(requester, policy: policy, seconds: 60, extending: grant).status == 422)
    }

    @Test func anotherNodeSeesAnElevationAndItsRevocationAtOnce() throws {
        // A second node: its own server, pools, token cache, visitor cache and listener, same database.
        let node = try TestApp(database: app.database, clock: clock)
        let requester = try token("requester@acme.test", [.accessRequest])
        let approver = try token("approver@acme.test", [.accessApprove, .accessRequest])
        let browser = try acme.signedIn("requester@acme.test", in: node)
        // Read (and remembered) on the second node before anything is granted.
        #expect(try readsLiveGrants(requester, on: node) == 403)
        #expect(try readsLiveGrants(requester, on: node) == 403)
        #expect(try !browser.get("/t/acme/access").text.contains("Nothing waits for you."))

        // Approved on the first node: the second hears it (visitor_changed on access_grants) and
        // reads the token and the session again.
        let asked = try ask(requester, policy: policy, seconds: 600)
        let id = try #require(asked.body["id"] as? String)
        let grant = try #require((try approve(id, approver).body["grant"] as? [String: Any])?["id"] as? String)
        #expect(waitUntil(5) { (try? readsLiveGrants(requester, on: node)) == 200 })
        // The session on the second node holds the approver's part of the page.
        #expect(waitUntil(5) { (try? browser.get("/t/acme/access").text.contains("Nothing waits for you.")) == true })

        // Revoked on the first node: refused on the second at once, clock unmoved.
        let revoked = try send("POST", "/api/v1/access/grants/\(grant)/revoke?tenant=acme", token: approver, #"{"reason": "done"}"#)
        #expect(revoked.status == 200)
        #expect(waitUntil(5) { (try? readsLiveGrants(requester, on: node)) == 403 })
    }
}

extension AccessOpsTests {
    /// Two extensions asked side by side each fit the policy's maximum; approving both would not:
    /// the approval that applies the second is refused (409) and it keeps waiting, so parallel
    /// extensions never stack a grant beyond the maximum.
    @Test func extensionsAskedSideBySideNeverStackBeyondTheMaximum() throws {
        let requester = try token("requester@acme.test", [.accessRequest])
        let approver = try token("approver@acme.test", [.accessApprove, .accessRequest])
        let first = try #require(try ask(requester, policy: other, seconds: 300).body["id"] as? String)
        let grant = try #require((try approve(first, approver).body["grant"] as? [String: Any])?["id"] as? String)
        let one = try #require(try ask(requester, policy: other, seconds: 280, extending: grant).body["id"] as? String)
        let two = try #require(try ask(requester, policy: other, seconds: 280, extending: grant).body["id"] as? String)
        #expect(try approve(one, approver).status == 200)
        let refused = try approve(two, approver)
        #expect(refused.status == 409, "\(refused.body)")
        #expect("\(refused.body)".contains("maximum"), "\(refused.body)")
        #expect(try send("GET", "/api/v1/access/requests/\(two)?tenant=acme", token: requester).body["state"] as? String == "pending")
        let end = try #require(try send("GET", "/api/v1/access/grants/\(grant)?tenant=acme", token: requester).body["ends_at"] as? String)
        #expect(end == RFC3339.string(clock.now.addingTimeInterval(580)))
    }
}
