import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The activity list names people and groups from the fields that hold their ids, and only people
/// of the tenant (and staff): a customer who writes someone's id into a subject learns no name.
@Suite struct ActivityNamesTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    @Test func idsWrittenByACustomerStayText() throws {
        let globex = try People(app, slug: "globex")
        let stranger = globex.id("viewer@globex.test")
        let bearer = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        func call(_ method: String, _ path: String, _ body: String, _ extra: [(String, String)] = []) throws -> ClientResponse {
            try app.send(
                method, path, headers: [("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json")] + extra,
                body: Array(body.utf8))
        }
        let filed = try call("POST", "/api/v1/requests", #"{"subject": "Quota", "type": "question", "priority": "P4"}"#)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(filed.body)) as? [String: Any])?["id"] as? String)
        let changed = try call(
            "PATCH", "/api/v1/requests/\(id)", #"{"subject": "\#(stranger.postgresText)"}"#,
            [("If-Match", try #require(filed.header("ETag")))])
        #expect(changed.status == 200)
        let entries = try RequestActivity(database: app.app.database).entries(
            of: try #require(UUID(uuidString: id)), tenant: people.tenant,
            includeInternal: true)
        let text = entries.map(\.summary).joined(separator: "\n")
        #expect(text.contains(stranger.postgresText), "\(text)")
        #expect(!text.contains("viewer"), "no name of another tenant's person: \(text)")
    }

    @Test func assigneesAndGroupsAreNamed() {
        let staffID = UUID()
        let names = [staffID.postgresText: "Dana"]
        #expect(
            RequestActivity.describe(
                action: "request.update", before: ["assignee_id": ""], after: ["assignee_id": staffID.postgresText],
                names: names) == "changed assignee none → Dana")
        #expect(
            RequestActivity.describe(
                action: "request.update", before: ["subject": "a"], after: ["subject": staffID.postgresText],
                names: names) == "changed subject a → \(staffID.postgresText)")
    }
}
