// Counts of probe outcomes over any period, per target: hourly rollups before the raw boundary,
// raw results from it on (ProbeRollup), so a period of any length is one query. p95 latency and
// TTFT are exact over raw results; before the boundary the highest hourly p95 of the period is
// shown (an upper bound), and `exactPercentiles` says which.
import Foundation
import Postgres

enum UptimeQuery {
    struct Result: Sendable {
        var counts: UptimeCounts
        var exactPercentiles: Bool
    }

    /// Counts per target of `tenant` (one target, or all) over [from, to).
    static func counts(_ tx: Connection, tenant: UUID, target: UUID?, from: Date, to: Date, now: Date) throws -> [UUID: Result] {
        let boundary = ProbeRollup.boundary(now: now)
        let rows = try tx.query(
            """
            WITH raw AS (
                SELECT target_id, count(*) AS probes, count(*) FILTER (WHERE outcome = 'up') AS up,
                       count(*) FILTER (WHERE outcome = 'down') AS down, count(*) FILTER (WHERE outcome = 'purser_error') AS purser,
                       count(*) FILTER (WHERE outcome = 'maintenance') AS maintenance,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE outcome = 'up') AS latency,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY ttft_ms) FILTER (WHERE outcome = 'up') AS ttft
                FROM probe_results
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR target_id = $2) AND at >= greatest($3::timestamptz, $5::timestamptz) AND at < $4
                GROUP BY target_id),
            hourly AS (
                SELECT target_id, sum(probes) AS probes, sum(up) AS up, sum(down) AS down, sum(purser_errors) AS purser,
                       sum(maintenance) AS maintenance, max(latency_p95_ms) AS latency, max(ttft_p95_ms) AS ttft
                FROM probe_hourly
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR target_id = $2) AND hour >= date_trunc('hour', $3::timestamptz, 'UTC')
                      AND hour < least($4::timestamptz, $5::timestamptz)
                GROUP BY target_id)
            SELECT coalesce(r.target_id, h.target_id), (coalesce(r.probes, 0) + coalesce(h.probes, 0))::int,
                   (coalesce(r.up, 0) + coalesce(h.up, 0))::int, (coalesce(r.down, 0) + coalesce(h.down, 0))::int,
                   (coalesce(r.purser, 0) + coalesce(h.purser, 0))::int, (coalesce(r.maintenance, 0) + coalesce(h.maintenance, 0))::int,
                   greatest(r.latency, h.latency), greatest(r.ttft, h.ttft), h.target_id IS NULL
            FROM raw r FULL JOIN hourly h ON h.target_id = r.target_id
            """, [tenant, target, from, to, boundary])
        var found: [UUID: Result] = [:]
        for row in rows {
            found[try row.require(0)] = Result(
                counts: UptimeCounts(
                    probes: try row.require(1), up: try row.require(2), down: try row.require(3), purserErrors: try row.require(4),
                    maintenance: try row.require(5), latencyP95Ms: try row.decode(6), ttftP95Ms: try row.decode(7)),
                exactPercentiles: try row.require(8))
        }
        return found
    }
}
