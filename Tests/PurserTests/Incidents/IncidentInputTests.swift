import Foundation
import HTTPServerTesting
import Postgres
@testable import Purser
import Testing
import TestSupport

/// What incidents make of input a person or Alertmanager may well send: a severity in lower case,
/// a commander taken away again, a resolved alert whose end its sender's clock put before its
/// start, and an alert with no severity label.
extension IncidentFlowTests {
    func send(_ method: String, _ path: String, _ json: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let answer = try send(method, path, token: admin, json)
        return (answer.status, answer.body)
    }

    @Test func severityReadsInAnyCaseAndTheCommanderCanBeTakenAway() throws {
        let opened = try send("POST", "/api/v1/incidents", #"{"title": "Slow answers", "severity": "sev3", "service": "chat"}"#)
        #expect(opened.status == 201 && opened.body["severity"] as? String == "SEV3", "\(opened.body)")
        let id = try #require(opened.body["id"] as? String)
        let raised = try send("PATCH", "/api/v1/incidents/\(id)", #"{"severity": " Sev2 "}"#)
        #expect(raised.status == 200 && raised.body["severity"] as? String == "SEV2", "\(raised.body)")
        #expect((try send("GET", "/api/v1/incidents?severity=sev2").body["items"] as? [Any])?.count == 1)
        #expect(try send("PATCH", "/api/v1/incidents/\(id)", #"{"severity": "sev5"}"#).status == 422)

        // commander_id null takes the commander away (absent leaves it), on the timeline and audited.
        let engineer = acme.id("tenant_admin@acme.test").postgresText
        let named = try send("PATCH", "/api/v1/incidents/\(id)", #"{"commander_id": "\#(engineer)"}"#)
        #expect((named.body["commander"] as? [String: Any])?["id"] as? String == engineer, "\(named.body)")
        #expect(try send("PATCH", "/api/v1/incidents/\(id)", #"{"title": "Slow answers in eu"}"#).body["commander"] is [String: Any])
        let cleared = try send("PATCH", "/api/v1/incidents/\(id)", #"{"commander_id": null}"#)
        #expect(cleared.status == 200 && (cleared.body["commander"] == nil || cleared.body["commander"] is NSNull), "\(cleared.body)")
        #expect(try value("SELECT commander_id::text FROM incidents WHERE id = $1::uuid", [id]) == nil)
        #expect(
            try value(
                "SELECT string_agg(detail, ',' ORDER BY detail) FROM incident_events WHERE incident_id = $1::uuid AND kind = 'commander'",
                [id]) == "nobody,tenant_admin")
        #expect(
            try value(
                """
                SELECT count(*)::text FROM audit_events WHERE action = 'incident.update' AND target_id = $1
                   AND after ? 'commander_id' AND after->'commander_id' = 'null'::jsonb
                """, [id]) == "1")

        // On the page, choosing '—' for the commander takes the commander away too.
        _ = try send("PATCH", "/api/v1/incidents/\(id)", #"{"commander_id": "\#(engineer)"}"#)
        let browser = try acme.signedIn(
            "tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let show = "/t/acme/incidents/\(id)"
        #expect(
            try browser.post(show + "/update", [("people_form", "1"), ("severity", "SEV2"), ("commander_id", "")], from: show).status == 303
        )
        #expect(try value("SELECT commander_id::text FROM incidents WHERE id = $1::uuid", [id]) == nil)

        // Action items added and ticked on the page are audited, as the API's postmortem is.
        let owner = acme.id("tenant_admin@acme.test").postgresText
        let added = try browser.post(
            show + "/actions", [("title", "Add a canary"), ("owner_id", owner), ("due_on", "2026-12-01")], from: show)
        #expect(added.status == 303)
        let item = try #require(try value("SELECT id::text FROM postmortem_actions WHERE incident_id = $1::uuid", [id]))
        #expect(try browser.post(show + "/actions", [("action_id", item), ("done", "1")], from: show).status == 303)
        #expect(
            try value(
                "SELECT string_agg(after->>'title', ',') || '/' || string_agg(after->>'done', ',') FROM audit_events WHERE action = 'incident.action_item' AND target_id = $1",
                [id]) == "Add a canary/true")
    }

    @Test func aResolvedAlertEndsNoEarlierThanItStartedAndNoSeverityIsSEV4() throws {
        let payload = """
            {"version": "4", "groupKey": "g", "status": "firing", "receiver": "purser",
             "alerts": [{"status": "firing", "labels": {"alertname": "Down", "service": "embed"}, "startsAt": "2026-11-17T10:00:00Z",
                         "fingerprint": "aa01"}]}
            """
        let fired = try send("POST", "/api/v1/integrations/alertmanager", payload)
        #expect(fired.status == 200, "\(fired.body)")
        #expect(try value("SELECT severity FROM incident_alerts WHERE fingerprint = 'aa01'") == "SEV4")
        #expect(try value("SELECT severity FROM incidents WHERE service = 'embed'") == "SEV4")
        let resolved = try send(
            "POST", "/api/v1/integrations/alertmanager",
            payload.replacingOccurrences(of: #""status": "firing""#, with: #""status": "resolved""#)
                .replacingOccurrences(of: #""fingerprint""#, with: #""endsAt": "2026-11-17T09:58:00Z", "fingerprint""#))
        #expect(resolved.status == 200 && (resolved.body["resolved"] as? [String])?.count == 1, "\(resolved.body)")
        let stored = try value("SELECT ends_at::text || ' ' || starts_at::text FROM incident_alerts WHERE fingerprint = 'aa01'")
        #expect(
            try value("SELECT (ends_at = starts_at)::text FROM incident_alerts WHERE fingerprint = 'aa01'") == "true", "\(stored ?? "")")
    }
}
