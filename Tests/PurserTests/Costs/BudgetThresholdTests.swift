import Foundation
@testable import Purser
import Testing

/// A budget's thresholds are compared exactly at any amount the form takes (up to twelve digits
/// before the point): a large amount at a high level is not reached by a small spend.
@Suite struct BudgetThresholdTests {
    @Test func largeAmountsAtHighLevelsAreNotReachedEarly() throws {
        let amount = try #require(BudgetInput.micros("999999999999.999999"))
        let budget = Budget(
            id: UUID(), tenant: UUID(), name: "Large", scope: .tenant, scopeValue: "", amountMicros: amount, currency: "USD",
            period: .month, thresholds: [70, 100, 1000], owners: [], version: 1)
        #expect(budget.reached(spend: 0).isEmpty)
        #expect(budget.reached(spend: 1_000_000).isEmpty)
        #expect(budget.reached(spend: amount) == [70, 100])
        #expect(budget.reached(spend: Int64.max) == [70, 100])
        let small = Budget(
            id: UUID(), tenant: UUID(), name: "Small", scope: .tenant, scopeValue: "", amountMicros: 100_000_000, currency: "USD",
            period: .month, thresholds: [70, 90, 100], owners: [], version: 1)
        #expect(small.reached(spend: 69_999_999).isEmpty && small.reached(spend: 70_000_000) == [70])
        #expect(small.reached(spend: 100_000_000) == [70, 90, 100])
    }
}
