import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Other sources open incidents the way Alertmanager does: a cost anomaly found by the hourly scan
/// opens one SEV3 incident per model or team (its request filed for the tenant's administrator),
/// and the next scan of the same hour opens nothing more.
@Suite struct IncidentSourceTests {
    @Test func aCostAnomalyOpensAnIncidentOnce() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T10:20:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        let fixture = try CostFixture(app)
        let nine = RFC3339.date("2026-11-20T09:00:00Z")!
        for day in 0...7 {
            try fixture.hourly(
                tenant: people.tenant, hour: nine.addingTimeInterval(-86400 * Double(day)), model: "gpt-4o",
                cost: day == 0 ? 12_000_000 : 4_000_000)
        }
        for _ in 0..<2 {
            _ = try AnomalyScan.scan(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test")
        }
        let rows = try app.database.connect().query(
            """
            SELECT i.source, i.severity, i.service, r.type, r.priority, u.email FROM incidents i
            JOIN requests r ON r.tenant_id = i.tenant_id AND r.id = i.request_id JOIN users u ON u.id = r.requester_id
            WHERE i.tenant_id = $1
            """, [people.tenant])
        #expect(rows.count == 1)
        let found = try rows.first.map { row in try (0..<6).map { try row.require($0, as: String.self) } }
        #expect(found == ["cost", "SEV3", "spend model gpt-4o", "incident", "P3", "tenant_admin@acme.test"])
    }
}

/// The timeline reads what other features recorded: a rollback of the tenant's deployment around
/// the incident and the JIT grant that names the incident's request.
@Suite struct IncidentTimelineTests {
    @Test func deploymentsRollbacksAndGrantsJoinTheTimeline() throws {
        let app = try TestApp()
        let people = try People(app)
        let deployment = try IsolationWalk.deploymentThings(of: people, in: app).deployment
        let grant = try IsolationWalk.accessThings(of: people, in: app).grant
        let admin = Principal(user: people.id("tenant_admin@acme.test"), tenantRole: .tenantAdmin, staffRole: nil, tenant: people.tenant)
        let store = IncidentStore(database: app.app.database, clock: app.app.world.clock, publicURL: "http://purser.test")
        let incident = try store.open(
            NewIncident(title: "Errors after the rollout", severity: "SEV3"), tenant: people.tenant, principal: admin, actor: .system)
        try app.app.database.inTenant(people.tenant) { tx in
            try tx.query(
                """
                INSERT INTO rollout_events (tenant_id, deployment_id, seq, at, from_state, to_state, action, reason)
                VALUES ($1, $2, 1, $3, 'rolling_out', 'rolled_back', 'rollback', 'error rate 7 % over 2 %')
                """, [people.tenant, deployment, app.app.world.now.addingTimeInterval(-600)])
            try tx.query("UPDATE access_grants SET linked_request_id = $2 WHERE id = $1", [grant, incident.requestID])
        }
        let entries = try app.app.database.inTenant(people.tenant) { tx in
            try IncidentTimeline.entries(tx, tenant: people.tenant, incident: incident, includeInternal: false, now: app.app.world.now)
        }
        #expect(entries.map(\.kind) == ["rollback", "grant", "opened"] || entries.map(\.kind) == ["rollback", "opened", "grant"])
        #expect(entries.first?.detail.contains("rolling_out → rolled_back (rollback): error rate 7 % over 2 %") == true)
        #expect(entries.contains { $0.kind == "grant" && $0.detail.contains("role approver") && $0.actor == "requester" })
    }
}
