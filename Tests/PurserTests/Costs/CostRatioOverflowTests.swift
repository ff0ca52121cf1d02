@testable import Purser
import Testing

/// Ratios of large figures (a tenant's spend in the billions: 153,000 events at the largest token
/// count and a list price) are computed, not trapped: Swift stops the process on an overflowing
/// product, and the cost report, the monthly review and the weekly report all scale by 1000.
@Suite struct CostRatioOverflowTests {
    @Test func scaledRatiosOfLargeFiguresAreExact() {
        #expect(Money.divide(7, times: 1000, by: 3) == 2333)
        #expect(Money.divide(1, times: 1000, by: 2000) == 0 && Money.divide(3, times: 1000, by: 2000) == 2, "half to even")
        let large: Int64 = 9_300_000_000_000_000
        #expect(Money.divide(large, times: 1000, by: 1_000_000_000) == 9_300_000_000)
        #expect(Money.divide(large + 1, times: 1000, by: 3) == (large + 1) / 3 * 1000 + 333)
        #expect(Money.divide(Int64.max, times: 1000, by: 1) == nil)
        #expect(Money.percent(large, of: large * 2 / 2) == "100.0 %")
        var figures = CostReport.Figures()
        figures.costMicros = large
        figures.inputTokens = 153_000_000_000_000
        figures.requests = 153_000
        #expect(figures.costPer1kTokens == 60_784)
        #expect(figures.costPerRequest == 60_784_313_725)
    }
}
