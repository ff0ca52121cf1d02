import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct TokenTests {
    /// Purser's time of day here: it stands still until a test moves it.
    let clock = SettableClock(Date())
    let app: TestApp
    let acme: UUID
    let ada: UUID

    init() throws {
        app = try TestApp(clock: clock)
        (acme, ada) = try Self.ada(in: app)
    }

    /// Tenant acme with Ada, an approver there.
    static func ada(in app: TestApp) throws -> (tenant: UUID, user: UUID) {
        let clock = app.app.world.clock
        let acme = try TenantStore(database: app.app.database, clock: clock).create(
            NewTenant(slug: "acme", name: "Acme"),
            actor: .system, reason: nil)
        let ada = try PersonStore(database: app.app.database, hasher: try PasswordHasher(), clock: clock).addMember(
            NewPerson(email: "ada@acme.test", name: "Ada"), tenant: acme, role: .approver, actor: .system, reason: nil)
        try app.database.connect().query("UPDATE users SET status = 'active' WHERE id = $1", [ada])
        return (acme, ada)
    }

    func token(_ scopes: [Scope] = [.requestsRead], lifetime: TimeInterval = 3600) throws -> (id: UUID, token: String, expiresAt: Date) {
        try app.app.tokens.create(user: ada, tenant: acme, name: "ci", scopes: scopes, lifetime: lifetime, actor: .system)
    }

    func me(_ authorization: String?, on app: TestApp? = nil) throws -> ClientResponse {
        try (app ?? self.app).get("/api/v1/me", headers: authorization.map { [("Authorization", $0)] } ?? [])
    }

    @Test func meDescribesTheCaller() throws {
        let created = try token([.requestsRead, .costsRead])
        #expect(created.token.hasPrefix("pur_"))
        let response = try me("Bearer \(created.token)")
        #expect(response.status == 200, "\(response.text)")
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect((body?["user"] as? [String: Any])?["email"] as? String == "ada@acme.test")
        #expect((body?["tenant"] as? [String: Any])?["role"] as? String == "approver")
        #expect((body?["tenant"] as? [String: Any])?["id"] as? String == acme.postgresText)
        #expect(body?["staff_role"] is NSNull)
        #expect((body?["token"] as? [String: Any])?["scopes"] as? [String] == ["requests:read", "costs:read"])
    }

    @Test func missingOrBadTokensAre401WithAChallenge() throws {
        let created = try token()
        let wrongSecret = String(created.token.dropLast(4)) + "AAAA"
        for header in [nil, "Basic YWRhOnB3", "Bearer nonsense", "Bearer \(wrongSecret)"] as [String?] {
            let response = try me(header)
            #expect(response.status == 401)
            #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(response.header("Content-Type") == "application/problem+json")
        }
    }

    @Test func anExpiredTokenIsRefused() throws {
        let created = try token(lifetime: 3600)
        #expect(try me("Bearer \(created.token)").status == 200)
        clock.advance(by: 3599)
        #expect(try me("Bearer \(created.token)").status == 200, "still within its lifetime (and cached)")
        clock.advance(by: 2)
        let expired = try me("Bearer \(created.token)")
        #expect(expired.status == 401)
        #expect(expired.text.contains("The token has expired."))
    }

    /// The live-clock check of expiry: a token of one second on the system clock, really waited out.
    @Test func anExpiredTokenIsRefusedOnTheLiveClock() throws {
        let live = try TestApp()
        let (tenant, user) = try Self.ada(in: live)
        let created = try live.app.tokens.create(
            user: user, tenant: tenant, name: "ci", scopes: [.requestsRead], lifetime: 1,
            actor: .system)
        #expect(try me("Bearer \(created.token)", on: live).status == 200)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try me("Bearer \(created.token)", on: live).status == 401)
    }

    @Test func aRevocationOnAnotherNodeTakesEffectAtOnce() throws {
        let created = try token()
        #expect(try me("Bearer \(created.token)").status == 200, "now cached on this node")
        // Another node: its own pool and store against the same database.
        let otherNode = TokenStore(database: Database(url: app.database.url, size: 1), clock: clock)
        try otherNode.revoke(created.id, actor: .system)
        #expect(waitUntil(2.5) { (try? me("Bearer \(created.token)").status) == 401 })
    }

    @Test func scopesAreCheckedAndNamed() throws {
        let created = try token([.requestsRead])
        let request = HTTPServer.Request(
            method: .get, path: "/api/v1/x",
            headers: HTTPServer.HTTPHeaders([("Authorization", "Bearer \(created.token)")]))
        #expect(try app.app.tokens.authenticate(request, requiring: .requestsRead).user == ada)
        let error = #expect(throws: MissingScope.self) { try app.app.tokens.authenticate(request, requiring: .costsRead) }
        #expect(error?.detail?.contains("costs:read") == true)
    }

    @Test func lastUseIsRecordedWithoutAWritePerRequest() throws {
        let created = try token()
        for _ in 0..<5 { #expect(try me("Bearer \(created.token)").status == 200) }
        let owner = try app.database.connect()
        let first = try owner.query("SELECT last_used_at FROM api_tokens WHERE id = $1", [created.id])[0].require(0, as: Date.self)
        for _ in 0..<5 { _ = try me("Bearer \(created.token)") }
        let later = try owner.query("SELECT last_used_at FROM api_tokens WHERE id = $1", [created.id])[0].require(0, as: Date.self)
        #expect(first == later, "within a minute, no further writes")
    }

    @Test func onlyTheHashOfTheSecretIsStored() throws {
        let created = try token()
        let stored = try app.database.connect().query("SELECT lookup, secret_hash FROM api_tokens WHERE id = $1", [created.id])[0]
        // pur_<12-character lookup>_<43-character secret>; the secret is base64url and may hold "_" itself.
        let secret = String(created.token.dropFirst(17))
        #expect(secret.count == 43)
        #expect(created.token.contains(try stored.require(0, as: String.self)))
        #expect(try stored.require(1, as: Bytea.self).bytes.count == 32)
        #expect(
            try !app.database.connect().query("SELECT secret_hash::text FROM api_tokens")[0].require(0, as: String.self).contains(secret))
    }
}
