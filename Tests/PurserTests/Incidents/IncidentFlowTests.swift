import Foundation
import HTTPServerTesting
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Incidents over the API and the pages, on a test clock: the linked request follows the states
/// and its SLA clock, acknowledgement (a GET only confirms), escalation level by level with one
/// pending job, a burst of alerts as one incident and one page, malformed deliveries leaving
/// nothing behind, and the postmortem rule. One app for the suite; the clock moves, nothing waits.
@Suite(.serialized) struct IncidentFlowTests {
    let clock = SettableClock(Date(timeIntervalSince1970: 1_795_000_000))
    let app: TestApp
    let acme: People
    let staff: String
    let admin: String

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme", staff: true)
        staff = try app.app.tokens.create(
            user: acme.id("cse@staff.test"), tenant: nil, name: "t",
            scopes: [.incidentsRead, .incidentsWrite, .alertsWrite, .requestsRead, .requestsWrite], lifetime: 86400, actor: .system
        ).token
        admin = try app.app.tokens.create(
            user: acme.id("tenant_admin@acme.test"), tenant: acme.tenant, name: "t",
            scopes: [.incidentsRead, .incidentsWrite, .alertsWrite, .requestsRead], lifetime: 86400, actor: .system
        ).token
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil, headers: [(name: String, value: String)] = [])
        throws -> (status: Int, body: [String: Any], etag: String?)
    {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")] + headers,
            body: json.map { Array($0.utf8) })
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, body, response.headers.first { $0.name.lowercased() == "etag" }?.value)
    }

    func value(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> String? {
        try app.database.connect().query(sql, parameters).first?.decode(0, as: String.self)
    }

    @Test func anIncidentCarriesItsRequestFromDetectedToReviewed() throws {
        let opened = try send(
            "POST", "/api/v1/incidents?tenant=acme", token: staff,
            #"{"title": "Chat endpoint down", "severity": "SEV1", "service": "chat"}"#)
        #expect(opened.status == 201)
        let id = try #require(opened.body["id"] as? String)
        let request = try #require((opened.body["request"] as? [String: Any])?["id"] as? String)
        // SEV1 is a P1 incident request: 15 minutes to the first response, around the clock.
        let filed = try send("GET", "/api/v1/requests/\(request)?tenant=acme", token: staff)
        #expect(
            filed.body["type"] as? String == "incident" && filed.body["priority"] as? String == "P1"
                && filed.body["state"] as? String == "new")
        let firstResponse = (filed.body["sla"] as? [String: Any])?["first_response"] as? [String: Any]
        #expect(firstResponse?["target_seconds"] as? Double == 900 && firstResponse?["state"] as? String == "running")

        // Staff acknowledging is the provider's first response; doing it again changes nothing.
        clock.advance(by: 120)
        let acknowledged = try send("POST", "/api/v1/incidents/\(id)/acknowledge?tenant=acme", token: staff)
        #expect(acknowledged.status == 200 && acknowledged.body["acknowledged_at"] is String)
        #expect((acknowledged.body["commander"] as? [String: Any])?["name"] as? String == "cse")
        let twice = try send("POST", "/api/v1/incidents/\(id)/acknowledge?tenant=acme", token: staff)
        #expect(twice.status == 200 && twice.body["acknowledged_at"] as? String == acknowledged.body["acknowledged_at"] as? String)
        let answered = try send("GET", "/api/v1/requests/\(request)?tenant=acme", token: staff).body["sla"] as? [String: Any]
        #expect((answered?["first_response"] as? [String: Any])?["state"] as? String == "stopped")

        // The request itself is not resolved behind the incident's back.
        let direct = try send("PATCH", "/api/v1/requests/\(request)?tenant=acme", token: staff, #"{"state": "resolved"}"#)
        #expect(direct.status == 422 && "\(direct.body)".contains("incident"))

        // A stale ETag is refused; each move takes the request with it.
        var etag = try #require(try send("GET", "/api/v1/incidents/\(id)?tenant=acme", token: admin).etag)
        #expect(
            try send(
                "PATCH", "/api/v1/incidents/\(id)?tenant=acme", token: admin, #"{"state": "triaged"}"#, headers: [("If-Match", "\"v0\"")]
            ).status == 412)
        #expect(try send("PATCH", "/api/v1/incidents/\(id)?tenant=acme", token: admin, #"{"state": "bogus"}"#).status == 422)
        for (state, requestState) in [("triaged", "open"), ("mitigated", "open"), ("resolved", "resolved")] {
            let moved = try send(
                "PATCH", "/api/v1/incidents/\(id)?tenant=acme", token: admin, #"{"state": "\#(state)"}"#, headers: [("If-Match", etag)])
            #expect(moved.status == 200 && moved.body["state"] as? String == state)
            #expect((moved.body["request"] as? [String: Any])?["state"] as? String == requestState)
            etag = try #require(moved.etag)
        }

        // Acknowledging a resolved incident is refused, naming its state and what it may do.
        let late = try send("POST", "/api/v1/incidents/\(id)/acknowledge?tenant=acme", token: admin)
        #expect(late.status == 422 && late.body["state"] as? String == "resolved")
        #expect(late.body["allowed"] as? [String] == ["triaged", "reviewed"])

        // SEV1: no review without the postmortem; with it, reviewed closes the request.
        let early = try send("PATCH", "/api/v1/incidents/\(id)?tenant=acme", token: admin, #"{"state": "reviewed"}"#)
        #expect(early.status == 422 && "\(early.body)".contains("postmortem"))
        let owner = acme.id("tenant_admin@acme.test").postgresText
        let badDay = try send(
            "PUT", "/api/v1/incidents/\(id)/postmortem?tenant=acme", token: admin,
            #"{"summary": "s", "impact": "i", "timeline": "t", "root_cause": "r", "went_well": "w", "action_items": [{"title": "x", "owner_id": "\#(owner)", "due_on": "2026-02-30"}]}"#
        )
        #expect(badDay.status == 422)
        let written = try send(
            "PUT", "/api/v1/incidents/\(id)/postmortem?tenant=acme", token: admin,
            #"{"summary": "The pool ran dry", "impact": "20 minutes of errors", "timeline": "09:00 rollout, 09:20 rollback", "root_cause": "A bad node image", "went_well": "Paging", "action_items": [{"title": "Pin the image", "owner_id": "\#(owner)", "due_on": "2026-12-15"}]}"#
        )
        #expect(written.status == 200 && written.body["complete"] as? Bool == true)
        #expect((written.body["action_items"] as? [[String: Any]])?.first?["done"] as? Bool == false)
        let reviewed = try send("PATCH", "/api/v1/incidents/\(id)?tenant=acme", token: admin, #"{"state": "reviewed"}"#)
        #expect(reviewed.status == 200 && (reviewed.body["request"] as? [String: Any])?["state"] as? String == "closed")

        // Updates are the request's replies; internal notes are staff's and only staff see them.
        #expect(try send("POST", "/api/v1/incidents/\(id)/timeline?tenant=acme", token: staff, #"{"body": "All clear"}"#).status == 201)
        #expect(
            try send("POST", "/api/v1/incidents/\(id)/timeline?tenant=acme", token: admin, #"{"body": "n", "internal": true}"#).status
                == 403)
        #expect(
            try send("POST", "/api/v1/incidents/\(id)/timeline?tenant=acme", token: staff, #"{"body": "node image 4.2", "internal": true}"#)
                .status == 201)
        func kinds(_ token: String) throws -> [String] {
            (try send("GET", "/api/v1/incidents/\(id)/timeline?tenant=acme", token: token).body["items"] as? [[String: Any]] ?? [])
                .compactMap {
                    $0["kind"] as? String
                }
        }
        let seen = try kinds(staff)
        for kind in ["opened", "acknowledged", "state", "postmortem", "update", "internal_note"] { #expect(seen.contains(kind), "\(kind)") }
        #expect(try !kinds(admin).contains("internal_note"))
        let list = try send("GET", "/api/v1/incidents?tenant=acme&state=reviewed&limit=1", token: admin)
        #expect((list.body["items"] as? [[String: Any]])?.first?["id"] as? String == id)
    }

    @Test func unacknowledgedIncidentsEscalateLevelByLevelUntilAcknowledged() throws {
        let cse = acme.id("cse@staff.test"), engineer = acme.id("platform_engineer@staff.test")
        try app.app.database.inTenant(acme.tenant) { tx in
            try EscalationPolicies.save(
                tx, tenant: acme.tenant,
                levels: [
                    EscalationLevel(afterMinutes: 0, people: [acme.id("tenant_admin@acme.test")]),
                    EscalationLevel(afterMinutes: 5, people: [cse]), EscalationLevel(afterMinutes: 10, people: [engineer]),
                ], by: cse, actor: .system, at: clock.now)
        }
        let opened = try send("POST", "/api/v1/incidents?tenant=acme", token: admin, #"{"title": "Latency", "severity": "SEV2"}"#)
        let id = try #require((opened.body["id"] as? String).flatMap(UUID.init(uuidString:)))
        let job = "SELECT escalation_job_id::text FROM incidents WHERE id = $1"
        #expect(try value(job, [id]) != nil)
        func told(_ event: String) throws -> [String] {
            try app.database.connect().query(
                "SELECT destination FROM notification_deliveries WHERE event = $1 AND tenant_id = $2 ORDER BY destination",
                [event, acme.tenant]
            ).map { try $0.require(0, as: String.self) }
        }
        #expect(try told("incident.opened") == ["tenant_admin@acme.test"])

        let worker = try app.startWorker()
        defer { worker.stop() }
        clock.advance(by: 301)
        #expect(waitUntil(20) { (try? value("SELECT escalation_level::text FROM incidents WHERE id = $1", [id])) == "1" })
        #expect(try told("incident.escalated") == ["cse@staff.test"])

        // The e-mail's link opens a confirmation: the GET acknowledges nothing; its form does.
        let browser = try acme.signedIn(
            "tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let page = "/t/acme/incidents/\(id.postgresText)/acknowledge"
        let confirmation = try browser.get(page)
        #expect(confirmation.status == 200 && String(decoding: confirmation.body, as: UTF8.self).contains("Acknowledge"))
        #expect(try value("SELECT acknowledged_at::text FROM incidents WHERE id = $1", [id]) == nil)
        #expect(try browser.post(page, [], from: page).status == 303)
        #expect(try value("SELECT acknowledged_at::text FROM incidents WHERE id = $1", [id]) != nil)
        #expect(try value(job, [id]) == nil)
        #expect(
            try value("SELECT count(*)::text FROM jobs WHERE kind = 'incidents.escalate' AND state IN ('queued', 'running', 'failed')")
                == "0")
        clock.advance(by: 1200)
        #expect(try value("SELECT escalation_level::text FROM incidents WHERE id = $1", [id]) == "1")

        // Commander and responders from the page; the page shows the responders chosen, so saving again keeps them.
        let show = "/t/acme/incidents/\(id.postgresText)"
        let fields = [
            ("people_form", "1"), ("severity", "SEV2"), ("commander_id", engineer.postgresText), ("responders", cse.postgresText),
        ]
        #expect(try browser.post(show + "/update", fields, from: show).status == 303)
        #expect(
            try value("SELECT commander_id::text || ' ' || responders::text FROM incidents WHERE id = $1", [id])
                == "\(engineer.postgresText) {\(cse.postgresText)}")
        #expect(String(decoding: try browser.get(show).body, as: UTF8.self).contains("<option value=\"\(cse.postgresText)\" selected>"))
        #expect(try told("incident.acknowledged").contains("tenant_admin@acme.test"))
        // Every message of the incident carries its id as PagerDuty's dedup key, with the action of its event.
        let actions = try app.database.connect().query(
            """
            SELECT DISTINCT event || ' ' || (message->>'action') FROM notification_deliveries
            WHERE tenant_id = $1 AND event LIKE 'incident.%' AND message->>'dedupKey' = $2 ORDER BY 1
            """, [acme.tenant, id.postgresText]
        ).map { try $0.require(0, as: String.self) }
        #expect(actions == ["incident.acknowledged acknowledge", "incident.escalated trigger", "incident.opened trigger"])
    }

    static func payload(_ status: String, _ alerts: [(fingerprint: String, name: String, severity: String)], service: String = "chat-api")
        -> String
    {
        let items = alerts.map {
            """
            {"status": "\(status)", "labels": {"alertname": "\($0.name)", "service": "\(service)", "severity": "\($0.severity)"},
             "annotations": {"summary": "\($0.name) on \(service)"}, "startsAt": "2026-11-17T10:00:00.123456789Z",
             "endsAt": "\(status == "resolved" ? "2026-11-17T10:20:00Z" : "0001-01-01T00:00:00Z")", "generatorURL": "http://prometheus/graph",
             "fingerprint": "\($0.fingerprint)"}
            """
        }
        return """
            {"version": "4", "groupKey": "{}:{service=\\"\(service)\\"}", "truncatedAlerts": 0, "status": "\(status)", "receiver": "purser",
             "groupLabels": {"service": "\(service)"}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager",
             "alerts": [\(items.joined(separator: ","))]}
            """
    }

    @Test func aBurstForOneServiceIsOneIncidentAndOnePageAndBadDeliveriesLeaveNothing() throws {
        let burst = (0..<200).map { (String(format: "%016x", $0 + 1), "Alert\($0 % 7)", $0 == 150 ? "critical" : "warning") }
        let counts =
            "SELECT (SELECT count(*) FROM incidents) || '/' || (SELECT count(*) FROM incident_alerts) || '/' || (SELECT count(*) FROM requests)"
        // Malformed, or naming no tenant or another one: refused whole, nothing written.
        let before = try value(counts)
        var broken = Self.payload("firing", burst)
        broken = broken.replacingOccurrences(of: #""fingerprint": "0000000000000064""#, with: #""fingerprint": """#)
        for (path, body, token) in [
            ("/api/v1/integrations/alertmanager", broken, admin), ("/api/v1/integrations/alertmanager", "{\"version\": ", admin),
            ("/api/v1/integrations/alertmanager", Self.payload("firing", burst), staff),
            (
                "/api/v1/integrations/alertmanager",
                Self.payload("firing", burst).replacingOccurrences(
                    of: #""service": "chat-api", "severity""#, with: #""tenant": "globex", "service": "chat-api", "severity""#),
                admin
            ),
        ] {
            let refused = try send("POST", path, token: token, body)
            #expect(refused.status == 400, "\(refused.body)")
        }
        #expect(try value(counts) == before)

        let first = try send("POST", "/api/v1/integrations/alertmanager", token: admin, Self.payload("firing", burst))
        #expect(first.status == 200 && (first.body["opened"] as? [String])?.count == 1 && first.body["recorded"] as? Double == 200)
        let id = try #require((first.body["opened"] as? [String])?.first.flatMap(UUID.init(uuidString:)))
        // A repeated delivery counts again; it opens and tells nothing more.
        let again = try send("POST", "/api/v1/integrations/alertmanager?tenant=acme", token: staff, Self.payload("firing", burst))
        #expect(
            (again.body["opened"] as? [String]) == [] && (again.body["joined"] as? [String]) == []
                && again.body["recorded"] as? Double == 200)
        #expect(try value("SELECT count(*)::text FROM incidents WHERE service = 'chat-api'") == "1")
        #expect(try value("SELECT severity FROM incidents WHERE id = $1", [id]) == "SEV1")
        // The critical alert raised it, audited as a change of severity.
        #expect(
            try value(
                "SELECT after->>'severity' FROM audit_events WHERE action = 'incident.update' AND target_id = $1", [id.postgresText])
                == "SEV1")
        // The burst is one line on the timeline, not 200.
        #expect(
            try value("SELECT count(*) || ' ' || min(detail) FROM incident_events WHERE incident_id = $1 AND kind = 'alert'", [id])?
                .hasPrefix("1 200 alerts: ") == true)
        #expect(try value("SELECT sum(received)::text FROM incident_alerts WHERE incident_id = $1", [id]) == "400")
        #expect(
            try value(
                "SELECT count(*)::text FROM notification_deliveries WHERE event = 'incident.opened' AND tenant_id = $1", [acme.tenant])
                == "1")

        // All resolved: the incident resolves with its alerts.
        let resolved = try send("POST", "/api/v1/integrations/alertmanager", token: admin, Self.payload("resolved", burst))
        #expect((resolved.body["resolved"] as? [String]) == [id.postgresText])
        #expect(
            try value("SELECT i.state || '/' || r.state FROM incidents i JOIN requests r ON r.id = i.request_id WHERE i.id = $1", [id])
                == "resolved/resolved")
        #expect(
            try value(
                "SELECT count(*)::text FROM notification_deliveries WHERE event = 'incident.resolved' AND tenant_id = $1", [acme.tenant])
                != "0")
    }
}

