import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Remembered list answers: served only while the tenant's requests are unchanged, dropped at
/// once by this node's own writes and, through PostgreSQL's notices, by anyone else's.
@Suite struct RequestListCacheTests {
    @Test func anAnswerBuiltBeforeAChangeIsNeverServed() {
        let cache = RequestListCache()
        let tenant = UUID(), other = UUID()
        #expect(cache.generation(of: tenant) == nil, "not listening: nothing is remembered")
        cache.keep([1], for: "k", tenant: tenant, generation: RequestListCache.Generation(tenant: 0, epoch: 0))
        #expect(cache.answer("k", tenant: tenant) == nil)
        cache.listening(true)
        let before = cache.generation(of: tenant)!
        cache.keep([1], for: "k", tenant: tenant, generation: before)
        #expect(cache.answer("k", tenant: tenant) == [1])
        #expect(cache.answer("k", tenant: other) == nil, "another tenant's key never matches")
        cache.changed(other)
        #expect(cache.answer("k", tenant: tenant) == [1], "another tenant's change leaves it")
        // A list read before a change and stored after it is refused.
        let raced = cache.generation(of: tenant)!
        cache.changed(tenant)
        cache.keep([2], for: "k", tenant: tenant, generation: raced)
        #expect(cache.answer("k", tenant: tenant) == nil)
        cache.keep([3], for: "k", tenant: tenant, generation: cache.generation(of: tenant)!)
        cache.heard(tenant.uuidString)
        #expect(cache.answer("k", tenant: tenant) == nil, "a notice drops it")
        cache.keep([4], for: "k", tenant: tenant, generation: cache.generation(of: tenant)!)
        cache.listening(false)
        #expect(cache.answer("k", tenant: tenant) == nil, "a lost connection drops everything")
    }

    @Test func withRememberingOffEveryAnswerIsBuilt() {
        let cache = RequestListCache(capacity: 0)
        let tenant = UUID()
        cache.listening(true)
        cache.keep([1], for: "k", tenant: tenant, generation: cache.generation(of: tenant)!)
        #expect(cache.answer("k", tenant: tenant) == nil)
    }

    @Test func writesHereAndElsewhereAreSeenAtOnce() throws {
        let app = try TestApp()
        let people = try People(app)
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        func list() throws -> String { try app.get("/api/v1/requests?limit=5", headers: headers).text }
        func file(_ subject: String) throws {
            _ = try app.send(
                "POST", "/api/v1/requests", headers: headers,
                body: Array(#"{"subject": "\#(subject)", "type": "question", "priority": "P4"}"#.utf8))
        }
        #expect(waitUntil(5) { app.app.requestLists.generation(of: people.tenant) != nil }, "the listener connects")
        try file("First")
        let first = try list()
        #expect(first.contains("First"))
        #expect(try list() == first)
        // This node's own write: the next read shows it, without waiting for any notice.
        try file("Second")
        #expect(try list().contains("Second"))
        // A change made elsewhere (here: SQL on another connection, as another node or a worker would).
        try app.database.connect().query("UPDATE requests SET subject = 'Renamed elsewhere' WHERE number = 1")
        #expect(waitUntil(5) { ((try? list()) ?? "").contains("Renamed elsewhere") })
    }

    @Test func theStaffQueueShowsEveryChangeAtOnce() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsWrite], lifetime: 3600, actor: .system
        ).token
        func file(_ subject: String) throws {
            _ = try app.send(
                "POST", "/api/v1/requests", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(#"{"subject": "\#(subject)", "type": "question", "priority": "P4"}"#.utf8))
        }
        #expect(waitUntil(5) { app.app.requestLists.generation(of: people.tenant) != nil })
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        try file("Before")
        let first = try cse.get("/staff/requests")
        #expect(first.text.contains("Before") && first.header("Cache-Control") == "no-store")
        try file("After")
        #expect(try cse.get("/staff/requests").text.contains("After"), "this node's write")
        try app.database.connect().query("UPDATE requests SET subject = 'Changed by a worker' WHERE number = 1")
        #expect(waitUntil(5) { ((try? cse.get("/staff/requests").text) ?? "").contains("Changed by a worker") }, "a notice")
        // Another person's session never gets this one's page (its form token is this session's).
        let other = try people.signedIn(
            "platform_engineer@staff.test", in: app,
            totp: try people.enableSecondFactor("platform_engineer@staff.test", in: app))
        let theirs = try cse.formToken(on: "/staff/requests")
        #expect(try !other.get("/staff/requests").text.contains(theirs))
    }
}
