import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// Hostile text filed by a customer through the API, then shown to everyone who opens the request:
/// the server renders it and keeps serving. (A description of ~45,000 `>` once crashed the worker
/// thread rendering it, and with it the whole server, on every later view.)
@Suite struct HostileRequestTextTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func call(_ method: String, _ path: String, _ token: String, json: [String: Any]? = nil) throws -> ClientResponse {
        var headers = [("Authorization", "Bearer \(token)")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try app.send(method, path, headers: headers, body: try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) })
    }

    @Test func aRequestOfDeeplyNestedQuotesIsShownAndTheServerLives() throws {
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        let quotes = String(repeating: ">", count: 45_000) + " deep"
        let filed = try call(
            "POST", "/api/v1/requests", token,
            json: ["subject": "Quotes", "description": quotes, "type": "question", "priority": "P4"])
        #expect(filed.status == 201, "\(filed.text.prefix(300))")
        let brackets = String(repeating: "[", count: 25_000) + String(repeating: "](", count: 12_000)
        #expect(try call("POST", "/api/v1/requests/ACME-1/comments", token, json: ["body": brackets]).status == 201)

        // The API hands the text back as it was written.
        let read = try call("GET", "/api/v1/requests/ACME-1", token)
        #expect(read.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(read.body)) as? [String: Any])
        #expect(body["description"] as? String == quotes)

        // The page renders it, for the customer and for staff, and the server still answers afterwards.
        let customer = try people.signedIn("requester@acme.test", in: app)
        let page = try customer.get("/t/acme/requests/ACME-1")
        #expect(page.status == 200)
        #expect(page.text.contains(String(repeating: "<blockquote>", count: Markdown.maxQuoteDepth)))
        #expect(page.text.contains("&gt;&gt;&gt;"))
        #expect(page.text.contains("deep"))
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(try cse.get("/t/acme/requests/ACME-1").status == 200)
        #expect(try customer.get("/t/acme/requests/ACME-1").status == 200)
        #expect(try app.get("/healthz").status == 200)
    }
}
