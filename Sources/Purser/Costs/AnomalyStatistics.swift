// Whether an hour's spend is anomalous, against its own trailing baseline: the same hour of the day
// on each of the previous seven days. The baseline is their median and the spread their median
// absolute deviation (MAD), so one odd day in the week moves neither. An hour is anomalous when its
// whole spend (the hour sustained, not a moment of it) is above twice the baseline and also stands
// out from the week's spread (more than three scaled MADs above the median), and is at least a
// minimum worth telling anyone about. Integers throughout: spend is micro-units.
import Foundation

public enum AnomalyStatistics {
    public struct Verdict: Sendable, Equatable {
        public let spend: Int64
        /// The median of the history.
        public let baseline: Int64
        /// The median absolute deviation of the history from its median.
        public let mad: Int64
        public let anomalous: Bool

        /// Spend over baseline, to the tenth ("3.4×"); "new" over a zero baseline.
        public var ratio: String {
            guard baseline > 0, let tenths = Money.divide(spend * 10, by: baseline) else { return "new" }
            return "\(tenths / 10).\(tenths % 10)×"
        }
    }

    /// Spend must exceed the baseline by this factor…
    public static let factor: Int64 = 2
    /// …and stand this many scaled MADs (1.4826 × MAD, the standard deviation's robust estimate) above it…
    public static let spreads: Int64 = 3
    /// …and be at least this much in an hour (one unit of the currency).
    public static let minimumMicros: Int64 = 1_000_000
    /// Days of history that must have spend before any hour is judged: a new model or tenant has no baseline.
    public static let minimumDaysWithSpend = 3

    /// The median, rounding the mean of the middle two half to even.
    public static func median(_ values: [Int64]) -> Int64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        if sorted.count % 2 == 1 { return sorted[middle] }
        return Money.divide(sorted[middle - 1] + sorted[middle], by: 2) ?? 0
    }

    public static func mad(_ values: [Int64], median: Int64) -> Int64 {
        Self.median(values.map { ($0 - median).magnitude }.map { Int64($0) })
    }

    /// The verdict on `spend` given `history` (the same hour of the previous days; days without
    /// usage count as zero); nil when the history is too thin to judge.
    public static func judge(spend: Int64, history: [Int64]) -> Verdict? {
        guard history.filter({ $0 > 0 }).count >= minimumDaysWithSpend else { return nil }
        let baseline = median(history)
        let mad = mad(history, median: baseline)
        // spend − median > spreads × 1.4826 × MAD, in integers: × 10,000.
        let spread = (spend - baseline) * 10_000 > spreads * 14_826 * mad
        let anomalous = spend >= minimumMicros && spend > factor * baseline && spread
        return Verdict(spend: spend, baseline: baseline, mad: mad, anomalous: anomalous)
    }
}
