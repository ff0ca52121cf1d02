@testable import Purser
import Testing

/// What price, budget and report forms and their APIs take as a date or an amount: dates are
/// YYYY-MM-DD in digits, amounts are digits with at most six decimals, no sign.
struct CostInputShapeTests {
    @Test(arguments: ["2026-+1-05", "2026- 1-05", "+026-01-05", "2026-01-+5", "2026-1-05", "2026-01-5 ", "２０２６-01-05", "2026-02-30"])
    func notADate(text: String) {
        #expect(LocalDate(text) == nil, "\(text)")
    }

    @Test func aDate() {
        #expect(LocalDate("2028-02-29") == LocalDate(year: 2028, month: 2, day: 29))
    }

    @Test func budgetAmounts() {
        for text in ["+5", "-5", "+0.5", " 5x", "0", "0.0000001", "1e3"] {
            #expect(BudgetInput.micros(text) == nil, "\(text)")
        }
        #expect(BudgetInput.micros("1,250.50") == 1_250_500_000)
        #expect(BudgetInput.micros(" 7 ") == 7_000_000)
    }
}