extension IncidentFlowTests {
    /// An action item's id names an item of this postmortem: another incident's item, an id never
    /// given, or one id twice is refused by field, where it used to be dropped or to overwrite
    /// silently while the answer said 200.
    @Test func actionItemIdsNameThisPostmortemsItems() throws {
        func open(_ title: String) throws -> String {
            try #require(
                try send("POST", "/api/v1/incidents?tenant=acme", token: admin, #"{"title": "\#(title)", "severity": "SEV3"}"#)
                    .body["id"] as? String)
        }
        let (first, second) = (try open("Queue backs up"), try open("Slow answers"))
        let owner = acme.id("tenant_admin@acme.test").postgresText
        func put(_ incident: String, _ items: String) throws -> (status: Int, body: [String: Any], etag: String?) {
            try send(
                "PUT", "/api/v1/incidents/\(incident)/postmortem?tenant=acme", token: admin,
                #"{"summary": "s", "impact": "i", "timeline": "t", "root_cause": "r", "went_well": "w", "action_items": [\#(items)]}"#)
        }
        func item(_ id: String?, _ title: String) -> String {
            let named = id.map { #""id": "\#($0)", "# } ?? ""
            return #"{\#(named)"title": "\#(title)", "owner_id": "\#(owner)", "due_on": "2026-12-15"}"#
        }
        let made = try put(first, item(nil, "Add a queue alert"))
        let kept = try #require((made.body["action_items"] as? [[String: Any]])?.first?["id"] as? String)
        for (incident, items, field) in [
            (second, item(kept, "Taken over"), "action_items[0].id"),
            (first, item(UUID().uuidString.lowercased(), "Made up"), "action_items[0].id"),
            (first, item(kept, "One") + ", " + item(kept, "Two"), "action_items[1].id"),
        ] {
            let refused = try put(incident, items)
            #expect(refused.status == 422, "\(refused.body)")
            #expect((refused.body["errors"] as? [[String: Any]])?.first?["field"] as? String == field, "\(refused.body)")
        }
        let after = try send("GET", "/api/v1/incidents/\(first)/postmortem?tenant=acme", token: admin).body
        #expect((after["action_items"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Add a queue alert"])
        #expect(try put(first, item(kept, "Add a queue alert, paging")).status == 200)
    }
}
