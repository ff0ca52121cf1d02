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
