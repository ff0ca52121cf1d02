import Foundation
import HTTPClient
import HTTPServerTesting
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The weekly report against a fixture worked out by hand, for acme in New York (EST, UTC−5, all
/// of November after 1 November). Weeks: W0 = 9–15 Nov, W1 = 16–22 Nov (16 Nov 05:00 UTC to
/// 23 Nov 05:00 UTC), W2 = 23–29 Nov.
/// - usage (daily rollups): W0 100 requests, 1,600 tokens, 2.00 USD; W1 250, 4,400 (input 2,800 +
///   cached 500 + output 1,100), 3.00 USD → +150.0 %, +175.0 %, +50.0 %; W2 125, 1,100, 1.50 USD →
///   −50.0 %, −75.0 %, −50.0 %.
/// - the endpoint "chat", probed every 300 s through W1: 2,016 probes, 12 down (18 Nov 10:00–11:00
///   UTC) → uptime 2,004 ÷ 2,016 = 99.405 % against 99.5 % (missed), error rate 12 ÷ 2,016 = 0.595 %;
///   one probe an hour (167 of the 2,004 up, 8.3 %) took 500 ms (TTFT 250 ms), the rest 100 ms (TTFT
///   50 ms) → p95 latency 500 ms against 400 ms (missed), p95 TTFT 250 ms against 300 ms (met).
/// - incidents: one opened 18 Nov 10:02 UTC and resolved 11:32 UTC (1 h 30 min); one of W0 is left out.
/// - SLA clocks of requests filed in W1: first response met 1, missed 1, running 1 → 50.0 %;
///   resolution met 2, missed 1 → 66.7 %; a request of W0 is left out.
/// Run by the schedule at 09:00 Monday New York time (14:00 UTC), shown, archived and mailed.
@Suite struct WeeklyReportTests {
    static func at(_ text: String) -> Date { RFC3339.date(text)! }

    @Test func theWeekIsReportedFromTheDataOnThePageAndInTheMail() throws {
        let mail = try MailSink()
        let clock = SettableClock(Self.at("2026-11-09T12:00:00Z"))
        let world = World(clock: clock, mail: SMTPSender(server: mail.server))
        let app = try TestApp(world: world) { configuration in
            configuration.mailServer = mail.server
            configuration.publicURL = URL(string: "https://purser.bank.test")
        }
        let people = try People(app, staff: true)
        let sql = try app.database.connect()

        // The schedule is made with the tenant and moves with its zone: 09:00 on Monday in New York.
        let name = "reports.weekly:\(people.tenant.postgresText)"
        func schedule() throws -> (zone: String, next: String) {
            let row = try sql.query("SELECT time_zone, next_run_at FROM job_schedules WHERE name = $1", [name])[0]
            return (try row.require(0), RFC3339.string(try row.require(1, as: Date.self)))
        }
        #expect(try schedule() == ("UTC", "2026-11-16T09:00:00.000Z"))
        let staff = try people.signedIn(
            "provider_admin@staff.test", in: app, totp: try people.enableSecondFactor("provider_admin@staff.test", in: app))
        #expect(try staff.post("/staff/tenants/acme/time-zone", [("time_zone", "America/New_York")], from: "/staff/").status == 303)
        #expect(try schedule() == ("America/New_York", "2026-11-09T14:00:00.000Z"))

        // Usage, as the rollups hold it (local days).
        let costs = try CostFixture(app)
        for (day, model, requests, input, cached, output, cost): (String, String, Int64, Int64, Int64, Int64, Int64) in [
            ("2026-11-10", "gpt-4o", 60, 600, 0, 400, 1_200_000), ("2026-11-15", "gpt-4o", 40, 400, 0, 200, 800_000),
            ("2026-11-16", "gpt-4o", 200, 2_000, 500, 1_000, 2_500_000), ("2026-11-22", "gpt-4o-mini", 50, 800, 0, 100, 500_000),
            ("2026-11-24", "gpt-4o", 125, 1_000, 0, 100, 1_500_000),
        ] {
            try costs.spend(
                tenant: people.tenant, day: day, model: model, requests: requests, input: input, output: output, cached: cached,
                cost: cost)
        }

        // The endpoint and its probes, as the tick records them; one probe either side of the week.
        var input = ProbeTargetInput()
        // Paused now, so the worker started later does not probe it (its week is already recorded).
        (input.name, input.url, input.intervalSeconds, input.p95LatencyMs, input.p95TTFTMs, input.enabled) = (
            "chat", "http://127.0.0.1:9/health", 300, 400, 300, false
        )
        let target = try ProbeTargets(
            database: app.app.database, world: app.app.world, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
        ).create(input, tenant: people.tenant, actor: .system)
        try sql.query(
            """
            INSERT INTO probe_results (tenant_id, target_id, at, outcome, latency_ms, ttft_ms)
            SELECT $1::uuid, $2::uuid, at,
                   CASE WHEN at >= '2026-11-18T10:00Z' AND at < '2026-11-18T11:00Z' THEN 'down' ELSE 'up' END,
                   CASE WHEN extract(minute FROM at) = 0 THEN 500 ELSE 100 END, CASE WHEN extract(minute FROM at) = 0 THEN 250 ELSE 50 END
            FROM generate_series('2026-11-16T05:00Z'::timestamptz, '2026-11-23T04:55Z', interval '300 seconds') AS at
            UNION ALL SELECT $1::uuid, $2::uuid, '2026-11-16T04:55Z', 'down', NULL, NULL
            UNION ALL SELECT $1::uuid, $2::uuid, '2026-11-23T05:00Z', 'down', NULL, NULL
            """, [people.tenant, target.id])

        // Incidents through the intake, on the clock: one in W0, one in W1.
        func incident(_ service: String, from opened: String, to resolved: String) throws {
            for (status, when) in [(IncidentSignal.Status.firing, opened), (.resolved, resolved)] {
                clock.advance(by: Self.at(when).timeIntervalSince(clock.now))
                _ = try app.app.database.inTenant(people.tenant) { tx in
                    try IncidentIntake.receive(
                        tx, database: app.app.database, tenant: people.tenant,
                        signals: [
                            IncidentSignal(
                                source: .probe, fingerprint: "probe:\(service)", alertname: "EndpointDown", service: service,
                                severity: .sev2,
                                status: status, title: "\(service) is down", startsAt: Self.at(opened))
                        ], reporter: nil, actor: .system, at: clock.now, publicURL: "https://purser.bank.test")
                }
            }
        }
        try incident("endpoint:old", from: "2026-11-12T10:00:00Z", to: "2026-11-12T10:30:00Z")
        try incident("endpoint:chat", from: "2026-11-18T10:02:00Z", to: "2026-11-18T11:32:00Z")
        // Each incident filed a request whose SLA clocks the engine runs (tested with the engine); they
        // are cleared so the SLA figures below are the fixture's alone.
        try sql.query("UPDATE requests SET sla = '{}' WHERE id IN (SELECT request_id FROM incidents WHERE tenant_id = $1)", [people.tenant])

        // SLA clocks of requests (as the engine stores them), filed in W1 and one in W0.
        func sla(_ used: Double, _ state: String, breached: Bool = false) -> String {
            #"{"target": 1000, "used": \#(used), "state": "\#(state)", "since": 1795000000, "business": false\#(breached ? #", "breached_at": 1795000500"# : "")}"#
        }
        let filed: [(String, String, String)] = [
            ("2026-11-16T15:00:00Z", sla(600, "stopped"), sla(7200, "stopped")),
            ("2026-11-18T15:00:00Z", sla(1200, "stopped", breached: true), sla(20000, "stopped", breached: true)),
            ("2026-11-22T23:00:00Z", sla(100, "running"), sla(900, "stopped")),
            ("2026-11-13T15:00:00Z", sla(50, "stopped", breached: true), sla(60, "stopped", breached: true)),
        ]
        let highest = try sql.query("SELECT coalesce(max(number), 0) FROM requests WHERE tenant_id = $1", [people.tenant])[0]
            .require(0, as: Int.self)
        for (number, (created, first, resolution)) in filed.enumerated() {
            try sql.query(
                """
                INSERT INTO requests (tenant_id, id, number, subject, type, priority, state, requester_id, created_at, sla)
                VALUES ($1, $2, $3, $4, 'incident', 'P2', 'open', $5, $6::timestamptz, $7::jsonb)
                """,
                [
                    people.tenant, UUID.v7(at: Self.at(created)), highest + number + 1, "Request \(number)",
                    people.id("requester@acme.test"), created, #"{"first_response": \#(first), "resolution": \#(resolution)}"#,
                ])
        }

        // 09:00 on Monday 23 November in New York: the schedule fires, a worker builds, archives and mails.
        clock.advance(by: Self.at("2026-11-23T14:00:00Z").timeIntervalSince(clock.now))
        let workerDatabase = Database(url: app.database.url, size: 1, worker: true)
        defer { workerDatabase.pool.close() }
        #expect(try Schedules.fireDue(workerDatabase, now: clock.now) >= 1)
        #expect(try schedule().next == "2026-11-30T14:00:00.000Z")
        let worker = try app.startWorker()
        defer { worker.stop() }
        // Incidents told the admin too: the report's mail is the one with its subject.
        func reportMail(_ week: String) -> String? {
            mail.names().first { ((try? mail.raw($0)) ?? "").contains("Subject: Weekly report for the week of \(week)") }
        }
        #expect(waitUntil(30) { reportMail("2026-11-16") != nil })
        let first = try #require(
            try sql.query("SELECT id, to_char(week_start, 'YYYY-MM-DD') FROM weekly_reports WHERE tenant_id = $1", [people.tenant]).first)
        #expect(try first.require(1, as: String.self) == "2026-11-16")
        let firstID: UUID = try first.require(0)

        let viewer = try people.signedIn("viewer@acme.test", in: app)
        let page = try viewer.get("/t/acme/reports/weekly/\(firstID.postgresText)")
        #expect(page.status == 200)
        let week1 = [
            "2026-11-16 – 2026-11-22", "<td>Requests</td><td>250</td><td>100</td><td>+150.0 %</td>",
            "<td>Tokens</td><td>4,400</td><td>1,600</td><td>+175.0 %</td>",
            "<td>Spend</td><td>3.00 USD</td><td>2.00 USD</td><td>+50.0 %</td>",
            "<td>chat</td><td>99.405 %</td><td>99.500 % (missed)</td><td>500 ms (objective 400 ms: missed)</td>"
                + "<td>250 ms (objective 300 ms: met)</td><td>0.595 %</td>",
            "<td>SEV2</td><td>endpoint:chat is down</td><td>endpoint:chat</td><td>2026-11-18 05:02</td><td>2026-11-18 06:32</td>"
                + "<td>1 h 30 min</td>",
            "<td>First response</td><td>1</td><td>1</td><td>1</td><td>50.0 %</td>",
            "<td>Resolution</td><td>2</td><td>1</td><td>0</td><td>66.7 %</td>",
        ]
        for figure in week1 { #expect(page.text.contains(figure), "\(figure)") }
        #expect(!page.text.contains("endpoint:old"))

        // The mail: to the tenant's admin, linking to the page, with the same figures.
        let message = try mail.parsed(try #require(reportMail("2026-11-16")))
        #expect(message["subject"] == "Weekly report for the week of 2026-11-16: 3.00 USD")
        #expect(message["to"]?.contains("tenant_admin@acme.test") == true)
        let text = message["text"] ?? ""
        for line in [
            "Requests: 250 (+150.0 % on the week before)", "Tokens: 4,400 (+175.0 %)", "Spend: 3.00 USD (+50.0 %)",
            "Endpoint chat: uptime 99.405 % (objective 99.500 %: missed), p95 latency 500 ms, p95 TTFT 250 ms, error rate 0.595 %",
            "Incidents: 1", "SEV2 endpoint:chat is down: 1 h 30 min", "SLA First response met: 50.0 %", "SLA Resolution met: 66.7 %",
            "https://purser.bank.test/t/acme/reports/weekly/\(firstID.postgresText)",
        ] {
            #expect(text.contains(line), "\(line)")
        }

        // A week on: the second report shows the change from the first; both are in the archive.
        clock.advance(by: Self.at("2026-11-30T14:00:00Z").timeIntervalSince(clock.now))
        // The running worker fires due schedules itself; firing here too only saves it a poll.
        _ = try Schedules.fireDue(workerDatabase, now: clock.now)
        #expect(waitUntil(30) { reportMail("2026-11-23") != nil })
        #expect(try schedule().next == "2026-12-07T14:00:00.000Z")
        let (secondID, second) = try WeeklyReportJob.run(app.app.database, tenant: people.tenant, now: clock.now, publicURL: nil)
        #expect(second.weekStart == "2026-11-23" && second.incidents.isEmpty)
        // A week on, the earlier sign-in has lapsed.
        let reader = try people.signedIn("viewer@acme.test", in: app)
        let next = try reader.get("/t/acme/reports/weekly/\(secondID.postgresText)")
        for figure in [
            "<td>Requests</td><td>125</td><td>250</td><td>-50.0 %</td>", "<td>Tokens</td><td>1,100</td><td>4,400</td><td>-75.0 %</td>",
            "<td>Spend</td><td>1.50 USD</td><td>3.00 USD</td><td>-50.0 %</td>",
        ] {
            #expect(next.text.contains(figure), "\(figure)")
        }
        #expect(try reader.get("/t/acme/").text.contains(#"href="/t/acme/reports/weekly""#))
        let archive = try reader.get("/t/acme/reports/weekly")
        #expect(archive.status == 200)
        #expect(archive.text.contains("/t/acme/reports/weekly/\(firstID.postgresText)"))
        #expect(archive.text.contains("/t/acme/reports/weekly/\(secondID.postgresText)"))
        #expect(archive.text.contains("<td>1.50 USD</td><td>-50.0 %</td><td>0</td>"))
        // Told once a week, however often the job runs.
        #expect(
            try sql.query("SELECT count(*) FROM notification_deliveries WHERE event = 'report.weekly' AND tenant_id = $1", [people.tenant])[
                0
            ]
            .require(0, as: Int.self) == 2)
        #expect(try reader.get("/t/acme/reports/weekly/\(UUID().postgresText)").status == 404)
        #expect(try reader.get("/t/acme/reports/weekly/nonsense").status == 404)
    }
}
