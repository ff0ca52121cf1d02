import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The SLA report against a fixture whose every figure was worked out by hand (comments below):
/// the API for a customer and for staff, the CSV, and the page with its chart.
@Suite struct SLAReportTests {
    let app: TestApp
    let acme: People
    let globex: People

    init() throws { try self.init(clock: nil) }

    /// `clock`: nil for the live one.
    init(clock settable: SettableClock?) throws {
        app = try settable.map { try TestApp(clock: $0) } ?? TestApp()
        acme = try People(app, staff: true)
        globex = try People(app, slug: "globex")
        // Clocks as the engine stores them; `used` is the working time each counted.
        func clock(_ used: Double, _ state: String, breached: Bool = false) -> String {
            #"{"target": 1000, "used": \#(used), "state": "\#(state)", "since": 1795000000, "business": false\#(breached ? #", "breached_at": 1795000500"# : "")}"#
        }
        let fixture: [(People, String, String, String, String, String)] = [
            // people, filed, priority, type, first response, resolution
            (acme, "2026-11-03", "P1", "incident", clock(600, "stopped"), clock(7200, "stopped")),
            (acme, "2026-11-05", "P1", "incident", clock(1200, "stopped", breached: true), clock(20000, "stopped", breached: true)),
            (acme, "2026-11-10", "P2", "change", clock(1800, "stopped"), clock(900, "running")),
            (acme, "2026-11-20", "P2", "question", clock(100, "running"), clock(100, "running")),
            (acme, "2026-10-20", "P3", "question", clock(50, "stopped"), clock(60, "stopped")),  // before the period
            (globex, "2026-11-12", "P1", "incident", clock(300, "stopped"), clock(3600, "stopped")),
        ]
        let sql = try app.database.connect()
        for (number, entry) in fixture.enumerated() {
            let (people, filed, priority, type, first, resolution) = entry
            let id = UUID.v7(at: try #require(RFC3339.date(filed + "T10:00:00Z")))
            try sql.query(
                """
                INSERT INTO requests (tenant_id, id, number, subject, type, priority, state, requester_id, created_at, sla)
                VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8::timestamptz, $9::jsonb)
                """,
                [
                    people.tenant, id, number + 1, "Request \(number + 1)", type, priority,
                    people.id("requester@\(people.tenant == acme.tenant ? "acme" : "globex").test"), filed + "T10:00:00Z",
                    #"{"first_response": \#(first), "resolution": \#(resolution)}"#,
                ])
            if number == 1 {
                for clock in ["first_response", "resolution"] {
                    try sql.query(
                        """
                        INSERT INTO sla_events (tenant_id, id, request_id, clock, kind, due_at) VALUES ($1, $2, $3, $4, 'breach', '2026-11-05T11:00:00Z')
                        """, [people.tenant, UUID.v7(at: try #require(RFC3339.date("2026-11-05T11:00:00Z"))), id, clock])
                }
            }
        }
    }

    func report(_ token: String, _ query: String) throws -> [String: Any] {
        let response = try app.get("/api/v1/reports/sla?" + query, headers: [("Authorization", "Bearer \(token)")])
        #expect(response.status == 200, "\(response.text)")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func figures(_ object: Any?, _ clock: String) -> [String: Any] { ((object as? [String: Any])?[clock] as? [String: Any]) ?? [:] }

    func group(_ report: [String: Any], _ key: String) -> [String: Any] {
        ((report["groups"] as? [[String: Any]]) ?? []).first { $0["key"] as? String == key } ?? [:]
    }

    @Test func staffSeeEveryTenantByPriorityWithTheHandWorkedFigures() throws {
        let token = try app.app.tokens.create(
            user: acme.id("cse@staff.test"), tenant: nil, name: "t", scopes: [.reportsRead],
            lifetime: 3600, actor: .system
        ).token
        let byPriority = try report(token, "from=2026-11-01&to=2026-11-30&group_by=priority")
        // P1 first response: met 600 (acme) and 300 (globex), missed 1200 → 2 of 3 = 66.7 %;
        // median of 300, 600, 1200 = 600; p90 = 600 + 0.8 × (1200 − 600) = 1080.
        let p1 = group(byPriority, "P1")
        #expect(figures(p1, "first_response")["met"] as? Int == 2)
        #expect(figures(p1, "first_response")["missed"] as? Int == 1)
        #expect(figures(p1, "first_response")["met_percent"] as? Double == 66.7)
        #expect(figures(p1, "first_response")["p50_seconds"] as? Double == 600)
        #expect(figures(p1, "first_response")["p90_seconds"] as? Double == 1080)
        // P1 resolution: 3600, 7200 met, 20000 missed; p90 = 7200 + 0.8 × 12800 = 17440.
        #expect(figures(p1, "resolution")["p50_seconds"] as? Double == 7200)
        #expect(figures(p1, "resolution")["p90_seconds"] as? Double == 17440)
        // P2: one first response met, one still running; both resolutions running, so no verdict.
        let p2 = group(byPriority, "P2")
        #expect(figures(p2, "first_response")["met_percent"] as? Double == 100)
        #expect(figures(p2, "first_response")["open"] as? Int == 1)
        #expect(figures(p2, "resolution")["open"] as? Int == 2)
        #expect(figures(p2, "resolution")["met_percent"] is NSNull)
        #expect(group(byPriority, "P3").isEmpty, "filed before the period")
        // Totals: first response 3 met, 1 missed, 1 open = 75 %; median of 300, 600, 1200, 1800 = 900;
        // p90 = 1200 + 0.7 × 600 = 1620.
        let totals = byPriority["totals"]
        #expect(figures(totals, "first_response")["met_percent"] as? Double == 75)
        #expect(figures(totals, "first_response")["p50_seconds"] as? Double == 900)
        #expect(figures(totals, "first_response")["p90_seconds"] as? Double == 1620)
        #expect(figures(totals, "resolution")["met_percent"] as? Double == 66.7)
        let breaches = try #require(byPriority["breaches"] as? [[String: Any]])
        #expect(breaches.count == 2 && breaches.allSatisfy { $0["number"] as? String == "ACME-2" })

        let byTenant = try report(token, "from=2026-11-01&to=2026-11-30&group_by=tenant")
        #expect(figures(group(byTenant, "acme"), "first_response")["met_percent"] as? Double == 66.7, "met 1 and 3, missed 2")
        #expect(figures(group(byTenant, "globex"), "first_response")["met_percent"] as? Double == 100)
        let byMonth = try report(token, "from=2026-10-01&to=2026-11-30&group_by=period&period=month")
        #expect(((byMonth["groups"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String } == ["2026-10-01", "2026-11-01"])
        let bad = try app.get("/api/v1/reports/sla?from=yesterday&group_by=colour", headers: [("Authorization", "Bearer \(token)")])
        #expect(bad.status == 422)
        // An empty value is not one of the enumeration either (a page's form reads it as the default).
        for query in ["period=", "group_by=", "group_by=&period="] {
            #expect(try app.get("/api/v1/reports/sla?" + query, headers: [("Authorization", "Bearer \(token)")]).status == 422, "\(query)")
        }
    }

    @Test func aCustomerSeesOnlyTheirTenantAndTheCSVAndPageAgree() throws {
        let token = try app.app.tokens.create(
            user: acme.id("viewer@acme.test"), tenant: acme.tenant, name: "t", scopes: [.reportsRead],
            lifetime: 3600, actor: .system
        ).token
        let mine = try report(token, "from=2026-11-01&to=2026-11-30")
        // Acme's P1 first response: 600 met, 1200 missed → 50 %; median 900; p90 = 600 + 0.9 × 600 = 1140.
        let p1 = group(mine, "P1")
        #expect(figures(p1, "first_response")["met_percent"] as? Double == 50)
        #expect(figures(p1, "first_response")["p50_seconds"] as? Double == 900)
        #expect(figures(p1, "first_response")["p90_seconds"] as? Double == 1140)
        let theirs = try app.get("/api/v1/reports/sla?tenant=globex", headers: [("Authorization", "Bearer \(token)")])
        #expect(theirs.status == 404, "a customer token naming another tenant")

        let viewer = try acme.signedIn("viewer@acme.test", in: app)
        let csv = try viewer.get("/t/acme/reports/sla.csv?from=2026-11-01&to=2026-11-30")
        #expect(csv.status == 200 && csv.header("Content-Disposition") == "attachment; filename=\"sla-acme.csv\"")
        #expect(csv.text.contains("\"P1\",\"first_response\",\"1\",\"1\",\"0\",\"50.0\",\"900\",\"1140\"\r\n"))
        #expect(csv.text.contains("\"all\",\"resolution\",\"1\",\"1\",\"2\",\"50.0\","))
        let page = try viewer.get("/t/acme/reports/sla?from=2026-11-01&to=2026-11-30")
        #expect(page.status == 200)
        #expect(page.text.contains("<svg") && page.text.contains("P1: First response 50.0 %, Resolution 50.0 %"))
        #expect(page.text.contains("ACME-2") && !page.text.contains("GLOBEX"))
        #expect(try viewer.get("/t/acme/reports/sla?from=2026-13-01").status == 422)
    }
}

/// The report's default period, the 30 days up to today, is counted from Purser's clock.
@Suite struct SLAReportPeriodTests {
    let clock: SettableClock
    let fixture: SLAReportTests

    init() throws {
        clock = SettableClock(try #require(RFC3339.date("2026-11-08T12:00:00Z")))
        fixture = try SLAReportTests(clock: clock)
    }

    @Test func theDefaultPeriodEndsOnTheClocksDay() throws {
        let token = try fixture.app.app.tokens.create(
            user: fixture.acme.id("cse@staff.test"), tenant: nil, name: "t",
            scopes: [.reportsRead], lifetime: 30 * 86400, actor: .system
        ).token
        func keys(_ report: [String: Any]) -> [String] {
            ((report["groups"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
        }
        // 10 October to 8 November: the P3 of 20 October and the P1s of 3 and 5 November.
        let early = try fixture.report(token, "")
        #expect(early["from"] as? String == "2026-10-10" && early["to"] as? String == "2026-11-08")
        #expect(keys(early) == ["P1", "P3"])
        #expect(fixture.figures(fixture.group(early, "P1"), "first_response")["missed"] as? Int == 1)
        // Thirteen days on: 23 October to 21 November, every request of November and none of October.
        clock.advance(by: 13 * 86400)
        let later = try fixture.report(token, "")
        #expect(later["from"] as? String == "2026-10-23" && later["to"] as? String == "2026-11-21")
        #expect(keys(later) == ["P1", "P2"])
        #expect(fixture.figures(fixture.group(later, "P1"), "first_response")["met"] as? Int == 2)
    }
}
