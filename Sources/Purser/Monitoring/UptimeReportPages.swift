// The uptime report as a page (/t/{tenant}/reports/uptime, a form for the period and endpoint, a
// table beside the objectives and the counting rules) and as CSV (…/uptime.csv, same query).
import Foundation
import HTTPServer

enum UptimeReportPages {
    struct Row: Encodable, Sendable {
        let name: String
        let link: SiteURL?
        let probes: Int
        let up: Int
        let down: Int
        let purserErrors: Int
        let maintenance: Int
        let uptime: String
        let objective: String
        let met: String
        let latency: String
        let ttft: String
    }

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Page: TemplateModel {
        let heading: String
        let action: SiteURL
        let csvLink: SiteURL
        let from: String
        let to: String
        let zone: String
        let endpoints: [Option]
        let rows: [Row]
        let total: Row
        let rules: [String]
        let percentileNote: String
    }

    static func row(_ row: UptimeReport.Row?, name: String, link: SiteURL?, counts: UptimeCounts) -> Row {
        Row(
            name: name, link: link, probes: counts.probes, up: counts.up, down: counts.down, purserErrors: counts.purserErrors,
            maintenance: counts.maintenance, uptime: Figures.percent(counts.uptimePercent),
            objective: row.map { Figures.percent($0.objectivePercent, digits: 2) } ?? "",
            met: row?.met.map { $0 ? "met" : "missed" } ?? "", latency: Figures.milliseconds(counts.latencyP95Ms),
            ttft: Figures.milliseconds(counts.ttftP95Ms))
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        @Sendable func report(_ ctx: TenantContext) throws -> UptimeReport {
            do {
                // Reports may be read from the replica (ReplicaReads).
                return try database.reading(for: ctx.request, at: ctx.world.clock.now) {
                    try UptimeReport.compute($0, tenant: ctx.tenant.id, parameters: ctx.request.query, now: ctx.world.clock.now)
                }
            } catch let error as ValidationError {
                throw HTTPError(error.status, detail: error.fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "; "))
            }
        }

        routes.tenant(.get, .uptimeReport, permission: .reportsRead) { ctx in
            let report = try report(ctx)
            let slug = ctx.tenant.slug
            let all = try ProbeTargetsReader.names(database, tenant: ctx.tenant.id)
            let page = Page(
                heading: "Uptime report · \(ctx.tenant.name)", action: .uptimeReport(slug),
                csvLink: SiteURL.uptimeReportCSV(slug).adding(ctx.request.query), from: report.fromDay, to: report.toDay,
                zone: report.zone.identifier,
                endpoints: [Option(value: "", label: "Every endpoint", selected: report.endpoint == nil)]
                    + all.map { Option(value: $0.id.postgresText, label: $0.name, selected: $0.id == report.endpoint) },
                rows: report.rows.map { row($0, name: $0.target.name, link: .endpoint(slug, id: $0.target.id), counts: $0.counts) },
                total: row(nil, name: "All endpoints", link: nil, counts: report.total), rules: EndpointStatus.rules,
                percentileNote:
                    "p95 latency and time to first token are of successful probes; exact within the last 13 days, "
                    + "before that the highest hourly p95 of the period.")
            return site.page("monitoring/uptime-report", title: page.heading, page, visitor: ctx.visitor, tenant: ctx.tenant)
        }
        routes.tenant(.get, .uptimeReportCSV, permission: .reportsRead) { ctx in
            let report = try report(ctx)
            var response = Response(status: .ok, contentType: "text/csv; charset=utf-8", body: Array(report.csv.utf8))
            response.headers.set("Content-Disposition", "attachment; filename=\"uptime-\(ctx.tenant.slug).csv\"")
            return response
        }
    }
}

/// The tenant's endpoints by name, for choosing one.
enum ProbeTargetsReader {
    static func names(_ database: Database, tenant: UUID) throws -> [(id: UUID, name: String)] {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT id, name FROM probe_targets WHERE tenant_id = $1 ORDER BY name LIMIT 1000", [tenant]).map {
                (try $0.require(0, as: UUID.self), try $0.require(1, as: String.self))
            }
        }
    }
}
