// Probe outcomes by hour (charts) and by local day (status pages), from hourly rollups before the
// raw boundary and raw results after it (ProbeRollup), in one query each.
import Foundation
import Postgres

enum EndpointHistory {
    struct Hour: Sendable {
        let hour: Date
        let up: Int
        let down: Int
        let latencyP95Ms: Int?
        let ttftP95Ms: Int?

        var uptimePercent: Double? { up + down == 0 ? nil : Double(up) / Double(up + down) * 100 }
    }

    static let byHour = """
        SELECT hour, up, down, latency_p95_ms, ttft_p95_ms FROM probe_hourly
        WHERE tenant_id = $1 AND target_id = $2 AND hour >= $3 AND hour < least($4::timestamptz, $5::timestamptz)
        UNION ALL
        SELECT date_trunc('hour', at, 'UTC'), (count(*) FILTER (WHERE outcome = 'up'))::int, (count(*) FILTER (WHERE outcome = 'down'))::int,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE outcome = 'up'),
               percentile_disc(0.95) WITHIN GROUP (ORDER BY ttft_ms) FILTER (WHERE outcome = 'up')
        FROM probe_results WHERE tenant_id = $1 AND target_id = $2 AND at >= greatest($3::timestamptz, $5::timestamptz) AND at < $4
        GROUP BY 1
        ORDER BY 1
        """

    static func hours(_ tx: Connection, tenant: UUID, target: UUID, from: Date, to: Date, now: Date) throws -> [Hour] {
        try tx.query(byHour, [tenant, target, from, to, ProbeRollup.boundary(now: now)]).map {
            Hour(
                hour: try $0.require(0), up: try $0.require(1), down: try $0.require(2), latencyP95Ms: try $0.decode(3),
                ttftP95Ms: try $0.decode(4))
        }
    }

    /// Uptime per target and local day ("2026-11-27") over [from, to).
    static func days(_ tx: Connection, tenant: UUID, from: Date, to: Date, zone: TimeZone, now: Date) throws -> [UUID: [String: Double]] {
        let rows = try tx.query(
            """
            WITH counted AS (
                SELECT target_id, hour AS at, up, down FROM probe_hourly WHERE tenant_id = $1 AND hour >= $2 AND hour < least($3::timestamptz, $4::timestamptz)
                UNION ALL
                SELECT target_id, at, (outcome = 'up')::int, (outcome = 'down')::int FROM probe_results
                WHERE tenant_id = $1 AND at >= greatest($2::timestamptz, $4::timestamptz) AND at < $3 AND outcome IN ('up', 'down'))
            SELECT target_id, to_char(at AT TIME ZONE $5::text, 'YYYY-MM-DD'), sum(up)::int, sum(down)::int FROM counted GROUP BY 1, 2
            """, [tenant, from, to, ProbeRollup.boundary(now: now), zone.identifier])
        var found: [UUID: [String: Double]] = [:]
        for row in rows {
            let up = try row.require(2, as: Int.self), down = try row.require(3, as: Int.self)
            guard up + down > 0 else { continue }
            found[try row.require(0), default: [:]][try row.require(1)] = Double(up) / Double(up + down) * 100
        }
        return found
    }

    /// The local days of [from, to) in `zone`, oldest first.
    static func dayLabels(from: Date, count: Int, zone: TimeZone) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formatter = Figures.days(in: zone)
        let start = calendar.startOfDay(for: from)
        return (0..<count).compactMap { calendar.date(byAdding: .day, value: $0, to: start).map(formatter.string(from:)) }
    }
}
