import Foundation
import HTTPServerTesting
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A real Prometheus Alertmanager on loopback delivers to Purser's webhook receiver: an alert
/// posted to it becomes an incident (with its P1 request), and when the alert resolves the
/// incident resolves with it. Alertmanager keeps real time, so Purser does too here; its route
/// waits about a second, so the whole exchange takes a few seconds.
@Suite struct AlertmanagerPeerTests {
    @Test func anAlertBecomesAnIncidentAndItsResolutionResolvesIt() throws {
        let app = try TestApp()
        let acme = try People(app, slug: "acme")
        let token = try app.app.tokens.create(
            user: acme.id("tenant_admin@acme.test"), tenant: acme.tenant, name: "alertmanager", scopes: [.alertsWrite], lifetime: 3600,
            actor: .system
        ).token
        let peer = try AlertmanagerPeer(webhook: app.baseURL + "/api/v1/integrations/alertmanager", token: token)
        let startsAt = RFC3339.string(app.app.world.now.addingTimeInterval(-60))
        let alert: [String: Any] = [
            "labels": ["alertname": "ChatErrorRate", "service": "chat-api", "severity": "critical"],
            "annotations": ["summary": "Chat API error rate above 5 %"], "startsAt": startsAt,
        ]
        try peer.post([alert])
        let db = try app.database.connect()
        func incident() -> (state: String, request: String, priority: String)? {
            guard
                let row = try? db.query(
                    """
                    SELECT i.state, r.state, r.priority FROM incidents i JOIN requests r ON r.tenant_id = i.tenant_id AND r.id = i.request_id
                    WHERE i.tenant_id = $1 AND i.service = 'chat-api'
                    """, [acme.tenant]
                ).first
            else { return nil }
            return (try! row.require(0), try! row.require(1), try! row.require(2))
        }
        #expect(waitUntil(20) { incident() != nil }, "\(peer.logText.suffix(2000))")
        #expect(incident()?.state == "detected" && incident()?.priority == "P1" && incident()?.request == "new")
        #expect(
            try db.query("SELECT title FROM incidents WHERE tenant_id = $1", [acme.tenant]).first?.require(0, as: String.self)
                == "Chat API error rate above 5 %")

        var resolved = alert
        resolved["endsAt"] = RFC3339.string(app.app.world.now.addingTimeInterval(-1))
        try peer.post([resolved])
        #expect(waitUntil(20) { incident()?.state == "resolved" }, "\(peer.logText.suffix(2000))")
        #expect(incident()?.request == "resolved")
        let alerts = try db.query("SELECT status, received FROM incident_alerts WHERE tenant_id = $1", [acme.tenant])
        let status = try alerts.first?.require(0, as: String.self)
        #expect(alerts.count == 1 && status == "resolved")
    }
}
