// The SLA report as a page (table, chart drawn on the server, breaches) and as CSV: a tenant's
// own at /t/{tenant}/reports/sla, every tenant's for staff at /staff/reports/sla.
import Foundation
import HTTPServer

enum ReportPages {
    struct FigureCells: Encodable, Sendable {
        let clock: String
        let met: Int
        let missed: Int
        let open: Int
        let percent: String
        let p50: String
        let p90: String

        init(_ clock: SLAClockKind, _ figures: SLAReport.Figures?) {
            self.clock = clock.label
            met = figures?.met ?? 0
            missed = figures?.missed ?? 0
            open = figures?.open ?? 0
            percent = SVGChart.percent(figures?.metPercent)
            p50 = figures?.p50.map(DisplayTime.duration) ?? "—"
            p90 = figures?.p90.map(DisplayTime.duration) ?? "—"
        }
    }

    struct RowView: Encodable, Sendable {
        let key: String
        let cells: [FigureCells]
    }

    struct BreachView: Encodable, Sendable {
        let number: String
        let link: SiteURL
        let subject: String
        let priority: String
        let clock: String
        let due: String
    }

    struct Page: TemplateModel {
        let heading: String
        let action: SiteURL
        let from: String
        let to: String
        let groupings: [RequestPages.Option]
        let periods: [RequestPages.Option]
        let rows: [RowView]
        let totals: [FigureCells]
        let chart: String
        let breaches: [BreachView]
        let csvLink: SiteURL
        var errors: [FieldError] = []
    }

    /// The report page at `action`, its CSV at `csv` (with the same query).
    static func page(_ report: SLAReport, heading: String, action: SiteURL, csv: SiteURL, request: Request) -> Page {
        let clocks = SLAClockKind.allCases.filter { kind in report.totals[kind] != nil }
        let shown = clocks.isEmpty ? [SLAClockKind.firstResponse, .resolution] : clocks
        let chart = SVGChart.percentBars(
            title: "SLA met, by \(report.query.grouping.rawValue)",
            series: [SVGChart.Series(name: "First response", colour: "#2f6fb0"), SVGChart.Series(name: "Resolution", colour: "#c7791c")],
            groups: report.rows.map { row in (row.key, [row.clocks[.firstResponse]?.metPercent, row.clocks[.resolution]?.metPercent]) })
        return Page(
            heading: heading, action: action, from: String(RFC3339.string(report.query.from).prefix(10)),
            to: String(RFC3339.string(report.query.to.addingTimeInterval(-86400)).prefix(10)),
            groupings: SLAReport.Grouping.allCases.map {
                RequestPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == report.query.grouping)
            },
            periods: SLAReport.Period.allCases.map {
                RequestPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == report.query.period)
            },
            rows: report.rows.map { row in RowView(key: row.key, cells: shown.map { FigureCells($0, row.clocks[$0]) }) },
            totals: shown.map { FigureCells($0, report.totals[$0]) }, chart: report.rows.isEmpty ? "" : chart,
            breaches: report.breaches.map {
                BreachView(
                    number: $0.number, link: .request($0.tenant, number: $0.number), subject: $0.subject, priority: $0.priority,
                    clock: $0.clock.label, due: DisplayTime.format($0.dueAt))
            },
            csvLink: csv.adding(request.query))
    }

    static func csv(_ report: SLAReport, filename: String) -> Response {
        var response = Response(status: .ok, contentType: "text/csv; charset=utf-8", body: Array(report.csv.utf8))
        response.headers.set("Content-Disposition", "attachment; filename=\"\(filename)\"")
        return response
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        @Sendable func tenantReport(_ ctx: TenantContext) throws -> SLAReport {
            var query = try SLAReport.Query(parameters: ctx.request.query, now: ctx.world.clock.now)
            query.tenant = ctx.tenant.id
            // Reports may be read from the replica (ReplicaReads).
            return try database.reading(for: ctx.request, at: ctx.world.clock.now) { try SLAReport.compute(query, database: $0) }
        }

        @Sendable func staffReport(_ ctx: PageContext) throws -> SLAReport {
            let query = try SLAReport.Query(parameters: ctx.request.query, now: ctx.world.clock.now)
            return try database.reading(for: ctx.request, at: ctx.world.clock.now) { try SLAReport.compute(query, database: $0) }
        }

        /// A report's mistakes, as the page's error.
        @Sendable func refusing(_ body: () throws -> Response) throws -> Response {
            do { return try body() } catch let error as ValidationError {
                throw HTTPError(error.status, detail: error.fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "; "))
            }
        }

        routes.tenant(.get, .slaReport, permission: .reportsRead) { ctx in
            try refusing {
                let (report, tenant) = (try tenantReport(ctx), ctx.tenant)
                return site.page(
                    "sla/report", title: "SLA report · \(tenant.name)",
                    page(
                        report, heading: "SLA report · \(tenant.name)", action: .slaReport(tenant.slug),
                        csv: .slaReportCSV(tenant.slug), request: ctx.request),
                    visitor: ctx.visitor, tenant: tenant)
            }
        }
        routes.tenant(.get, .slaReportCSV, permission: .reportsRead) { ctx in
            csv(try tenantReport(ctx), filename: "sla-\(ctx.tenant.slug).csv")
        }
        routes.staff(.get, .staffSLAReport, permission: .reportsRead) { ctx in
            try refusing {
                site.page(
                    "sla/report", title: "SLA report",
                    page(
                        try staffReport(ctx), heading: "SLA report · every tenant", action: SitePage.staffSLAReport.url,
                        csv: SitePage.staffSLAReportCSV.url, request: ctx.request),
                    visitor: ctx.visitor)
            }
        }
        routes.staff(.get, .staffSLAReportCSV, permission: .reportsRead) { ctx in
            csv(try staffReport(ctx), filename: "sla.csv")
        }
    }
}
