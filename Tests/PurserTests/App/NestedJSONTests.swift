import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// JSON bodies nested as deep as a 1 MiB body allows (500,000 arrays, or 166,666 objects), sent to the API: Foundation's parsers (JSONSerialization for the
/// unknown-field check, JSONDecoder for the value, both in Request.decode) refuse nesting beyond 512
/// levels before their recursion can exhaust a 1 MiB worker stack, so the answer is a 400 and the
/// server lives. (Measured on this toolchain; this test keeps it so.)
@Suite struct NestedJSONTests {
    @Test(arguments: [("[", "]"), ("{\"a\":", "}")])
    func aBodyNestedAsDeepAsTheBodyLimitAllowsIsA400(_ opening: String, _ closing: String) throws {
        let app = try TestApp()
        let people = try People(app)
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        let levels = 1_000_000 / (opening.utf8.count + closing.utf8.count)
        let body =
            #"{"subject": "Deep", "type": "question", "priority": "P4", "description": "#
            + String(repeating: opening, count: levels) + "1" + String(repeating: closing, count: levels) + "}"
        #expect(body.utf8.count < 1 << 20)
        let response = try app.send(
            "POST", "/api/v1/requests",
            headers: [
                ("Authorization", "Bearer \(token)"),
                ("Content-Type", "application/json"),
            ],
            body: Array(body.utf8))
        #expect(response.status == 400, "\(response.text.prefix(300))")
        #expect(response.text.contains("not valid JSON"))
        #expect(try app.get("/healthz").status == 200)
    }
}
