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
        let link: String
        let subject: String
        let priority: String
        let clock: String
        let due: String
    }

    struct Page: TemplateModel {
        let heading: String
        let action: String
        let from: String
        let to: String
        let groupings: [RequestPages.Option]
        let periods: [RequestPages.Option]
        let rows: [RowView]
        let totals: [FigureCells]
        let chart: String
        let breaches: [BreachView]
        let csvLink: String
        var errors: [FieldError] = []
    }

    static func page(_ report: SLAReport, heading: String, action: String, request: Request) -> Page {
        let clocks = SLAClockKind.allCases.filter { kind in report.totals[kind] != nil }
        let shown = clocks.isEmpty ? [SLAClockKind.firstResponse, .resolution] : clocks
        let chart = SVGChart.percentBars(
            title: "SLA met, by \(report.query.grouping.rawValue)",
            series: [SVGChart.Series(name: "First response", colour: "#2f6fb0"), SVGChart.Series(name: "Resolution", colour: "#c7791c")],
            groups: report.rows.map { row in (row.key, [row.clocks[.firstResponse]?.metPercent, row.clocks[.resolution]?.metPercent]) })
        let query = request.query.pairs.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }.joined(separator: "&")
        return Page(
            heading: heading, action: action, from: String(RFC3339.string(report.query.from).prefix(10)),
            to: String(RFC3339.string(report.query.to.addingTimeInterval(-86400)).prefix(10)),
            groupings: SLAReport.Grouping.allCases.map {
                RequestPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == report.query.grouping)
            },
            periods: SLAReport.Period.allCases.map { RequestPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == report.query.period) },
            rows: report.rows.map { row in RowView(key: row.key, cells: shown.map { FigureCells($0, row.clocks[$0]) }) },
            totals: shown.map { FigureCells($0, report.totals[$0]) }, chart: report.rows.isEmpty ? "" : chart,
            breaches: report.breaches.map {
                BreachView(number: $0.number, link: "/t/\($0.tenant)/requests/\($0.number)", subject: $0.subject, priority: $0.priority,
                           clock: $0.clock.label, due: DisplayTime.format($0.dueAt))
            },
            csvLink: action + ".csv" + (query.isEmpty ? "" : "?" + query))
    }

    static func csv(_ report: SLAReport, filename: String) -> Response {
        var response = Response(status: .ok, contentType: "text/csv; charset=utf-8", body: Array(report.csv.utf8))
        response.headers.set("Content-Disposition", "attachment; filename=\"\(filename)\"")
        return response
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, database: Database) {
        @Sendable func tenantReport(_ request: Request) throws -> (SLAReport, TenantMembership, Visitor) {
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            try visitor.principal(in: tenant).require(.reportsRead)
            var query = try SLAReport.Query(parameters: request.query)
            query.tenant = tenant.id
            return (try SLAReport.compute(query, database: database), tenant, visitor)
        }

        @Sendable func staffReport(_ request: Request) throws -> (SLAReport, Visitor) {
            let visitor = try auth.staff(request)
            try visitor.principal(in: nil).require(.reportsRead)
            return (try SLAReport.compute(try SLAReport.Query(parameters: request.query), database: database), visitor)
        }

        routes.add(.get, "/t/{tenant}/reports/sla", access: .permission(.reportsRead)) { request in
            do {
                let (report, tenant, visitor) = try tenantReport(request)
                return site.page("sla/report", title: "SLA report · \(tenant.name)",
                                 page(report, heading: "SLA report · \(tenant.name)", action: "/t/\(tenant.slug)/reports/sla", request: request),
                                 visitor: visitor, tenant: tenant)
            } catch let error as ValidationError {
                throw HTTPError(error.status, detail: error.fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "; "))
            }
        }
        routes.add(.get, "/t/{tenant}/reports/sla.csv", access: .permission(.reportsRead)) { request in
            let (report, tenant, _) = try tenantReport(request)
            return csv(report, filename: "sla-\(tenant.slug).csv")
        }
        routes.add(.get, "/staff/reports/sla", access: .permission(.reportsRead)) { request in
            do {
                let (report, visitor) = try staffReport(request)
                return site.page("sla/report", title: "SLA report",
                                 page(report, heading: "SLA report · every tenant", action: "/staff/reports/sla", request: request),
                                 visitor: visitor)
            } catch let error as ValidationError {
                throw HTTPError(error.status, detail: error.fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "; "))
            }
        }
        routes.add(.get, "/staff/reports/sla.csv", access: .permission(.reportsRead)) { request in
            csv(try staffReport(request).0, filename: "sla.csv")
        }
    }
}
