import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// An Idempotency-Key belongs to one caller, tenant, method and concrete path: the same key sent
/// for another request id or another tenant is a new request, never the first one's answer.
@Suite struct IdempotencyScopeTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, tenant: UUID?) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant, name: "t", scopes: [.requestsRead, .requestsWrite],
            lifetime: 3600, actor: .system
        ).token
    }

    func post(_ path: String, _ bearer: String, key: String, body: String) throws -> (status: Int, json: [String: Any]) {
        let response = try app.send(
            "POST", path,
            headers: [
                ("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ], body: Array(body.utf8))
        return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    func count(_ sql: String) throws -> Int { try app.database.connect().query(sql)[0].require(0, as: Int.self) }

    @Test func theSameKeyOnAnotherRequestIDIsANewComment() throws {
        let requester = try token("requester@acme.test", tenant: people.tenant)
        let first = try post(
            "/api/v1/requests", requester, key: "file-1", body: #"{"subject": "One", "type": "question", "priority": "P4"}"#)
        let second = try post(
            "/api/v1/requests", requester, key: "file-2", body: #"{"subject": "Two", "type": "question", "priority": "P4"}"#)
        let ids = try [first, second].map { try #require($0.json["id"] as? String) }
        // One key, one body, two different requests: each gets its comment.
        let body = #"{"body": "Any news?"}"#
        let onFirst = try post("/api/v1/requests/\(ids[0])/comments", requester, key: "comment", body: body)
        let onSecond = try post("/api/v1/requests/\(ids[1])/comments", requester, key: "comment", body: body)
        #expect(onFirst.status == 201 && onSecond.status == 201)
        #expect(onFirst.json["id"] as? String != onSecond.json["id"] as? String, "the second answer is not the first one replayed")
        #expect(try count("SELECT count(*) FROM request_comments") == 2)
        // The same path again is still a replay.
        let again = try post("/api/v1/requests/\(ids[0])/comments", requester, key: "comment", body: body)
        #expect(again.json["id"] as? String == onFirst.json["id"] as? String)
        #expect(try count("SELECT count(*) FROM request_comments") == 2)
    }

    @Test func aVeryLongPathIsAnAnswerNotAServerError() throws {
        let requester = try token("requester@acme.test", tenant: people.tenant)
        // The path is the client's to choose; it must not overflow the key's index.
        let long = "/api/v1/requests/" + String(repeating: "a", count: 8000) + "/comments"
        let answer = try post(long, requester, key: "long", body: #"{"body": "x"}"#)
        #expect(answer.status == 404, "\(answer.status) \(answer.json)")
        #expect(try post(long, requester, key: "long", body: #"{"body": "x"}"#).status == 404)
    }

    @Test func aStaffTokensKeyIsItsOwnInEachTenant() throws {
        _ = try People(app, slug: "globex")
        let staff = try token("cse@staff.test", tenant: nil)
        let body = #"{"subject": "Quota", "type": "question", "priority": "P4"}"#
        let acme = try post("/api/v1/requests?tenant=acme", staff, key: "same", body: body)
        let globex = try post("/api/v1/requests?tenant=globex", staff, key: "same", body: body)
        #expect(acme.status == 201 && globex.status == 201, "\(acme.json) \(globex.json)")
        #expect(acme.json["number"] as? String == "ACME-1")
        #expect(globex.json["number"] as? String == "GLOBEX-1", "filed in globex, not acme's answer replayed")
    }
}
