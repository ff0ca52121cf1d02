import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Spend anomalies: the statistics as a table of cases, and the hourly scan over usage_hourly,
/// which records and tells of a synthetic spike once and of a steady series never.
@Suite struct AnomalyTests {
    @Test(
        arguments: [
            // (spend, the same hour on the 7 days before, anomalous?)
            (Int64(10_000_000), [Int64](repeating: 4_000_000, count: 7), true),  // 2.5× a flat week
            (Int64(7_900_000), [Int64](repeating: 4_000_000, count: 7), false),  // under 2×
            (Int64(4_100_000), [4_000_000, 4_200_000, 3_900_000, 4_100_000, 4_000_000, 3_800_000, 4_050_000], false),  // steady
            // One odd day in the week moves neither the median nor the MAD: still an anomaly.
            (Int64(10_000_000), [4_000_000, 4_000_000, 40_000_000, 4_100_000, 3_900_000, 4_000_000, 4_000_000], true),
            // A noisy week: above 2× the median but within three scaled MADs of it.
            (Int64(9_000_000), [1_000_000, 8_000_000, 2_000_000, 7_000_000, 4_000_000, 1_500_000, 6_000_000], false),
            // Too little to tell anyone about.
            (Int64(900_000), [Int64](repeating: 100_000, count: 7), false),
        ] as [(Int64, [Int64], Bool)])
    func verdicts(spend: Int64, history: [Int64], anomalous: Bool) throws {
        let verdict = try #require(AnomalyStatistics.judge(spend: spend, history: history))
        #expect(verdict.anomalous == anomalous)
    }

    @Test func statisticsAreRobustAndNeedAHistory() {
        #expect(AnomalyStatistics.median([5, 1, 3]) == 3)
        #expect(AnomalyStatistics.median([1, 2, 3, 4]) == 2)  // 2.5 → 2, half to even
        #expect(AnomalyStatistics.mad([1, 2, 3, 4, 100], median: 3) == 1)
        // A new model has no baseline: no verdict rather than an alarm.
        #expect(AnomalyStatistics.judge(spend: 50_000_000, history: [0, 0, 0, 0, 0, 3_000_000, 2_000_000]) == nil)
        let verdict = AnomalyStatistics.judge(spend: 10_000_000, history: [Int64](repeating: 4_000_000, count: 7))
        #expect(verdict?.ratio == "2.5×")
        #expect(verdict?.baseline == 4_000_000)
    }

    @Test func theScanRecordsASpikeOnceAndNeverASteadySeries() throws {
        let clock = SettableClock(RFC3339.date("2026-11-20T10:20:00Z")!)
        let app = try TestApp(clock: clock)
        let people = try People(app)
        let fixture = try CostFixture(app)
        // A week of the 09:00 hour at about 4 units for two models; today gpt-4o spends 12 units in it.
        let nine = RFC3339.date("2026-11-20T09:00:00Z")!
        for day in 0...7 {
            let hour = nine.addingTimeInterval(-86400 * Double(day))
            try fixture.hourly(tenant: people.tenant, hour: hour, model: "gpt-4o", team: "search", cost: day == 0 ? 12_000_000 : 4_000_000)
            try fixture.hourly(tenant: people.tenant, hour: hour, model: "claude", team: "support", cost: 4_000_000 + Int64(day) * 50_000)
        }
        let found = try AnomalyScan.scan(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test")
        #expect(found.map { "\($0.dimension) \($0.value)" }.sorted() == ["model gpt-4o", "team search"])
        #expect(found.first?.verdict.baseline == 4_000_000)
        // Scanned again (the next run sees the same hour): nothing new, nothing told twice.
        #expect(try AnomalyScan.scan(app.app.database, tenant: people.tenant, now: clock.now, publicURL: "https://purser.test").isEmpty)
        let sql = try app.database.connect()
        #expect(try sql.query("SELECT count(*) FROM cost_anomalies")[0].require(0, as: Int.self) == 2)
        // The tenant's admin is told by e-mail, once per anomaly.
        let told = try sql.query(
            "SELECT count(*) FROM notification_deliveries WHERE tenant_id = $1 AND event = 'cost.anomaly'", [people.tenant])[0].require(
                0, as: Int.self)
        #expect(told == 2)
        // Listed on the costs page.
        let page = try people.signedIn("viewer@acme.test", in: app).get("/t/acme/costs")
        #expect(page.status == 200)
        #expect(page.text.contains("12.00 USD"))
        #expect(page.text.contains("3.0×"))
    }
}
