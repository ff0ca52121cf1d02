import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// GET /api/v1/access/grants and /api/v1/access/requests a page at a time: more than one page holds
/// (grants written in two statements, as the access feature keeps them; requests made microseconds
/// apart), walked by `next_cursor` to the end, each once and in the list's order; a malformed cursor
/// is a problem.
@Suite(.serialized) struct AccessPaginationTests {
    let clock = SettableClock(Date(timeIntervalSince1970: 1_790_000_000))
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme")
    }

    func get(_ path: String, token: String) throws -> (status: Int, body: [String: Any]) {
        let response = try app.send("GET", path, headers: [("Authorization", "Bearer \(token)")], body: nil)
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    /// A policy under which requesters ask to be approvers for an hour, written as the table owner.
    func approverPolicy(named name: String, on owner: Connection) throws -> UUID {
        let policy = UUID()
        try owner.query(
            """
            INSERT INTO access_policies (tenant_id, id, name, kind, role, requester_roles, max_seconds)
            VALUES ($1, $2, $3, 'role', 'approver', '{requester}', 3600)
            """, [acme.tenant, policy, name])
        return policy
    }

    @Test func everyGrantPastTheFirstHundredIsReachedOnceByItsCursor() throws {
        let holder = acme.id("requester@acme.test")
        let owner = try app.database.connect()
        let policy = try approverPolicy(named: "many", on: owner)
        // 130 grants: 70 live (some ending at the same instant, so the id breaks ties) and 60 ended.
        try owner.query(
            """
            INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, role, reason, duration_seconds, lapse_at, state)
            SELECT $1, gen_random_uuid(), $2, $3, 'role', 'approver', 'n' || n, 3600, $4, 'approved' FROM generate_series(1, 130) n
            """, [acme.tenant, policy, holder, clock.now + 3600])
        try owner.query(
            """
            INSERT INTO access_grants (tenant_id, id, request_id, user_id, kind, role, starts_at, ends_at, state)
            SELECT r.tenant_id, gen_random_uuid(), r.id, r.requester_id, 'role', 'approver',
                   $2::timestamptz - interval '1 day', $2::timestamptz + (substring(r.reason, 2)::int - 58) / 3 * interval '1 minute',
                   CASE WHEN substring(r.reason, 2)::int > 60 THEN 'active' ELSE 'expired' END
            FROM access_requests r WHERE r.tenant_id = $1 AND r.policy_id = $3
            """, [acme.tenant, clock.now, policy])
        let token = try app.app.tokens.create(
            user: holder, tenant: acme.tenant, name: "t", scopes: [.accessRequest], lifetime: 3600, actor: .system
        ).token

        var seen: [String] = [], live: [Bool] = [], cursor: String? = nil, pages = 0
        repeat {
            let page = try get("/api/v1/access/grants?limit=40" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(page.status == 200, "\(page.body)")
            let items = page.body["items"] as? [[String: Any]] ?? []
            seen += items.compactMap { $0["id"] as? String }
            live += items.map { ($0["state"] as? String) == "active" }
            cursor = page.body["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 4)
        #expect(seen.count == 130 && Set(seen).count == 130)
        // Live ones first, then the ended ones.
        #expect(live == Array(repeating: true, count: 70) + Array(repeating: false, count: 60), "\(live)")

        // The default page is 50; the first hundred-and-first grant is no longer out of reach.
        let first = try get("/api/v1/access/grants", token: token)
        #expect((first.body["items"] as? [Any])?.count == 50 && first.body["next_cursor"] is String)

        let refused = try get("/api/v1/access/grants?cursor=not-a-cursor", token: token)
        #expect(refused.status == 422 && "\(refused.body)".contains("cursor"), "\(refused.body)")
        // A well-formed id naming no grant of the list is past its end, as the requests list reads one.
        let unknown = try get("/api/v1/access/grants?cursor=\(UUID().uuidString)", token: token)
        #expect(unknown.status == 200 && (unknown.body["items"] as? [Any])?.isEmpty == true && unknown.body["next_cursor"] is NSNull)
        #expect(try get("/api/v1/access/grants?limit=0", token: token).status == 422)
    }

    @Test func requestsMadeWithinOneMillisecondAreEachListedOnce() throws {
        let asker = acme.id("requester@acme.test")
        let owner = try app.database.connect()
        let policy = try approverPolicy(named: "busy", on: owner)
        // 45 requests 150 µs apart: a page's last one shares its millisecond with its neighbours.
        try owner.query(
            """
            INSERT INTO access_requests
                (tenant_id, id, policy_id, requester_id, kind, role, reason, duration_seconds, lapse_at, state, created_at)
            SELECT $1, gen_random_uuid(), $2, $3, 'role', 'approver', 'n' || n, 3600, $4::timestamptz + interval '1 hour', 'pending',
                   $4::timestamptz + n * interval '150 microseconds'
            FROM generate_series(1, 45) n
            """, [acme.tenant, policy, asker, clock.now])
        let token = try app.app.tokens.create(
            user: asker, tenant: acme.tenant, name: "r", scopes: [.accessRequest], lifetime: 3600, actor: .system
        ).token
        var reasons: [String] = [], cursor: String? = nil, pages = 0
        repeat {
            let page = try get("/api/v1/access/requests?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(page.status == 200, "\(page.body)")
            reasons += (page.body["items"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            cursor = page.body["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 20
        #expect(pages == 7)
        #expect(reasons == (1...45).reversed().map { "n\($0)" }, "\(reasons)")
        #expect(try get("/api/v1/access/requests?cursor=not-a-cursor", token: token).status == 422)
    }
}
