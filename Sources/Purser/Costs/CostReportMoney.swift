// Money as Purser shows it: an exact integer of micro-units and a currency, written with every
// significant decimal (at least two) and thousands separators — never through floating point, so
// what a report shows is what the rollups hold, to the micro-unit.
import Foundation

public struct Money: Sendable, Equatable, Hashable {
    public let micros: Int64
    public let currency: String

    public init(micros: Int64, currency: String) {
        self.micros = micros
        self.currency = currency
    }

    /// "1,234.56 USD", "0.000105 USD", "-3.00 EUR".
    public var display: String { Money.decimal(micros) + " " + currency }

    /// The amount without its currency, as CSV and JSON carry it: "1234.56", "0.000105".
    public var plain: String { Money.decimal(micros, grouping: false) }

    /// Micro-units as a decimal: the integer part, then the six decimals with trailing zeros cut
    /// down to two.
    public static func decimal(_ micros: Int64, grouping: Bool = true) -> String {
        let negative = micros < 0
        let magnitude = micros.magnitude
        let whole = magnitude / 1_000_000
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + (grouping ? grouped(whole) : String(whole)) + "." + fraction
    }

    /// A whole number with thousands separators: "1,234,567".
    public static func grouped(_ value: UInt64) -> String {
        let digits = String(value)
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return grouped
    }

    /// `numerator / denominator` rounded half to even, in integers (a cost per request, per 1,000
    /// tokens); nil when the denominator is zero.
    public static func divide(_ numerator: Int64, by denominator: Int64) -> Int64? {
        guard denominator != 0 else { return nil }
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        let twice = remainder.magnitude * 2
        if twice > denominator.magnitude || (twice == denominator.magnitude && quotient % 2 != 0) {
            return quotient + ((numerator < 0) != (denominator < 0) ? -1 : 1)
        }
        return quotient
    }

    /// `numerator × factor / denominator` rounded half to even (`factor` even: 1000 for per 1,000
    /// tokens or tenths of a percent); nil when it does not fit. The product alone could pass 64 bits
    /// (a cost of billions × 1000), which traps in Swift and took the process down with the page:
    /// then the whole quotient is scaled and the remainder's share rounded, the same figure exactly.
    public static func divide(_ numerator: Int64, times factor: Int64, by denominator: Int64) -> Int64? {
        guard denominator != 0 else { return nil }
        let (product, overflow) = numerator.multipliedReportingOverflow(by: factor)
        if !overflow { return divide(product, by: denominator) }
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        let (whole, wholeOverflow) = quotient.multipliedReportingOverflow(by: factor)
        let (part, partOverflow) = remainder.multipliedReportingOverflow(by: factor)
        guard !wholeOverflow, !partOverflow, let share = divide(part, by: denominator) else { return nil }
        let (sum, sumOverflow) = whole.addingReportingOverflow(share)
        return sumOverflow ? nil : sum
    }

    /// A share as a percentage with one decimal, from integers ("12.5 %"); "—" when nothing to share.
    public static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0, let tenths = divide(part, times: 1000, by: whole) else { return "—" }
        return "\(tenths / 10).\(tenths.magnitude % 10) %"
    }
}
