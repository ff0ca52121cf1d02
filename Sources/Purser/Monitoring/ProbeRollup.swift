// Compact storage: raw probe results are kept for `rawRetention` (14 days); every hour the
// monitoring.rollup job folds complete hours into probe_hourly (counts by outcome, p95 latency and
// TTFT of the hour's successful probes) and deletes raw results past retention. Reports read
// hourly rows before `boundary` and raw results from it on (UptimeQuery).
import Foundation
import Postgres

enum ProbeRollup {
    static let kind = "monitoring.rollup"
    static let schedule = Schedule(name: kind, kind: kind, recurrence: .every(seconds: 3600))
    static let rawRetention: TimeInterval = 14 * 86400

    /// Where reports switch from hourly rows to raw results: a whole hour, a day inside retention,
    /// so the raw side is always complete.
    static func boundary(now: Date) -> Date {
        let cut = now.addingTimeInterval(-(rawRetention - 86400)).timeIntervalSince1970
        return Date(timeIntervalSince1970: (cut / 3600).rounded(.down) * 3600)
    }

    static func run(_ database: Database, now: Date) throws {
        let currentHour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        try database.asStaff { tx in
            // From the last hour rolled up (again: it may have been rolled up before its results were
            // all in), or from the oldest raw result kept.
            let last = try tx.query("SELECT max(hour) FROM probe_hourly").first?.decode(0, as: Date.self)
            let from = max(last ?? now.addingTimeInterval(-rawRetention), now.addingTimeInterval(-rawRetention))
            try tx.query(
                """
                INSERT INTO probe_hourly (tenant_id, target_id, hour, probes, up, down, purser_errors, maintenance, latency_p95_ms, ttft_p95_ms)
                SELECT tenant_id, target_id, date_trunc('hour', at, 'UTC'), count(*), count(*) FILTER (WHERE outcome = 'up'),
                       count(*) FILTER (WHERE outcome = 'down'), count(*) FILTER (WHERE outcome = 'purser_error'),
                       count(*) FILTER (WHERE outcome = 'maintenance'),
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE outcome = 'up'),
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY ttft_ms) FILTER (WHERE outcome = 'up')
                FROM probe_results WHERE at >= date_trunc('hour', $1::timestamptz, 'UTC') AND at < $2
                GROUP BY 1, 2, 3
                ON CONFLICT (tenant_id, target_id, hour) DO UPDATE SET probes = EXCLUDED.probes, up = EXCLUDED.up,
                    down = EXCLUDED.down, purser_errors = EXCLUDED.purser_errors, maintenance = EXCLUDED.maintenance,
                    latency_p95_ms = EXCLUDED.latency_p95_ms, ttft_p95_ms = EXCLUDED.ttft_p95_ms
                """, [from, currentHour])
            try tx.query("DELETE FROM probe_results WHERE at < $1", [now.addingTimeInterval(-rawRetention)])
        }
    }
}
