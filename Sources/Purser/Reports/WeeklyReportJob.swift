// The weekly report's job, run by each tenant's schedule at 09:00 local time on Monday (see
// TenantSchedules): it builds the report of the Monday–Sunday before (in the tenant's zone at the
// job's time), archives it, and — the first time that week's report is archived — tells the
// tenant's administrators by e-mail and the channels subscribed to report.weekly, linking to it.
import Foundation
import Postgres

public enum WeeklyReportJob {
    public static let kind = "reports.weekly"
    public static let event = "report.weekly"

    /// Monday (weekday 1) at 09:00 in the tenant's zone.
    public static let schedule = TenantSchedule(kind: kind) { zone in .at(hour: 9, minute: 0, weekday: 1, timeZone: zone) }

    public static func register(into handlers: inout JobHandlers, publicURL: String) {
        handlers.register(kind) { context in
            try run(context.database, tenant: try TenantSchedules.tenant(of: context.job), now: context.world.now, publicURL: publicURL)
        }
    }

    /// Builds and archives the report of the week before `now`'s (in the tenant's zone); returns its id
    /// and figures. Without `publicURL` (demo data) it is archived and no one is told.
    @discardableResult
    public static func run(_ database: Database, tenant: UUID, now: Date, publicURL: String?) throws -> (id: UUID, report: WeeklyReport) {
        let zone = try database.inTenant(tenant) { tx in try CostReport.settings(tx, tenant: tenant).zone }
        let report = try WeeklyReport.build(database, tenant: tenant, monday: WeeklyReport.previousWeek(of: now, in: zone), now: now)
        return try database.inTenant(tenant) { tx in
            let row = try tx.query(
                """
                INSERT INTO weekly_reports (tenant_id, id, week_start, currency, requests, cost_micros, previous_cost_micros, incidents,
                                            figures, built_at)
                VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8, $9::jsonb, $10)
                ON CONFLICT (tenant_id, week_start) DO UPDATE SET currency = EXCLUDED.currency, requests = EXCLUDED.requests,
                    cost_micros = EXCLUDED.cost_micros, previous_cost_micros = EXCLUDED.previous_cost_micros,
                    incidents = EXCLUDED.incidents, figures = EXCLUDED.figures, built_at = EXCLUDED.built_at
                RETURNING id, xmax = 0
                """,
                [
                    tenant, UUID.v7(at: now), report.weekStart, report.currency, report.usage.requests, report.usage.costMicros,
                    report.previousUsage.costMicros, report.incidents.count, try JSONText(encoding: report), now,
                ])[0]
            let id: UUID = try row.require(0)
            guard try row.require(1, as: Bool.self), let publicURL else { return (id, report) }
            let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
            let admins = try tx.query("SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'tenant_admin'", [tenant])
                .map { try $0.require(0, as: UUID.self) }
            let spend = Money(micros: report.usage.costMicros, currency: report.currency).display
            try Outbox.notify(
                tx, tenant: tenant,
                message: NotificationMessage(
                    event: event, subject: "Weekly report for the week of \(report.weekStart): \(spend)", text: summary(report),
                    url: SiteURL.weeklyReport(slug, id: id).absolute(on: publicURL),
                    dedupKey: "weekly-report:\(tenant.postgresText):\(report.weekStart)"),
                people: admins, at: now)
            return (id, report)
        }
    }

    /// The e-mail's text: the week's main figures, each as the page shows it.
    static func summary(_ report: WeeklyReport) -> String {
        let usage = report.usage, before = report.previousUsage
        var lines = [
            "Week \(report.weekStart) – \(report.weekEnd) (\(report.timeZone)).",
            "Requests: \(CostPages.count(usage.requests)) (\(WeeklyReport.change(usage.requests, from: before.requests)) on the week before)",
            "Tokens: \(CostPages.count(usage.tokens)) (\(WeeklyReport.change(usage.tokens, from: before.tokens)))",
            "Spend: \(Money(micros: usage.costMicros, currency: report.currency).display) "
                + "(\(WeeklyReport.change(usage.costMicros, from: before.costMicros)))",
        ]
        for endpoint in report.endpoints {
            let met = endpoint.met.map { $0 ? "met" : "missed" } ?? "nothing counted"
            lines.append(
                "Endpoint \(endpoint.name): uptime \(WeeklyReport.percent(endpoint.uptimePercent)) "
                    + "(objective \(WeeklyReport.percent(endpoint.objectivePercent)): \(met)), "
                    + "p95 latency \(endpoint.p95LatencyMs.map { "\($0) ms" } ?? "—"), "
                    + "p95 TTFT \(endpoint.p95TTFTMs.map { "\($0) ms" } ?? "—"), "
                    + "error rate \(WeeklyReport.percent(endpoint.errorRatePercent))")
        }
        lines.append("Incidents: \(report.incidents.count)")
        for incident in report.incidents {
            lines.append("\(incident.severity) \(incident.title): \(WeeklyReport.duration(incident.durationSeconds))")
        }
        for clock in report.sla {
            lines.append("SLA \(clock.clock) met: \(WeeklyReport.percent(clock.metPercent, decimals: 1))")
        }
        return lines.joined(separator: "\n")
    }
}
