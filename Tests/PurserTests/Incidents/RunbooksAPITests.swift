// The API beside the runbook, escalation and weekly report pages, over the socket: a tenant admin
// writes, changes and removes runbooks and sets the escalation levels; a viewer reads them and is
// refused writing; the weekly archive and one week read as JSON and as CSV with the page's figures.
import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

@Suite(.serialized) struct RunbooksAPITests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, scopes: [Scope]) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: people.tenant, name: "t", scopes: scopes, lifetime: 3600, actor: .system
        ).token
    }

    func call(_ method: String, _ path: String, _ token: String, body: String? = nil, headers: [(String, String)] = []) throws -> (
        status: Int, json: [String: Any], response: ClientResponse
    ) {
        let response = try app.send(
            method, path,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("Idempotency-Key", UUID().uuidString)]
                + headers.map { (name: $0.0, value: $0.1) },
            body: body.map { Array($0.utf8) })
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:], response)
    }

    @Test func runbooksAndEscalationByToken() throws {
        let admin = try token("tenant_admin@acme.test", scopes: [.incidentsRead, .incidentsWrite])
        let viewer = try token("viewer@acme.test", scopes: [.incidentsRead])

        let made = try call(
            "POST", "/api/v1/runbooks", admin,
            body: #"{"match": "alertname", "value": "GPUMemoryHigh", "title": "GPU memory", "body": "1. Check `nvidia-smi`."}"#)
        #expect(made.status == 201)
        let location = try #require(made.response.header("Location"))
        let etag = try #require(made.response.header("ETag"))
        #expect(made.json["match"] as? String == "alertname" && made.json["value"] as? String == "GPUMemoryHigh")
        // One per match: a second is a conflict; a viewer reads (a viewer's token cannot carry incidents:write).
        let again = try call(
            "POST", "/api/v1/runbooks", admin, body: #"{"match": "alertname", "value": "GPUMemoryHigh", "title": "x", "body": "y"}"#)
        #expect(again.status == 409)
        #expect(
            try call("POST", "/api/v1/runbooks", viewer, body: #"{"match": "service", "value": "x", "title": "x", "body": "y"}"#)
                .status == 403)
        #expect(try call("GET", location, viewer).json["body"] as? String == "1. Check `nvidia-smi`.")
        #expect((try call("GET", "/api/v1/runbooks", viewer).json["items"] as? [[String: Any]])?.count == 1)

        // The page shows what the API wrote.
        let page = try people.signedIn("viewer@acme.test", in: app).get("/t/acme/runbooks")
        #expect(String(decoding: page.body, as: UTF8.self).contains("GPU memory"))

        // Changes name the version they read; a stale one is refused.
        let changed = try call("PATCH", location, admin, body: #"{"body": "2. Restart the pod."}"#, headers: [("If-Match", etag)])
        #expect(changed.status == 200 && changed.json["title"] as? String == "GPU memory")
        #expect(try call("PATCH", location, admin, body: #"{"title": "late"}"#, headers: [("If-Match", etag)]).status == 412)
        #expect(try call("PATCH", location, admin, body: #"{"body": "   "}"#).status == 422)
        #expect(try call("DELETE", location, viewer).status == 403)
        #expect(try call("DELETE", location, admin).status == 204)
        #expect(try call("GET", location, admin).status == 404)

        // Escalation: levels of members and waits; someone who is not a member is refused.
        let empty = try call("GET", "/api/v1/escalation-policies", viewer)
        #expect(empty.status == 200 && (empty.json["levels"] as? [Any])?.isEmpty == true)
        let cse = people.id("cse@staff.test").postgresText, owner = people.id("tenant_admin@acme.test").postgresText
        let set = try call(
            "POST", "/api/v1/escalation-policies", admin,
            body:
                #"{"levels": [{"after_minutes": 0, "people": ["\#(owner)"], "channels": []}, {"after_minutes": 15, "people": ["\#(cse)"], "channels": []}]}"#
        )
        #expect(set.status == 200)
        let levels = try #require(try call("GET", "/api/v1/escalation-policies", viewer).json["levels"] as? [[String: Any]])
        #expect(levels.count == 2 && levels[1]["after_minutes"] as? Int == 15 && levels[1]["people"] as? [String] == [cse])
        let stranger = try call(
            "POST", "/api/v1/escalation-policies", admin,
            body: #"{"levels": [{"after_minutes": 0, "people": ["\#(UUID().uuidString.lowercased())"], "channels": []}]}"#)
        #expect(stranger.status == 422 && "\(stranger.json)".contains("people_0"))
        #expect(try call("POST", "/api/v1/escalation-policies", viewer, body: #"{"levels": []}"#).status == 403)
    }

    @Test func weeklyReportsByTokenAndAsCSV() throws {
        let reader = try token("viewer@acme.test", scopes: [.reportsRead])
        let now = app.app.world.now
        let first = try WeeklyReportJob.run(app.app.database, tenant: people.tenant, now: now, publicURL: nil)
        let second = try WeeklyReportJob.run(
            app.app.database, tenant: people.tenant, now: now.addingTimeInterval(7 * 86400), publicURL: nil)

        let page = try call("GET", "/api/v1/reports/weekly?limit=1", reader)
        let items = try #require(page.json["items"] as? [[String: Any]])
        #expect(items.count == 1 && items[0]["id"] as? String == second.id.postgresText)
        #expect(items[0]["week_start"] as? String == second.report.weekStart)
        let cursor = try #require(page.json["next_cursor"] as? String)
        let rest = try call("GET", "/api/v1/reports/weekly?limit=1&cursor=\(cursor)", reader)
        #expect((rest.json["items"] as? [[String: Any]])?.first?["id"] as? String == first.id.postgresText)
        #expect(rest.json["next_cursor"] is NSNull)

        let one = try call("GET", "/api/v1/reports/weekly/\(first.id.postgresText)", reader)
        #expect(one.status == 200 && one.json["week_start"] as? String == first.report.weekStart)
        #expect((one.json["usage"] as? [String: Any])?["requests"] as? Int == Int(first.report.usage.requests))
        #expect(try call("GET", "/api/v1/reports/weekly/\(UUID().uuidString.lowercased())", reader).status == 404)

        let viewer = try people.signedIn("viewer@acme.test", in: app)
        let html = String(decoding: try viewer.get("/t/acme/reports/weekly/\(first.id.postgresText)").body, as: UTF8.self)
        let csvPath = "/t/acme/reports/weekly/\(first.id.postgresText)/weekly-report.csv"
        #expect(html.contains(csvPath))
        let csv = try viewer.get(csvPath)
        let text = String(decoding: csv.body, as: UTF8.self)
        #expect(csv.status == 200 && csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(text.hasPrefix(#""section","week_start""#))
        #expect(text.contains(#""usage","\#(first.report.weekStart)","\#(first.report.weekEnd)","\#(first.report.currency)","requests","#))
    }
}
