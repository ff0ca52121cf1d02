// The weekly report of one tenant: the Monday–Sunday before, in the tenant's zone — usage (requests,
// tokens, spend) beside the week before from the usage rollups, each endpoint's uptime, p95 latency,
// p95 TTFT and error rate beside its objectives from the monitoring rollups (UptimeReport), the
// incidents open during the week with their durations, and the share of SLA clocks met (SLAReport).
// Built at 09:00 local time on Monday and archived as it was built (WeeklyReportJob).
import Foundation
import Postgres
import struct HTTPServer.QueryParameters

public struct WeeklyReport: Codable, Sendable, Equatable {
    public struct Usage: Codable, Sendable, Equatable {
        public var requests: Int64 = 0
        /// Input (with its cached part) and output tokens.
        public var tokens: Int64 = 0
        public var costMicros: Int64 = 0
    }

    public struct Endpoint: Codable, Sendable, Equatable {
        public let name: String
        public let probes: Int
        public let up: Int
        public let down: Int
        public let uptimePercent: Double?
        public let objectivePercent: Double
        public let p95LatencyMs: Int?
        public let latencyObjectiveMs: Int?
        public let p95TTFTMs: Int?
        public let ttftObjectiveMs: Int?

        /// Down probes over counted ones (up and down; maintenance and Purser's own failures left out).
        public var errorRatePercent: Double? { up + down == 0 ? nil : Double(down) * 100 / Double(up + down) }
        public var met: Bool? { uptimePercent.map { $0 >= objectivePercent } }
    }

    public struct Incident: Codable, Sendable, Equatable {
        public let title: String
        public let service: String
        public let severity: String
        public let openedAt: Date
        public let resolvedAt: Date?

        /// Seconds from opening to resolution; nil while it is open.
        public var durationSeconds: Int? { resolvedAt.map { Int($0.timeIntervalSince(openedAt).rounded()) } }
    }

    public struct SLAClock: Codable, Sendable, Equatable {
        public let clock: String
        public let met: Int
        public let missed: Int
        public let open: Int

        public var metPercent: Double? { met + missed == 0 ? nil : Double(met) * 100 / Double(met + missed) }
    }

    /// The week's Monday and Sunday ("2026-11-16", "2026-11-22") in `timeZone`.
    public let weekStart: String
    public let weekEnd: String
    public let timeZone: String
    public let currency: String
    public let usage: Usage
    public let previousUsage: Usage
    public let endpoints: [Endpoint]
    public let incidents: [Incident]
    public let sla: [SLAClock]

    /// The Monday of the week before the one holding `now`, in `zone`.
    public static func previousWeek(of now: Date, in zone: TimeZone) -> LocalDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // Calendar weekdays: 1 = Sunday … 7 = Saturday; days since Monday: 0 … 6.
        let sinceMonday = (calendar.component(.weekday, from: now) + 5) % 7
        return LocalDate(now, in: zone).adding(days: -sinceMonday - 7)
    }

    /// Builds the report of the week starting on `monday` for `tenant`. The monitoring and SLA
    /// figures come from their own reports (each reads in its own transaction, under the tenant).
    public static func build(_ database: Database, tenant: UUID, monday: LocalDate, now: Date) throws -> WeeklyReport {
        let sunday = monday.adding(days: 6)
        let uptime = try UptimeReport.compute(
            database, tenant: tenant, parameters: QueryParameters([("from", monday.description), ("to", sunday.description)]), now: now)
        // The uptime report's zone is the tenant's: the week's bounds in it.
        let from = monday.start(in: uptime.zone), to = monday.adding(days: 7).start(in: uptime.zone)
        var query = SLAReport.Query(from: from, to: to)
        query.tenant = tenant
        let totals = try SLAReport.compute(query, database: database).totals
        let sla = SLAClockKind.allCases.compactMap { kind in
            totals[kind].map { SLAClock(clock: kind.label, met: $0.met, missed: $0.missed, open: $0.open) }
        }
        return try database.inTenant(tenant) { tx in
            let (zone, currency) = try CostReport.settings(tx, tenant: tenant)
            let (objectives, _) = try UptimeObjectives.forTenant(tx, tenant: tenant)
            let endpoints = uptime.rows.map { row in
                let objective = UptimeObjectives.forTarget(row.target, tenant: objectives)
                return Endpoint(
                    name: row.target.name, probes: row.counts.probes, up: row.counts.up, down: row.counts.down,
                    uptimePercent: row.counts.uptimePercent, objectivePercent: row.objectivePercent,
                    p95LatencyMs: row.counts.latencyP95Ms, latencyObjectiveMs: objective.p95LatencyMs, p95TTFTMs: row.counts.ttftP95Ms,
                    ttftObjectiveMs: objective.p95TTFTMs)
            }
            // Both weeks from the daily cube in one pass (local days, as the rollups keep them).
            let weeks = try tx.query(
                """
                SELECT day >= $3::date, coalesce(sum(requests), 0)::bigint,
                       coalesce(sum(input_tokens + cached_input_tokens + output_tokens), 0)::bigint, coalesce(sum(cost_micros), 0)::bigint
                FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $4::date GROUP BY 1
                """, [tenant, monday.adding(days: -7).description, monday.description, sunday.description])
            var usage = Usage(), previous = Usage()
            for row in weeks {
                let figures = Usage(requests: try row.require(1), tokens: try row.require(2), costMicros: try row.require(3))
                if try row.require(0, as: Bool.self) { usage = figures } else { previous = figures }
            }
            // Incidents open at any time during the week, oldest first.
            let incidents = try tx.query(
                """
                SELECT title, service, severity, opened_at, resolved_at FROM incidents
                WHERE tenant_id = $1 AND opened_at < $3 AND (resolved_at IS NULL OR resolved_at >= $2)
                ORDER BY opened_at, id LIMIT 200
                """, [tenant, from, to]
            ).map {
                Incident(
                    title: try $0.require(0), service: try $0.require(1), severity: try $0.require(2), openedAt: try $0.require(3),
                    resolvedAt: try $0.decode(4))
            }
            return WeeklyReport(
                weekStart: monday.description, weekEnd: sunday.description, timeZone: zone.identifier, currency: currency, usage: usage,
                previousUsage: previous, endpoints: endpoints, incidents: incidents, sla: sla)
        }
    }

    /// The change from `before` to `now` as a percentage to a tenth ("+12.5 %"), "new", or "—".
    public static func change(_ now: Int64, from before: Int64) -> String {
        guard before > 0, let tenths = Money.divide(now - before, times: 1000, by: before) else { return now > 0 ? "new" : "—" }
        return (tenths >= 0 ? "+" : "-") + "\(tenths.magnitude / 10).\(tenths.magnitude % 10) %"
    }

    /// "2 h 05 min", "45 min", "3 d 4 h".
    public static func duration(_ seconds: Int?) -> String {
        guard let seconds else { return "still open" }
        let minutes = seconds / 60
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 24 * 60 { return "\(minutes / 60) h \(String(format: "%02d", minutes % 60)) min" }
        return "\(minutes / 1440) d \(minutes % 1440 / 60) h"
    }

    /// A percentage to three decimals ("99.405 %"), or "—" with nothing counted.
    public static func percent(_ value: Double?, decimals: Int = 3) -> String {
        value.map { String(format: "%.\(decimals)f %%", $0) } ?? "—"
    }
}
