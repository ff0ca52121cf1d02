import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The SLA engine end to end: clocks started on filing, jobs at the exact warning and due times,
/// moved by pauses, answers and priority changes; a worker firing the warning and the breach when
/// the clock reaches them, escalating to the group's lead, and mail reaching a real SMTP server.
/// Time is a clock the tests move; `SLAEngineLiveClockTests` checks the same on the live clock.
@Suite(.serialized) struct SLAEngineTests {
    let mail: MailSink
    /// Purser's time and outside world: `clock`, and mail to the sink.
    let world: World
    let app: TestApp
    let people: People

    /// On a clock that stands at the time the test starts (to the whole second, so that stored times
    /// compare exactly) until the test moves it.
    init() throws { try self.init(clock: SettableClock(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))) }

    init(clock: any WallClock) throws {
        mail = try MailSink()
        let mailServer = mail.server
        world = World(clock: clock, mail: SMTPSender(server: mailServer))
        app = try TestApp(world: world) { configuration in
            configuration.mailServer = mailServer
            configuration.mailFrom = "purser@bank.test"
            configuration.publicURL = URL(string: "https://purser.bank.test")
        }
        people = try People(app, staff: true)
    }

    /// Moves the clock on, waking the worker when its next job falls due.
    func advance(by seconds: TimeInterval) {
        guard let clock = world.clock as? SettableClock else { preconditionFailure("only a settable clock moves") }
        clock.advance(by: seconds)
    }

    func setPolicy(_ change: (inout SLAPolicy) -> Void) throws {
        var policy = SLAPolicy.standard
        change(&policy)
        try SLAPolicies(database: app.app.database, clock: world.clock).set(policy, tenant: people.tenant, actor: .system)
    }

    func token(_ email: String, staff: Bool = false) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: staff ? nil : people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
    }

    func call(
        _ method: String, _ path: String, _ token: String, _ body: String? = nil,
        headers: [(name: String, value: String)] = []
    ) throws -> (status: Int, json: [String: Any]) {
        var all = [("Authorization", "Bearer \(token)")] + headers
        if body != nil { all.append(("Content-Type", "application/json")) }
        let response = try app.send(method, path, headers: all, body: body.map { Array($0.utf8) })
        return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    var sql: Connection { get throws { try app.database.connect() } }

    /// The request's pending SLA job: its id and when it runs.
    func pendingJob(_ request: String) throws -> (id: Int64, runAt: Date)? {
        try sql.query(
            """
            SELECT j.id, j.run_at FROM jobs j JOIN requests r ON r.sla_job_id = j.id
            WHERE r.id = $1::uuid AND j.state = 'queued' AND j.kind = 'sla.check'
            """, [request]
        ).first.map { (try $0.require(0), try $0.require(1)) }
    }

    func clock(_ body: [String: Any], _ name: String) -> [String: Any] {
        ((body["sla"] as? [String: Any])?[name] as? [String: Any]) ?? [:]
    }

    func instant(_ text: Any?) -> Date? { (text as? String).flatMap(RFC3339.date) }

    func eventCount(_ kind: String) -> Int {
        (try? sql.query("SELECT count(*) FROM sla_events WHERE kind = $1", [kind])[0].require(0, as: Int.self)) ?? 0
    }

    /// The request's SLA events: kind, clock, and when each happened and fell due, in seconds after filing.
    func events() throws -> [(String, String, Double, Double)] {
        try sql.query(
            """
            SELECT e.kind, e.clock, extract(epoch FROM e.occurred_at - r.created_at)::float8, extract(epoch FROM e.due_at - r.created_at)::float8
            FROM sla_events e JOIN requests r ON r.id = e.request_id ORDER BY e.occurred_at
            """
        ).map {
            (
                try $0.require(0, as: String.self), try $0.require(1, as: String.self), try $0.require(2, as: Double.self),
                try $0.require(3, as: Double.self)
            )
        }
    }

    @Test func aWarningAndABreachFireOnTimeEscalateAndMailTheLead() throws {
        try setPolicy { policy in
            policy.warningShare = 0.5
            policy.escalation = .reassign
            policy.targets["P2"] = .init(firstResponse: SLATarget(4, .seconds), resolution: SLATarget(1, .hours))
        }
        try RequestGroups(database: app.app.database, clock: world.clock).save(
            name: "Incidents", leadEmail: "platform_engineer@staff.test", types: ["incident"], memberEmails: ["cse@staff.test"],
            actor: .system)
        let worker = try app.startWorker()
        defer { worker.stop() }
        let filed = try call(
            "POST", "/api/v1/requests", try token("requester@acme.test"),
            #"{"subject": "Endpoint slow", "type": "incident", "priority": "P2"}"#)
        #expect(filed.status == 201, "\(filed.json)")
        #expect((filed.json["group"] as? [String: Any])?["name"] as? String == "Incidents")
        let id = try #require(filed.json["id"] as? String)
        let created = try #require(instant(filed.json["created_at"]))
        let due = try #require(instant(clock(filed.json, "first_response")["due_at"]))
        #expect(abs(due.timeIntervalSince(created) - 4) < 1.0, "RFC 3339 in whole seconds")
        #expect(clock(filed.json, "first_response")["state"] as? String == "running")
        let createdAt = try sql.query("SELECT created_at FROM requests WHERE id = $1::uuid", [id])[0].require(0, as: Date.self)
        #expect(abs(try #require(try pendingJob(id)).runAt.timeIntervalSince(createdAt) - 2) < 0.001, "the job waits for the warning")

        // The warning when the clock reaches it, and nothing of the breach before its time.
        advance(by: 2)
        #expect(waitUntil(10) { eventCount("warning") == 1 })
        #expect(eventCount("breach") == 0)
        advance(by: 2)
        #expect(waitUntil(10) { eventCount("breach") == 1 })
        let events = try events()
        #expect(events.map(\.0) == ["warning", "breach"])
        #expect(events.allSatisfy { $0.1 == "first_response" })
        // Fired at the stored times (2 s and 4 s), as the clock read them.
        #expect(events[0].2 >= 2 && events[0].2 < 3.5, "warning after \(events[0].2) s")
        #expect(events[1].2 >= 4 && events[1].2 < 5.5, "breach after \(events[1].2) s")
        #expect(abs(events[0].2 - 2) < 0.001 && abs(events[1].2 - 4) < 0.001)
        #expect(abs(events[1].3 - 4) < 0.001, "the breach is dated at the due time")

        // Escalated to the group's lead, audited, and visible in the API.
        let read = try call("GET", "/api/v1/requests/\(id)", try token("requester@acme.test"))
        #expect((read.json["assignee"] as? [String: Any])?["name"] as? String == "platform_engineer")
        #expect(read.json["escalated"] as? Bool == true)
        #expect(clock(read.json, "first_response")["breached"] as? Bool == true)
        #expect(clock(read.json, "resolution")["breached"] as? Bool == false)
        let actions = try sql.query("SELECT action FROM audit_events WHERE target_id = $1 ORDER BY occurred_at, sequence", [id])
            .map { try $0.require(0, as: String.self) }
        #expect(actions == ["request.create", "request.sla_breach", "request.escalate"])

        // Mail: the filing and the warning to the group (lead and member), the breach to the lead;
        // counted once every delivery has finished, so a sixth message would be seen.
        #expect(
            waitUntil(15) {
                mail.names().count >= 5
                    && ((try? sql.query(
                        """
                        SELECT count(*) FROM jobs WHERE kind = $1 AND state IN ('queued', 'running', 'failed')
                        """, [Outbox.deliverKind])[0].require(0, as: Int.self)) ?? 1) == 0
            })
        let received = try mail.names().map { try mail.parsed($0) }
        let breach = received.filter { $0["subject"] == "ACME-1 missed its first response target" }
        #expect(breach.map { $0["to"] } == ["platform_engineer@staff.test"])
        #expect(breach.first?["text"]?.contains("https://purser.bank.test/t/acme/requests/ACME-1") == true)
        let warnings = received.filter { $0["subject"] == "ACME-1: first response due soon" }.compactMap { $0["to"] }
        #expect(Set(warnings) == ["platform_engineer@staff.test", "cse@staff.test"])
        #expect(received.filter { $0["subject"] == "ACME-1 filed: Endpoint slow" }.count == 2)
        #expect(received.count == 5, "\(received.map { $0["subject"] ?? "" })")
    }

    @Test func pausesAnswersAndPriorityChangesMoveTheOneJob() throws {
        try setPolicy { policy in
            policy.warningShare = 0.5
            policy.targets["P2"] = .init(firstResponse: SLATarget(3000, .seconds), resolution: SLATarget(6000, .seconds))
            policy.targets["P1"] = .init(firstResponse: SLATarget(100, .seconds), resolution: SLATarget(1000, .seconds))
        }
        let customer = try token("requester@acme.test"), cse = try token("cse@staff.test", staff: true)
        let filed = try call("POST", "/api/v1/requests", customer, #"{"subject": "Quota", "type": "change", "priority": "P2"}"#)
        let id = try #require(filed.json["id"] as? String)
        let createdAt = try sql.query("SELECT created_at FROM requests WHERE id = $1::uuid", [id])[0].require(0, as: Date.self)
        let first = try #require(try pendingJob(id))
        #expect(abs(first.runAt.timeIntervalSince(createdAt) - 1500) < 0.001, "the warning of P2's first response")

        // Raised to P1: the same job, moved to P1's warning.
        let raised = try call("PATCH", "/api/v1/requests/\(id)?tenant=acme", cse, #"{"priority": "P1"}"#)
        #expect(raised.status == 200, "\(raised.json)")
        let moved = try #require(try pendingJob(id))
        #expect(moved.id == first.id)
        #expect(abs(moved.runAt.timeIntervalSince(createdAt) - 50) < 0.001)

        // Waiting on the customer: nothing can fall due, so no job is pending.
        #expect(try call("PATCH", "/api/v1/requests/\(id)?tenant=acme", cse, #"{"state": "pending_customer"}"#).status == 200)
        #expect(try pendingJob(id) == nil)
        #expect(try sql.query("SELECT count(*) FROM jobs WHERE kind = 'sla.check'")[0].require(0, as: Int.self) == 0)
        let paused = try call("GET", "/api/v1/requests/\(id)", customer)
        #expect(clock(paused.json, "first_response")["state"] as? String == "paused")
        #expect(clock(paused.json, "first_response")["due_at"] is NSNull)
        // A pause longer than P1's whole first-response target.
        advance(by: 600)

        // The customer's answer reopens the request and resumes the clocks, the pause not counted.
        #expect(try call("POST", "/api/v1/requests/\(id)/comments", customer, #"{"body": "Here are the numbers"}"#).status == 201)
        let resumed = try call("GET", "/api/v1/requests/\(id)", customer)
        #expect(resumed.json["state"] as? String == "open")
        let row = try sql.query(
            """
            SELECT sla_due_at, (sla->'first_response'->>'used')::float8, (sla->'first_response'->>'since')::float8 FROM requests WHERE id = $1::uuid
            """, [id])[0]
        let dueAt = try row.require(0, as: Date.self), used = try row.require(1, as: Double.self)
        let since = Date(timeIntervalSince1970: try row.require(2, as: Double.self))
        #expect(used < 1.0, "the time before the pause only")
        #expect(since.timeIntervalSince(createdAt) > 1.2, "resumed after the pause")
        #expect(used == 0 && abs(since.timeIntervalSince(createdAt) - 600) < 0.001, "the clock stood still before the pause")
        #expect(try call("GET", "/api/v1/requests/\(id)", customer).json["escalated"] as? Bool == false)
        #expect(abs(dueAt.timeIntervalSince(since) - (100 - used)) < 0.001)
        let resumedJob = try #require(try pendingJob(id))
        #expect(abs(dueAt.timeIntervalSince(resumedJob.runAt) - 50) < 0.001, "the warning, half of P1's 100 s before due")

        // Staff's public reply stops first response; the resolution warning is next.
        #expect(try call("POST", "/api/v1/requests/\(id)/comments?tenant=acme", cse, #"{"body": "Raised the quota"}"#).status == 201)
        let replied = try call("GET", "/api/v1/requests/\(id)", customer)
        #expect(clock(replied.json, "first_response")["state"] as? String == "stopped")
        #expect(clock(replied.json, "first_response")["breached"] as? Bool == false)
        let next = try #require(try pendingJob(id))
        let resolutionDue = try #require(instant(clock(replied.json, "resolution")["due_at"]))
        #expect(abs(resolutionDue.timeIntervalSince(next.runAt) - 500) < 1.0)

        // Resolved: every clock stops and the job goes.
        #expect(try call("PATCH", "/api/v1/requests/\(id)?tenant=acme", cse, #"{"state": "resolved"}"#).status == 200)
        #expect(try pendingJob(id) == nil)
        #expect(try sql.query("SELECT sla_due_at FROM requests WHERE id = $1::uuid", [id])[0].decode(0, as: Date.self) == nil)
    }
}

/// The one SLA check on the live clock: a first response due 2 s after filing, warned of at 1 s,
/// fired by a worker waiting in real time (a little over 2 s).
@Suite struct SLAEngineLiveClockTests {
    let engine: SLAEngineTests

    init() throws { engine = try SLAEngineTests(clock: LiveClock()) }

    @Test func aWarningAndABreachFireOnTheLiveClock() throws {
        try engine.setPolicy { policy in
            policy.warningShare = 0.5
            policy.escalation = .reassign
            policy.targets["P2"] = .init(firstResponse: SLATarget(2, .seconds), resolution: SLATarget(1, .hours))
        }
        let worker = try engine.app.startWorker()
        defer { worker.stop() }
        let filed = try engine.call(
            "POST", "/api/v1/requests", try engine.token("requester@acme.test"),
            #"{"subject": "Endpoint slow", "type": "incident", "priority": "P2"}"#)
        #expect(filed.status == 201, "\(filed.json)")
        #expect(waitUntil(15) { engine.eventCount("breach") == 1 })
        let events = try engine.events()
        #expect(events.map(\.0) == ["warning", "breach"])
        // Never before their stored times.
        #expect(events[0].2 >= 1 && events[1].2 >= 2, "\(events)")
        #expect(abs(events[0].3 - 2) < 0.001 && abs(events[1].3 - 2) < 0.001, "both name the due time")
        let read = try engine.call(
            "GET", "/api/v1/requests/\(try #require(filed.json["id"] as? String))",
            try engine.token("requester@acme.test"))
        #expect(read.json["escalated"] as? Bool == true)
    }
}
