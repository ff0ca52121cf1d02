import Foundation
@testable import Purser
import Testing

/// The report's pure parts: exact money, periods in a zone, the stacked chart.
@Suite struct CostReportTests {
    @Test func moneyIsWrittenExactlyFromMicroUnits() {
        #expect(Money(micros: 1_234_560_000, currency: "USD").display == "1,234.56 USD")
        #expect(Money(micros: 105, currency: "USD").display == "0.000105 USD")
        #expect(Money(micros: 0, currency: "EUR").display == "0.00 EUR")
        #expect(Money(micros: -3_000_000, currency: "EUR").display == "-3.00 EUR")
        #expect(Money(micros: 1_234_567_890_123, currency: "CHF").plain == "1234567.890123")
        // Half to even: 5/2 = 2.5 → 2, 7/2 = 3.5 → 4, −5/2 → −2.
        #expect(Money.divide(5, by: 2) == 2)
        #expect(Money.divide(7, by: 2) == 4)
        #expect(Money.divide(-5, by: 2) == -2)
        #expect(Money.divide(10, by: 3) == 3)
        #expect(Money.divide(1, by: 0) == nil)
        #expect(Money.percent(1, of: 8) == "12.5 %")
        #expect(Money.percent(1, of: 0) == "—")
        #expect(BudgetInput.micros("2,500.5") == 2_500_500_000)
        #expect(BudgetInput.micros("0.000001") == 1)
        #expect(BudgetInput.micros("1.0000001") == nil)
        #expect(BudgetInput.micros("-4") == nil)
        #expect(BudgetInput.micros("0") == nil)
        #expect(BudgetInput.micros("1e3") == nil)
    }

    @Test func presetsAreWholeLocalDaysInTheTenantsZone() throws {
        // 23:30 UTC on 30 Nov is already 1 Dec in Zurich.
        let instant = RFC3339.date("2026-11-30T23:30:00Z")!
        let today = LocalDate(instant, in: TimeZone(identifier: "Europe/Zurich")!)
        #expect(today.description == "2026-12-01")
        #expect(LocalDate(instant, in: TimeZone(identifier: "UTC")!).description == "2026-11-30")
        let cases: [(CostPeriod.Preset, String, String)] = [
            (.thisMonth, "2026-12-01", "2026-12-01"), (.lastMonth, "2026-11-01", "2026-11-30"),
            (.last7Days, "2026-11-25", "2026-12-01"), (.last30Days, "2026-11-02", "2026-12-01"),
            (.last90Days, "2026-09-03", "2026-12-01"),
        ]
        for (preset, from, to) in cases {
            let period = CostPeriod(preset, today: today)
            #expect(period.from.description == from, "\(preset)")
            #expect(period.to.description == to, "\(preset)")
        }
        let march = CostPeriod(.lastMonth, today: LocalDate("2024-03-15")!)
        #expect(march.to.description == "2024-02-29")
        #expect(CostPeriod(.lastMonth, today: LocalDate("2026-01-10")!).from.description == "2025-12-01")
        #expect(try CostPeriod(preset: nil, from: "2026-10-05", to: "2026-10-07", today: today).days.count == 3)
        let backwards = #expect(throws: ValidationError.self) {
            try CostPeriod(preset: nil, from: "2026-10-07", to: "2026-10-05", today: today)
        }
        #expect(backwards?.fieldErrors.first?.field == "from")
        #expect(throws: ValidationError.self) { try CostPeriod(preset: nil, from: "2026-02-30", to: nil, today: today) }
        #expect(throws: ValidationError.self) { try CostPeriod(preset: "yesterday", from: nil, to: nil, today: today) }
    }

    @Test func stackedBarsDrawEachSegmentWithItsExactFigureOnATimeAxis() {
        let days = (0..<10).map { LocalDate("2026-10-27")!.adding(days: $0) }
        let svg = SVGChart.stackedBars(
            title: "Spend <by> model",
            series: [SVGChart.Series(name: "gpt-4o", colour: "#0072b2"), SVGChart.Series(name: "claude", colour: "#e69f00")],
            columns: days.map { SVGChart.Column(day: $0, values: [1_500_000, $0.day == 1 ? 0 : 250_000]) },
            format: { Money.decimal($0) })
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains("Spend &lt;by&gt; model"))
        // 10 gpt-4o segments and 9 claude ones (none drawn for a zero).
        #expect(svg.components(separatedBy: "class=\"bar\"").count - 1 == 19)
        #expect(svg.contains("2026-10-27 · gpt-4o: 1.50"))
        #expect(svg.contains("2026-11-02 · claude: 0.25"))
        // The time axis names the first day and the month's start.
        #expect(svg.contains(">Oct 27</text>"))
        #expect(svg.contains(">Nov 1</text>"))
        #expect(!svg.contains("style="))
        #expect(SVGChart.niceCeiling(1_750_000) == 2_000_000)
        #expect(SVGChart.niceCeiling(0) == 4)
    }

    @Test func eachQueryReadsTheSmallestRollupHoldingWhatItNames() {
        func query(_ groupBy: CostReport.Dimension, then: CostReport.Dimension? = nil, filters: [(CostReport.Dimension, String)] = [])
            -> CostReport.Query
        {
            var query = CostReport.Query(tenant: UUID(), period: CostPeriod(.thisMonth, today: LocalDate("2026-11-30")!))
            query.groupBy = groupBy
            query.thenBy = then
            query.filters = filters
            return query
        }
        #expect(CostReport.table(query(.model, then: .day)) == "usage_daily_models")
        #expect(CostReport.table(query(.team)) == "usage_daily_teams")
        #expect(CostReport.table(query(.day, filters: [(.team, "search")])) == "usage_daily_teams")
        #expect(CostReport.table(query(.team, then: .model)) == "usage_daily")
        #expect(CostReport.table(query(.team, filters: [(.feature, "chat")])) == "usage_daily")
        #expect(CostReport.table(query(.key)) == "usage_daily_keys")
        // The team slice has no model: unpriced models come from the model grain, or the cube under a team filter.
        #expect(CostReport.unpricedTable(query(.team)) == "usage_daily_models")
        #expect(CostReport.unpricedTable(query(.day, filters: [(.team, "search")])) == "usage_daily")
    }

    @Test func budgetThresholdsAreReachedInIntegers() {
        let budget = Budget(
            id: UUID(), tenant: UUID(), name: "b", scope: .tenant, scopeValue: "", amountMicros: 1_000_000_000, currency: "USD",
            period: .month, startsOn: nil, endsOn: nil, thresholds: [100, 70, 90], owners: [], version: 1)
        #expect(budget.reached(spend: 699_999_999) == [])
        #expect(budget.reached(spend: 700_000_000) == [70])
        #expect(budget.reached(spend: 1_000_000_000) == [70, 90, 100])
        let period = budget.currentPeriod(today: LocalDate("2026-02-14")!)
        #expect(period?.from.description == "2026-02-01")
        #expect(period?.to.description == "2026-02-28")
    }
}
