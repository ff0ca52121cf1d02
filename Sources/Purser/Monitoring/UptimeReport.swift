// Uptime for any period, per endpoint and for the tenant: days in the tenant's time zone, from
// hourly rollups and raw results (UptimeQuery), each row beside its objective, with the counting
// rules. The same report is a page, a CSV and GET /api/v1/reports/uptime.
import Foundation
import Postgres
import struct HTTPServer.FieldError
import struct HTTPServer.QueryParameters

public struct UptimeReport: Sendable {
    public struct Row: Sendable {
        public let target: ProbeTarget
        public let counts: UptimeCounts
        public let objectivePercent: Double
        public let exactPercentiles: Bool

        /// Met when the uptime reaches the objective (nil: nothing counted).
        public var met: Bool? { counts.uptimePercent.map { $0 >= objectivePercent } }
    }

    public let fromDay: String
    public let toDay: String
    public let zone: TimeZone
    public let endpoint: UUID?
    public let rows: [Row]

    /// The tenant's figures: every endpoint's counts added up.
    public var total: UptimeCounts {
        rows.reduce(into: UptimeCounts()) { sum, row in
            sum.probes += row.counts.probes
            sum.up += row.counts.up
            sum.down += row.counts.down
            sum.purserErrors += row.counts.purserErrors
            sum.maintenance += row.counts.maintenance
        }
    }

    static func day(_ text: String, zone: TimeZone) -> Date? {
        guard text.count == 10 else { return nil }
        return Figures.days(in: zone).date(from: text)
    }

    /// `from` and `to` (inclusive local days, default this month so far) and `endpoint` (an id); a period
    /// that ends before it starts is refused.
    public static func compute(_ database: Database, tenant: UUID, parameters: QueryParameters, now: Date) throws -> UptimeReport {
        try database.inTenant(tenant) { tx in
            let (_, zone) = try UptimeObjectives.forTenant(tx, tenant: tenant)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let formatter = Figures.days(in: zone)
            var errors: [FieldError] = []
            let fromText = parameters["from"].flatMap { $0.isEmpty ? nil : $0 }
            let toText = parameters["to"].flatMap { $0.isEmpty ? nil : $0 }
            // Either end alone: from the first day of the last day's month; to today, or the first day if later.
            let toGiven = toText.map { day($0, zone: zone) }
            let from = fromText.map { day($0, zone: zone) } ?? UptimeMath.month(containing: (toGiven ?? nil) ?? now, in: zone).start
            let toStart = toGiven ?? max(calendar.startOfDay(for: now), from ?? now)
            if from == nil { errors.append(FieldError(field: "from", detail: "a date like 2026-11-01")) }
            if toStart == nil { errors.append(FieldError(field: "to", detail: "a date like 2026-11-30")) }
            var endpoint: UUID?
            if let text = parameters["endpoint"], !text.isEmpty {
                endpoint = UUID(uuidString: text)
                if endpoint == nil { errors.append(FieldError(field: "endpoint", detail: "an endpoint's id")) }
            }
            guard errors.isEmpty, let from, let toStart, let to = calendar.date(byAdding: .day, value: 1, to: toStart) else {
                throw ValidationError(errors)
            }
            if to <= from { throw ValidationError([FieldError(field: "to", detail: "the period ends on or after its first day")]) }
            let (tenantObjectives, _) = try UptimeObjectives.forTenant(tx, tenant: tenant)
            let targets = try ProbeTarget.list(tx, tenant: tenant, only: endpoint)
            if let endpoint, targets.isEmpty { throw NotFound(detail: "no endpoint \(endpoint.postgresText) here") }
            let counts = try UptimeQuery.counts(tx, tenant: tenant, target: endpoint, from: from, to: to, now: now)
            return UptimeReport(
                fromDay: formatter.string(from: from), toDay: formatter.string(from: toStart), zone: zone, endpoint: endpoint,
                rows: targets.map { target in
                    Row(
                        target: target, counts: counts[target.id]?.counts ?? UptimeCounts(),
                        objectivePercent: UptimeObjectives.forTarget(target, tenant: tenantObjectives).availabilityPercent ?? 99.5,
                        exactPercentiles: counts[target.id]?.exactPercentiles ?? true)
                })
        }
    }

    public var csv: String {
        var text = CSV.line([
            "endpoint", "from", "to", "time_zone", "probes", "up", "down", "purser_errors", "maintenance", "uptime_percent",
            "objective_percent", "met", "p95_latency_ms", "p95_ttft_ms",
        ])
        func optional(_ value: Int?) -> String { value.map(String.init) ?? "" }
        for row in rows {
            text += CSV.line([
                row.target.name, fromDay, toDay, zone.identifier, String(row.counts.probes), String(row.counts.up), String(row.counts.down),
                String(row.counts.purserErrors), String(row.counts.maintenance),
                row.counts.uptimePercent.map { String(format: "%.4f", $0) } ?? "", String(row.objectivePercent),
                row.met.map { $0 ? "yes" : "no" } ?? "", optional(row.counts.latencyP95Ms), optional(row.counts.ttftP95Ms),
            ])
        }
        let total = total
        text += CSV.line([
            "(tenant)", fromDay, toDay, zone.identifier, String(total.probes), String(total.up), String(total.down),
            String(total.purserErrors), String(total.maintenance), total.uptimePercent.map { String(format: "%.4f", $0) } ?? "", "", "", "",
            "",
        ])
        return text
    }
}
