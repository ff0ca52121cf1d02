// Multi-window burn-rate alerts (UptimeMath.fastBurn / slowBurn), checked when a target counts a
// failure: `slo.burn_rate` goes to the tenant's subscribers when a long and a short window both
// burn the month's error budget faster than the threshold, at most once per long window.
import Foundation
import Postgres

enum BurnRateAlerts {
    static func check(_ tx: Connection, _ target: ProbeTarget, at now: Date) throws {
        let objective =
            UptimeObjectives.forTarget(target, tenant: try UptimeObjectives.forTenant(tx, tenant: target.tenant).objectives)
            .availabilityPercent ?? 99.5
        let row = try tx.query(
            """
            SELECT count(*) FILTER (WHERE at > $3::timestamptz - interval '1 hour' AND outcome IN ('up', 'down'))::int,
                   count(*) FILTER (WHERE at > $3::timestamptz - interval '1 hour' AND outcome = 'down')::int,
                   count(*) FILTER (WHERE at > $3::timestamptz - interval '5 minutes' AND outcome IN ('up', 'down'))::int,
                   count(*) FILTER (WHERE at > $3::timestamptz - interval '5 minutes' AND outcome = 'down')::int,
                   count(*) FILTER (WHERE outcome IN ('up', 'down'))::int, count(*) FILTER (WHERE outcome = 'down')::int,
                   count(*) FILTER (WHERE at > $3::timestamptz - interval '30 minutes' AND outcome IN ('up', 'down'))::int,
                   count(*) FILTER (WHERE at > $3::timestamptz - interval '30 minutes' AND outcome = 'down')::int,
                   (SELECT fast_burn_at FROM probe_targets WHERE tenant_id = $1 AND id = $2),
                   (SELECT slow_burn_at FROM probe_targets WHERE tenant_id = $1 AND id = $2)
            FROM probe_results WHERE tenant_id = $1 AND target_id = $2 AND at > $3::timestamptz - interval '6 hours' AND at <= $3
            """, [target.tenant, target.id, now])[0]
        let windows: [(UptimeMath.BurnWindow, Int, String)] = [
            (UptimeMath.fastBurn, 0, "fast_burn_at"), (UptimeMath.slowBurn, 4, "slow_burn_at"),
        ]
        for (window, column, stamp) in windows {
            let long = UptimeMath.burnRate(down: try row.require(column + 1), counted: try row.require(column), objectivePercent: objective)
            let short = UptimeMath.burnRate(
                down: try row.require(column + 3), counted: try row.require(column + 2), objectivePercent: objective)
            guard long > window.threshold, short > window.threshold else { continue }
            if let last = try row.decode(column == 0 ? 8 : 9, as: Date.self), now.timeIntervalSince(last) < window.long { continue }
            try tx.query(
                "UPDATE probe_targets SET \(stamp) = $3 WHERE tenant_id = $1 AND id = $2", [target.tenant, target.id, now])
            _ = try Outbox.notify(
                tx, tenant: target.tenant,
                message: NotificationMessage(
                    event: "slo.burn_rate", subject: "\(target.name) is burning its error budget (\(window.name))",
                    text: String(
                        format: "Burn rate %.1f over the last %@ and %.1f over the last %@ (alert above %.1f; objective %.2f %% a month).",
                        long, Self.span(window.long), short, Self.span(window.short), window.threshold, objective),
                    severity: window.name == "fast" ? .critical : .warning, dedupKey: "slo:\(target.id.postgresText):\(window.name)"),
                at: now)
        }
    }

    static func span(_ seconds: TimeInterval) -> String {
        seconds >= 3600 ? "\(Int(seconds / 3600)) h" : "\(Int(seconds / 60)) min"
    }
}
