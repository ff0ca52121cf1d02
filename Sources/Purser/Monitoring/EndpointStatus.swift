// The figures shown for endpoints, built once for pages, the API and reports: this month's uptime
// and error budget per target (in the tenant's zone, maintenance excluded), with the rules they
// follow written beside them.
import Foundation
import Postgres

public struct EndpointStatus: Sendable {
    public let target: ProbeTarget
    public let objectives: UptimeObjectives
    /// This calendar month so far (tenant's zone).
    public let month: UptimeCounts
    public let budget: ErrorBudget
    public let exactPercentiles: Bool
    /// The last 24 hours, in the LLMSignal vocabulary (a signal not measured is absent).
    public let lastDay: [LLMSignal: Double]

    /// How the figures are counted, shown beside them.
    public static let rules = [
        "Uptime = up probes ÷ counted probes; counted = up + down.",
        "A failure counts only when an immediate retry confirms it; a failure the retry answers counts as up.",
        "Purser's own failures to probe are not counted: its resolver gave no address for the endpoint, the probe's "
            + "credentials could not be opened or were refused by the provider, or the request could not be made or was refused by "
            + "Purser's destination checks.",
        "Probes inside a maintenance window planned ahead are not counted, and the window's time is taken out of the month's budget.",
        "The month is the calendar month in the tenant's time zone; each down probe stands for one probe interval of downtime.",
    ]

    /// Every target of `tenant` with this month's figures.
    static func all(_ tx: Connection, tenant: UUID, now: Date, only target: UUID? = nil) throws -> (zone: TimeZone, [EndpointStatus]) {
        let (tenantObjectives, zone) = try UptimeObjectives.forTenant(tx, tenant: tenant)
        let (start, end) = UptimeMath.month(containing: now, in: zone)
        let targets = try ProbeTarget.list(tx, tenant: tenant, only: target)
        let counts = try UptimeQuery.counts(tx, tenant: tenant, target: target, from: start, to: end, now: now)
        let lastDay = try UptimeQuery.counts(
            tx, tenant: tenant, target: target, from: now.addingTimeInterval(-86400), to: now.addingTimeInterval(1), now: now)
        let windows = try MaintenanceWindows.list(tx, tenant: tenant, from: start, to: end)
        return (
            zone,
            targets.map { target in
                let objectives = UptimeObjectives.forTarget(target, tenant: tenantObjectives)
                let found = counts[target.id]
                let covered = MaintenanceWindows.coveredSeconds(
                    windows.filter { $0.target == nil || $0.target == target.id }, from: start, to: end)
                return EndpointStatus(
                    target: target, objectives: objectives, month: found?.counts ?? UptimeCounts(),
                    budget: UptimeMath.budget(
                        objectivePercent: objectives.availabilityPercent ?? 99.5, monthSeconds: end.timeIntervalSince(start),
                        maintenanceSeconds: covered, down: found?.counts.down ?? 0, interval: target.intervalSeconds),
                    exactPercentiles: found?.exactPercentiles ?? true, lastDay: signals(lastDay[target.id]?.counts))
            }
        )
    }
}

extension EndpointStatus {
    /// Counts as signals: the share of counted probes that failed, and the p95s of the successful ones.
    static func signals(_ counts: UptimeCounts?) -> [LLMSignal: Double] {
        guard let counts, counts.counted > 0 else { return [:] }
        var values: [LLMSignal: Double] = [.errorRate: Double(counts.down) / Double(counts.counted)]
        if let latency = counts.latencyP95Ms { values[.p95LatencyMs] = Double(latency) }
        if let ttft = counts.ttftP95Ms { values[.p95TTFTMs] = Double(ttft) }
        return values
    }
}

enum Figures {
    static func percent(_ value: Double?, digits: Int = 3) -> String {
        value.map { String(format: "%.\(digits)f %%", $0) } ?? "no data"
    }

    static func milliseconds(_ value: Int?) -> String { value.map { "\($0) ms" } ?? "—" }

    /// Local days ("2026-11-27") in `zone`.
    static func days(in zone: TimeZone) -> DateFormatter {
        let formatter = DateFormatter()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        (formatter.calendar, formatter.timeZone, formatter.locale, formatter.dateFormat) = (
            calendar, zone, Locale(identifier: "en_US_POSIX"), "yyyy-MM-dd"
        )
        return formatter
    }

    static func minutes(_ seconds: TimeInterval) -> String {
        let minutes = seconds / 60
        return abs(minutes) >= 120 ? String(format: "%.1f h", minutes / 60) : String(format: "%.1f min", minutes)
    }
}
