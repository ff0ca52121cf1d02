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

    @Test func aStrangersPostForgetsNobody() throws {
        let requester = try people.signedIn("requester@acme.test", in: app)
        #expect(try requester.get("/t/acme/requests").status == 200)
        let before = try #require(app.app.visitors.generation(), "the listener is connected")
        // Unauthenticated posts, to a page that exists and to one that does not.
        for path in ["/nowhere", "/t/acme/requests", "/sign-out", "/account/password"] {
            let answer = try app.send("POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("a=b".utf8))
            #expect(answer.status >= 300, "\(path): \(answer.status)")
        }
        #expect(app.app.visitors.generation() == before, "nothing was dropped")
        #expect(try requester.get("/t/acme/requests").status == 200)
    }

    @Test func aChangeMadeOnThisNodeIsForgottenBeforeItReturns() throws {
        let requester = try people.signedIn("requester@acme.test", in: app)
        #expect(try requester.get("/t/acme/requests").status == 200)
        let before = try #require(app.app.visitors.generation())
        // Through the node's own pool, as any handler would: by the time the call returns, this
        // node has dropped the person, without waiting for its LISTEN connection to hear of it.
        let changed = try app.app.database.inTenant(people.tenant) { tx in
            try tx.query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1", [people.id("requester@acme.test")]).affected
        }
        #expect(changed == 1)
        #expect(app.app.visitors.generation() != before)
    }
}
