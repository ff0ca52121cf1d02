// The uptime arithmetic, apart from storage so that it is checked by hand:
// - uptime = up probes ÷ counted probes, where counted = up + down. A `down` is a failure its
//   retry confirmed; Purser's own failures to probe (ProbeOutcome.purserError) and probes inside a
//   maintenance window are not counted at all.
// - The month's error budget: (1 − objective) × the probes the month should count, i.e. the month's
//   seconds outside maintenance ÷ the probe interval; what remains is that minus the down probes,
//   shown as a share and as minutes of downtime still allowed.
// - Burn rate over a window: the window's share of down probes ÷ (1 − objective); an alert needs a
//   long and a short window both above the threshold (fast: 1 h and 5 min above 14.4, which would
//   spend 2 % of a 30-day budget in an hour; slow: 6 h and 30 min above 6, 5 % in six hours).
import Foundation

public struct UptimeCounts: Sendable, Equatable {
    public var probes = 0
    public var up = 0
    public var down = 0
    public var purserErrors = 0
    public var maintenance = 0
    public var latencyP95Ms: Int?
    public var ttftP95Ms: Int?

    public init(
        probes: Int = 0, up: Int = 0, down: Int = 0, purserErrors: Int = 0, maintenance: Int = 0, latencyP95Ms: Int? = nil,
        ttftP95Ms: Int? = nil
    ) {
        (self.probes, self.up, self.down, self.purserErrors, self.maintenance) = (probes, up, down, purserErrors, maintenance)
        (self.latencyP95Ms, self.ttftP95Ms) = (latencyP95Ms, ttftP95Ms)
    }

    public var counted: Int { up + down }

    /// Up probes over counted probes, in percent; nil with nothing counted.
    public var uptimePercent: Double? { counted == 0 ? nil : Double(up) / Double(counted) * 100 }
}

public struct ErrorBudget: Sendable, Equatable {
    public var objectivePercent: Double
    /// Seconds of the month outside maintenance windows.
    public var eligibleSeconds: TimeInterval
    public var maintenanceSeconds: TimeInterval
    /// Downtime the month allows, and how much was used, in seconds.
    public var allowedSeconds: TimeInterval
    public var usedSeconds: TimeInterval

    public var remainingSeconds: TimeInterval { allowedSeconds - usedSeconds }
    /// What remains, as a share of the month's budget (negative once it is spent).
    public var remainingShare: Double { allowedSeconds <= 0 ? 0 : remainingSeconds / allowedSeconds }
}

public enum UptimeMath {
    /// The month's budget: `down` probes each stand for one `interval` of downtime.
    public static func budget(
        objectivePercent: Double, monthSeconds: TimeInterval, maintenanceSeconds: TimeInterval, down: Int, interval: Int
    ) -> ErrorBudget {
        let eligible = max(0, monthSeconds - maintenanceSeconds)
        return ErrorBudget(
            objectivePercent: objectivePercent, eligibleSeconds: eligible, maintenanceSeconds: maintenanceSeconds,
            allowedSeconds: eligible * (1 - objectivePercent / 100), usedSeconds: TimeInterval(down * interval))
    }

    public static func burnRate(down: Int, counted: Int, objectivePercent: Double) -> Double {
        guard counted > 0, objectivePercent < 100 else { return 0 }
        return (Double(down) / Double(counted)) / (1 - objectivePercent / 100)
    }

    public struct BurnWindow: Sendable {
        public let name: String
        public let long: TimeInterval
        public let short: TimeInterval
        public let threshold: Double
    }

    public static let fastBurn = BurnWindow(name: "fast", long: 3600, short: 300, threshold: 14.4)
    public static let slowBurn = BurnWindow(name: "slow", long: 6 * 3600, short: 1800, threshold: 6)

    /// The calendar month holding `date` in `zone`: its start and end.
    public static func month(containing date: Date, in zone: TimeZone) -> (start: Date, end: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        return (start, calendar.date(byAdding: .month, value: 1, to: start)!)
    }
}
