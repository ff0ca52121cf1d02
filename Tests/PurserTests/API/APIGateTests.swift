import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// What every API route goes through: scopes, staff tokens naming a tenant, rate limits shared
/// by nodes (refilled as time passes), and Idempotency-Key (kept for a day).
@Suite struct APIGateTests {
    /// Purser's time of day here: it stands still until a test moves it.
    let clock = SettableClock(Date())
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp(clock: clock)
        people = try People(app, staff: true)
    }

    func token(_ email: String, _ scopes: [Scope], tenant: Bool = true, lifetime: TimeInterval = 3600) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant ? people.tenant : nil, name: "t", scopes: scopes,
            lifetime: lifetime, actor: .system
        ).token
    }

    func me(_ bearer: String, on node: TestApp? = nil) throws -> ClientResponse {
        try (node ?? app).get("/api/v1/me", headers: [("Authorization", "Bearer \(bearer)")])
    }

    /// A POST creating a child token of `bearer`'s under Idempotency-Key `key`.
    func createToken(_ bearer: String, key: String, _ body: [UInt8]) throws -> ClientResponse {
        try app.send(
            "POST", "/api/v1/tokens",
            headers: [
                ("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ], body: body)
    }

    func json(_ response: ClientResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    @Test func aMissingScopeIsA403NamingIt() throws {
        let bearer = try token("requester@acme.test", [.requestsRead])
        let response = try app.send(
            "POST", "/api/v1/tokens",
            headers: [
                ("Authorization", "Bearer \(bearer)"),
                ("Content-Type", "application/json"),
            ],
            body: Array(#"{"name":"wider","scopes":["requests:write"],"expires_in_days":1}"#.utf8))
        #expect(response.status == 403)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(json(response)["detail"] as? String == "This token lacks the scope requests:write.")
        let denial = try app.database.connect().query(
            "SELECT after->>'lacking', actor_kind FROM audit_events WHERE action = 'access.denied'")
        #expect(try denial.first?.require(0, as: String.self) == "requests:write")
    }

    @Test func aStaffTokenNamesItsTenant() throws {
        let staff = try token("cse@staff.test", [.requestsRead], tenant: false)
        let plain = json(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(staff)")]))
        #expect(plain["tenant"] is NSNull)
        #expect(plain["staff_role"] as? String == "cse")
        let named = json(try app.get("/api/v1/me?tenant=acme", headers: [("Authorization", "Bearer \(staff)")]))
        #expect((named["tenant"] as? [String: Any])?["id"] as? String == people.tenant.postgresText)
        #expect(try app.get("/api/v1/me?tenant=nowhere", headers: [("Authorization", "Bearer \(staff)")]).status == 404)
        // A customer token cannot name another tenant: it is not found from there.
        _ = try People(app, slug: "globex")
        let customer = try token("viewer@acme.test", [.requestsRead])
        #expect(try app.get("/api/v1/me?tenant=globex", headers: [("Authorization", "Bearer \(customer)")]).status == 404)
        #expect(try app.get("/api/v1/me?tenant=acme", headers: [("Authorization", "Bearer \(customer)")]).status == 200)
    }

    @Test func rateLimitsAnswer429WithHeadersAndHoldAcrossNodes() throws {
        // A plan of 10 requests a minute; two nodes share one database.
        try app.database.connect().query("UPDATE plans SET api_requests_per_minute = 10, tenant_requests_per_minute = 100")
        let second = try TestApp(database: app.database, clock: clock)
        let bearer = try token("viewer@acme.test", [.requestsRead])
        var statuses: [Int] = []
        var last: ClientResponse?
        for index in 0..<14 {
            let node = index % 2 == 0 ? app : second
            let response = try node.get("/api/v1/me", headers: [("Authorization", "Bearer \(bearer)")])
            statuses.append(response.status)
            if response.status == 200 {
                #expect(response.header("RateLimit-Limit") == "10")
                #expect(response.header("RateLimit-Remaining").flatMap(Int.init) != nil)
            }
            last = response
        }
        #expect(statuses.filter { $0 == 200 }.count <= 10, "never more than the limit across both nodes: \(statuses)")
        #expect(statuses.filter { $0 == 200 }.count >= 8, "at most one lease per node lost: \(statuses)")
        let refused = try #require(last)
        #expect(refused.status == 429)
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(Int(refused.header("Retry-After") ?? "").map { (1...60).contains($0) } == true)
        #expect(refused.header("RateLimit-Remaining") == "0")
        #expect(refused.header("RateLimit-Reset") != nil)
        // Another token of the same tenant has a bucket of its own.
        #expect(
            try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(try token("approver@acme.test", [.requestsRead]))")])
                .status == 200)
    }

    @Test func aBucketRefillsAsTimePasses() throws {
        // Ten requests a minute: one more every six seconds.
        try app.database.connect().query("UPDATE plans SET api_requests_per_minute = 10, tenant_requests_per_minute = 100")
        let bearer = try token("viewer@acme.test", [.requestsRead], lifetime: 86400)
        var ok = 0
        while try me(bearer).status == 200 { ok += 1 }
        #expect(ok == 10)
        let refused = try me(bearer)
        #expect(refused.status == 429)
        #expect(refused.header("Retry-After") == "6")
        clock.advance(by: 3)
        #expect(try me(bearer).status == 429, "half a token is none")
        clock.advance(by: 4)
        #expect(try me(bearer).status == 200)
        #expect(try me(bearer).status == 429)
        // A quiet minute fills the bucket again, never beyond its size.
        clock.advance(by: 3600)
        ok = 0
        while try me(bearer).status == 200 { ok += 1 }
        #expect(ok == 10)
    }

    /// The live-clock check of refilling: a bucket of one request a second, emptied, really waited on.
    @Test func aBucketRefillsOnTheLiveClock() throws {
        let live = try TestApp()
        let customers = try People(live)
        try live.database.connect().query("UPDATE plans SET api_requests_per_minute = 60, tenant_requests_per_minute = 600")
        let bearer = try live.app.tokens.create(
            user: customers.id("viewer@acme.test"), tenant: customers.tenant, name: "t",
            scopes: [.requestsRead], lifetime: 3600, actor: .system
        ).token
        #expect(try me(bearer, on: live).status == 200)
        try live.database.connect().query("UPDATE rate_limit_buckets SET tokens = 0, updated_at = now() WHERE key LIKE 'token:%'")
        let refused = try me(bearer, on: live)
        #expect(refused.status == 429)
        #expect(refused.header("Retry-After") == "1")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try me(bearer, on: live).status == 200)
    }

    @Test func theTenantsBucketIsSharedByItsTokens() throws {
        try app.database.connect().query("UPDATE plans SET api_requests_per_minute = 100, tenant_requests_per_minute = 6")
        let tokens = try ["viewer@acme.test", "requester@acme.test", "approver@acme.test"].map { try token($0, [.requestsRead]) }
        var ok = 0
        for round in 0..<4 {
            for bearer in tokens {
                if try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(bearer)")]).status == 200 { ok += 1 }
                _ = round
            }
        }
        #expect(ok == 6)
    }

    @Test func idempotencyKeysReplayRefuseAndWait() throws {
        let bearer = try token("requester@acme.test", [.requestsRead, .requestsWrite])
        let body = Array(#"{"name":"child","scopes":["requests:read"],"expires_in_days":7}"#.utf8)
        func post(_ key: String, _ body: [UInt8]) throws -> ClientResponse {
            try app.send(
                "POST", "/api/v1/tokens",
                headers: [
                    ("Authorization", "Bearer \(bearer)"),
                    ("Content-Type", "application/json"), ("Idempotency-Key", key),
                ],
                body: body)
        }
        let first = try post("key-1", body)
        #expect(first.status == 201)
        let replay = try post("key-1", body)
        #expect(replay.status == 201)
        #expect(replay.body == first.body, "the same token, not a second one")
        #expect(replay.header("Idempotent-Replayed") == "true")
        #expect(try app.database.connect().query("SELECT count(*) FROM api_tokens")[0].require(0, as: Int.self) == 2)
        let other = try post("key-1", Array(#"{"name":"other","scopes":["requests:read"],"expires_in_days":7}"#.utf8))
        #expect(other.status == 422)
        // A first request still running (its row has no answer yet): 409.
        let tokenID = try app.database.connect().query("SELECT id FROM api_tokens WHERE name = 't'")[0].require(0, as: UUID.self)
        try app.database.connect().query(
            """
            INSERT INTO idempotency_keys (owner, route, key, request_hash) VALUES ($1, 'POST /api/v1/tokens', 'key-2', sha256($2::bytea))
            """, [IdempotencyStore.owner(token: tokenID, tenant: people.tenant), Bytea(body)])
        #expect(try post("key-2", body).status == 409)
        #expect(try post(String(repeating: "k", count: 300), body).status == 400)
        // Without a key, two posts make two tokens.
        let plain = {
            try app.send(
                "POST", "/api/v1/tokens",
                headers: [
                    ("Authorization", "Bearer \(bearer)"),
                    ("Content-Type", "application/json"),
                ], body: body)
        }
        #expect(try plain().status == 201 && plain().status == 201)
    }

    @Test func idempotencyKeysAreKeptForADayAndAnAbandonedFirstAttemptForFiveMinutes() throws {
        let bearer = try token("requester@acme.test", [.requestsRead, .requestsWrite], lifetime: 3 * 86400)
        let body = Array(#"{"name":"child","scopes":["requests:read"],"expires_in_days":7}"#.utf8)
        let other = Array(#"{"name":"other","scopes":["requests:read"],"expires_in_days":7}"#.utf8)
        let first = try createToken(bearer, key: "key-1", body)
        #expect(first.status == 201)
        clock.advance(by: 86400 - 60)
        #expect(try createToken(bearer, key: "key-1", body).header("Idempotent-Replayed") == "true", "kept all day")
        #expect(try createToken(bearer, key: "key-1", other).status == 422)
        clock.advance(by: 120)
        let later = try createToken(bearer, key: "key-1", other)
        #expect(later.status == 201, "a day on, the key is free for a new request")
        #expect(later.header("Idempotent-Replayed") == nil)
        // A first attempt that never answered (its node died) holds its key for five minutes.
        let tokenID = try app.database.connect().query("SELECT id FROM api_tokens WHERE name = 't'")[0].require(0, as: UUID.self)
        try app.database.connect().query(
            """
            INSERT INTO idempotency_keys (owner, route, key, request_hash, created_at)
            VALUES ($1, 'POST /api/v1/tokens', 'key-2', sha256($2::bytea), $3)
            """, [IdempotencyStore.owner(token: tokenID, tenant: people.tenant), Bytea(body), clock.now])
        #expect(try createToken(bearer, key: "key-2", body).status == 409)
        clock.advance(by: 240)
        #expect(try createToken(bearer, key: "key-2", body).status == 409)
        clock.advance(by: 120)
        #expect(try createToken(bearer, key: "key-2", body).status == 201)
    }

    @Test func expiredAndRevokedTokensAre401() throws {
        let created = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead], lifetime: 3600, actor: .system)
        #expect(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(created.token)")]).status == 200)
        clock.advance(by: 3660)
        let expired = try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(created.token)")])
        #expect(expired.status == 401)
        #expect(json(expired)["detail"] as? String == "The token has expired.")
    }

    @Test func tokensAPIListsAndRevokesOnlyTheOwnersTokens() throws {
        let mine = try token("requester@acme.test", [.requestsRead])
        let theirs = try app.app.tokens.create(
            user: people.id("viewer@acme.test"), tenant: people.tenant, name: "theirs",
            scopes: [.requestsRead], lifetime: 3600, actor: .system)
        let list = json(try app.get("/api/v1/tokens", headers: [("Authorization", "Bearer \(mine)")]))
        #expect((list["items"] as? [[String: Any]])?.count == 1)
        let refused = try app.send("DELETE", "/api/v1/tokens/\(theirs.id.postgresText)", headers: [("Authorization", "Bearer \(mine)")])
        #expect(refused.status == 404)
        #expect(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(theirs.token)")]).status == 200)
    }
}
