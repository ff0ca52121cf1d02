import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Extending a grant under a business-hours policy, on a test clock standing on a Wednesday at
/// 16:00 UTC (the standard SLA calendar: Monday–Friday 09:00–17:00 UTC): the extended window runs
/// from the grant's current end to its new end, and is checked at asking (422) and again at the
/// approval that applies it (refused, the request still waiting) — another extension approved
/// meanwhile moves the end it starts from.
@Suite(.serialized) struct AccessExtensionHoursTests {
    let clock = SettableClock(RFC3339.date("2026-11-25T16:00:00Z")!)
    let app: TestApp
    let acme: People
    let policy: UUID

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme")
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let policy = AccessPolicy(
            id: UUID(), name: "Approver in office hours", kind: .role, role: "approver", requesterRoles: ["requester"],
            maxSeconds: 4 * 3600, customerApprovals: 1, businessHoursOnly: true)
        try store.save(policy, tenant: acme.tenant, actor: .system)
        self.policy = policy.id
    }

    func token(_ email: String, _ scopes: [Scope]) throws -> String {
        try app.app.tokens.create(user: acme.id(email), tenant: acme.tenant, name: "t", scopes: scopes, lifetime: 86400, actor: .system)
            .token
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: json.map { Array($0.utf8) })
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    func ask(_ token: String, seconds: Int, extending grant: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let extends = grant.map { #", "extends_grant_id": "\#($0)""# } ?? ""
        return try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: token,
            #"{"policy_id": "\#(policy)", "reason": "drain the queue", "duration_seconds": \#(seconds)\#(extends)}"#)
    }

    func approve(_ request: String, _ token: String) throws -> (status: Int, body: [String: Any]) {
        try send("POST", "/api/v1/access/requests/\(request)/approvals?tenant=acme", token: token, #"{"decision": "approve"}"#)
    }

    func grantEnd(_ grant: String, _ token: String) throws -> String? {
        try send("GET", "/api/v1/access/grants/\(grant)?tenant=acme", token: token).body["ends_at"] as? String
    }

    /// A moment as the API writes it.
    func at(_ text: String) -> String { RFC3339.string(RFC3339.date(text)!) }

    @Test func theExtendedWindowIsCheckedAtAskingAndAtApproval() throws {
        let requester = try token("requester@acme.test", [.accessRequest])
        let approver = try token("approver@acme.test", [.accessApprove])
        // 16:00–16:30, within business hours.
        let first = try #require(try ask(requester, seconds: 1800).body["id"] as? String)
        let grant = try #require((try approve(first, approver).body["grant"] as? [String: Any])?["id"] as? String)
        #expect(try grantEnd(grant, requester) == at("2026-11-25T16:30:00Z"))

        // 40 more minutes from 16:30 would run to 17:10 (from now, 16:40, it would not): refused at
        // asking, saying how much is left before 17:00.
        let tooLong = try ask(requester, seconds: 2400, extending: grant)
        #expect(tooLong.status == 422, "\(tooLong.body)")
        let error = try #require((tooLong.body["errors"] as? [[String: Any]])?.first)
        #expect(error["field"] as? String == "duration_seconds")
        let detail = try #require(error["detail"] as? String)
        #expect(detail.contains("they end at 17:00 Wed 25 Nov 2026"), "\(detail)")
        #expect(detail.contains("ending at 16:30") && detail.contains("at most 30 min") && detail.contains("17:10"), "\(detail)")

        // Two extensions of 20 minutes, each within business hours from 16:30 when asked.
        let a = try ask(requester, seconds: 1200, extending: grant)
        let b = try ask(requester, seconds: 1200, extending: grant)
        #expect(a.status == 201 && b.status == 201, "\(a.body) \(b.body)")
        let (ida, idb) = (try #require(a.body["id"] as? String), try #require(b.body["id"] as? String))
        clock.advance(by: 5 * 60)
        #expect(try approve(ida, approver).status == 200)
        #expect(try grantEnd(grant, requester) == at("2026-11-25T16:50:00Z"))
        // The second now starts from 16:50 and would end at 17:10: its approval is refused, the
        // grant's end stays, and the request keeps waiting.
        let refused = try approve(idb, approver)
        #expect(refused.status == 409, "\(refused.body)")
        let said = "\(refused.body)"
        #expect(said.contains("Approving now") && said.contains("they end at 17:00") && said.contains("at most 10 min"), "\(said)")
        #expect(try grantEnd(grant, requester) == at("2026-11-25T16:50:00Z"))
        let waiting = try send("GET", "/api/v1/access/requests/\(idb)?tenant=acme", token: requester)
        #expect(waiting.body["state"] as? String == "pending", "\(waiting.body)")
        let db = try app.database.connect()
        let approvals = try db.query("SELECT count(*) FROM access_approvals WHERE request_id = $1", [UUID(uuidString: idb)!])
        #expect(try approvals[0].require(0, as: Int64.self) == 0)

        // Ten minutes more ends exactly at 17:00: granted. From a grant ending at 17:00, outside
        // business hours, nothing more is.
        let last = try #require(try ask(requester, seconds: 600, extending: grant).body["id"] as? String)
        #expect(try approve(last, approver).status == 200)
        #expect(try grantEnd(grant, requester) == at("2026-11-25T17:00:00Z"))
        let outside = try ask(requester, seconds: 60, extending: grant)
        #expect(outside.status == 422, "\(outside.body)")
        let outsideError = try #require((outside.body["errors"] as? [[String: Any]])?.first)
        #expect(
            outsideError["field"] as? String == "extends_grant_id" && "\(outsideError)".contains("09:00 Thu 26 Nov 2026"), "\(outsideError)"
        )
    }
}
