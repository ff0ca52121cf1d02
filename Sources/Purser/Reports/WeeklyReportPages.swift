// The weekly reports of a tenant: the archive at /t/{tenant}/reports/weekly and one week's report at
// /t/{tenant}/reports/weekly/{id}, as they were built on Monday morning.
import Foundation
import HTTPServer
import Postgres

enum WeeklyReportPages {
    struct ArchiveRow: Encodable, Sendable {
        let week: String
        let link: SiteURL
        let requests: String
        let spend: String
        let change: String
        let incidents: Int
    }

    struct Archive: TemplateModel {
        let heading: String
        let reports: [ArchiveRow]
    }

    struct Figure: Encodable, Sendable {
        let label: String
        let value: String
        let previous: String
        let change: String
    }

    struct EndpointView: Encodable, Sendable {
        let name: String
        let uptime: String
        let objective: String
        let met: String
        let latency: String
        let ttft: String
        let errorRate: String
    }

    struct IncidentView: Encodable, Sendable {
        let severity: String
        let title: String
        let service: String
        let opened: String
        let resolved: String
        let duration: String
    }

    struct SLAView: Encodable, Sendable {
        let clock: String
        let met: Int
        let missed: Int
        let open: Int
        let percent: String
    }

    struct ReportPage: TemplateModel {
        let heading: String
        let archiveLink: SiteURL
        let csvLink: SiteURL?
        let uptimeLink: SiteURL
        let slaLink: SiteURL
        let usage: [Figure]
        let endpoints: [EndpointView]
        let incidents: [IncidentView]
        let sla: [SLAView]
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        routes.tenant(.get, .weeklyReports, permission: .reportsRead) { ctx in
            let tenant = ctx.tenant
            let rows = try database.inTenant(tenant.id) { tx in
                try tx.query(
                    """
                    SELECT id, to_char(week_start, 'YYYY-MM-DD'), to_char(week_start + 6, 'YYYY-MM-DD'), currency, requests, cost_micros,
                           previous_cost_micros, incidents
                    FROM weekly_reports WHERE tenant_id = $1 ORDER BY week_start DESC LIMIT 260
                    """, [tenant.id]
                ).map { row -> ArchiveRow in
                    let start: String = try row.require(1), end: String = try row.require(2)
                    let cost: Int64 = try row.require(5), previous: Int64 = try row.require(6)
                    return ArchiveRow(
                        week: "\(start) – \(end)", link: .weeklyReport(tenant.slug, id: try row.require(0)),
                        requests: CostPages.count(try row.require(4)),
                        spend: Money(micros: cost, currency: try row.require(3)).display, change: WeeklyReport.change(cost, from: previous),
                        incidents: try row.require(7))
                }
            }
            return site.page(
                "reports/weekly", title: "Weekly reports · \(tenant.name)",
                Archive(heading: "Weekly reports · \(tenant.name)", reports: rows), visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .weeklyReport, permission: .reportsRead) { ctx in
            let tenant = ctx.tenant
            guard let id = UUID(uuidString: try ctx.request.parameter("id")),
                let text = try database.inTenant(
                    tenant.id,
                    { tx in
                        try tx.query("SELECT figures::text FROM weekly_reports WHERE tenant_id = $1 AND id = $2", [tenant.id, id])
                            .first?.require(0, as: String.self)
                    }), let report = try? JSONText(text).decode(WeeklyReport.self)
            else { throw HTTPError(.notFound) }
            return site.page(
                "reports/weekly-report", title: "Weekly report \(report.weekStart) · \(tenant.name)",
                view(
                    report, slug: tenant.slug, heading: "Weekly report \(report.weekStart) – \(report.weekEnd) · \(tenant.name)",
                    csv: .weeklyReportCSV(tenant.slug, id: id)),
                visitor: ctx.visitor, tenant: tenant)
        }

        // The same archive for tokens, and each week as CSV beside its page.
        WeeklyReportsAPI.register(in: &routes, database: database)
    }

    static func view(_ report: WeeklyReport, slug: String, heading: String, csv: SiteURL? = nil) -> ReportPage {
        let zone = TimeZone(identifier: report.timeZone) ?? TimeZone(identifier: "UTC")!
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        func money(_ micros: Int64) -> String { Money(micros: micros, currency: report.currency).display }
        let now = report.usage, before = report.previousUsage
        let usage = [
            Figure(
                label: "Requests", value: CostPages.count(now.requests), previous: CostPages.count(before.requests),
                change: WeeklyReport.change(now.requests, from: before.requests)),
            Figure(
                label: "Tokens", value: CostPages.count(now.tokens), previous: CostPages.count(before.tokens),
                change: WeeklyReport.change(now.tokens, from: before.tokens)),
            Figure(
                label: "Spend", value: money(now.costMicros), previous: money(before.costMicros),
                change: WeeklyReport.change(now.costMicros, from: before.costMicros)),
        ]
        func milliseconds(_ value: Int?, objective: Int?) -> String {
            guard let value else { return "—" }
            guard let objective else { return "\(value) ms" }
            return "\(value) ms (objective \(objective) ms: \(value <= objective ? "met" : "missed"))"
        }
        return ReportPage(
            heading: heading, archiveLink: .weeklyReports(slug), csvLink: csv,
            uptimeLink: SiteURL.uptimeReport(slug).adding("from", report.weekStart).adding("to", report.weekEnd),
            slaLink: .slaReport(slug), usage: usage,
            endpoints: report.endpoints.map { endpoint in
                EndpointView(
                    name: endpoint.name, uptime: WeeklyReport.percent(endpoint.uptimePercent),
                    objective: WeeklyReport.percent(endpoint.objectivePercent),
                    met: endpoint.met.map { $0 ? "met" : "missed" } ?? "nothing counted",
                    latency: milliseconds(endpoint.p95LatencyMs, objective: endpoint.latencyObjectiveMs),
                    ttft: milliseconds(endpoint.p95TTFTMs, objective: endpoint.ttftObjectiveMs),
                    errorRate: WeeklyReport.percent(endpoint.errorRatePercent))
            },
            incidents: report.incidents.map { incident in
                IncidentView(
                    severity: incident.severity, title: incident.title, service: incident.service,
                    opened: formatter.string(from: incident.openedAt),
                    resolved: incident.resolvedAt.map { formatter.string(from: $0) } ?? "—",
                    duration: WeeklyReport.duration(incident.durationSeconds))
            },
            sla: report.sla.map {
                SLAView(
                    clock: $0.clock, met: $0.met, missed: $0.missed, open: $0.open,
                    percent: WeeklyReport.percent($0.metPercent, decimals: 1))
            })
    }
}
