import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// What this node remembers of signed-in visitors is dropped by the changes that matter, made on
/// this node, before the answer that made them goes out; a stranger's POST drops nothing.
@Suite struct VisitorMemoryTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app)
    }

    /// How many notices this node's own work has handed to its caches.
    var localNotices: Int { app.app.database.localNotices.delivered.withLock { $0 } }

    @Test func aStrangersPostForgetsNobody() throws {
        let requester = try people.signedIn("requester@acme.test", in: app)
        #expect(try requester.get("/t/acme/requests").status == 200)
        let before = localNotices
        // Unauthenticated posts, to pages that exist and to one that does not: nothing changed, so
        // nothing is dropped (the caches used to be emptied after any POST).
        for path in ["/nowhere", "/t/acme/requests", "/sign-out", "/account/password"] {
            let answer = try app.send(
                "POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("a=b".utf8))
            #expect(answer.status >= 300, "\(path): \(answer.status)")
        }
        #expect(localNotices == before, "nothing was dropped")
        #expect(try requester.get("/t/acme/requests").status == 200)
    }

    @Test func aChangeMadeOnThisNodeIsForgottenBeforeItReturns() throws {
        let requester = try people.signedIn("requester@acme.test", in: app)
        #expect(try requester.get("/t/acme/requests").status == 200)
        let generation = try #require(app.app.visitors.generation())
        let before = localNotices
        // Through the node's own pool, as any handler would: by the time the call returns, this
        // node has dropped the person, without waiting for its LISTEN connection to hear of it.
        let changed = try app.app.database.inTenant(people.tenant) { tx in
            try tx.query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1", [people.id("requester@acme.test")]).affected
        }
        #expect(changed == 1)
        #expect(localNotices == before + 1, "one notice, for the one person")
        #expect(app.app.visitors.generation() != generation)
        // Work rolled back tells nobody.
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try app.app.database.inTenant(people.tenant) { tx in
                try tx.query("UPDATE memberships SET role = 'approver' WHERE user_id = $1", [people.id("requester@acme.test")])
                throw Abandon()
            }
        }
        #expect(localNotices == before + 1)
    }
}
