// The monthly cost reviews of a tenant: the archive at /t/{tenant}/costs/reviews and one month's
// review at /t/{tenant}/costs/reviews/{month} (2026-10), as they were built on the 1st.
import Foundation
import HTTPServer
import Postgres

enum MonthlyReviewPages {
    struct ArchiveRow: Encodable, Sendable {
        let month: String
        let link: SiteURL
        let total: String
        let change: String
    }

    struct Archive: TemplateModel {
        let heading: String
        let costsLink: SiteURL
        let reviews: [ArchiveRow]
    }

    struct LineView: Encodable, Sendable {
        let key: String
        let spend: String
        let previous: String
        let change: String
    }

    struct Section: Encodable, Sendable {
        let title: String
        let lines: [LineView]
    }

    struct ReviewPage: TemplateModel {
        let heading: String
        let archiveLink: SiteURL
        let reportLink: SiteURL
        let total: String
        let previous: String
        let change: String
        let requests: String
        let movers: [LineView]
        let sections: [Section]
        let hints: [String]
        /// When it was built: the report may differ since, by usage sent late or re-rated.
        let builtAt: String
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        routes.tenant(.get, .costReviews, permission: .costsRead) { ctx in
            let tenant = ctx.tenant
            let rows = try database.inTenant(tenant.id) { tx in
                try tx.query(
                    """
                    SELECT to_char(month, 'YYYY-MM'), currency, total_micros, previous_micros FROM cost_reviews
                    WHERE tenant_id = $1 ORDER BY month DESC LIMIT 120
                    """, [tenant.id]
                ).map { row -> ArchiveRow in
                    let month: String = try row.require(0)
                    let currency: String = try row.require(1)
                    let total: Int64 = try row.require(2), previous: Int64 = try row.require(3)
                    let review = MonthlyReview(
                        month: month, currency: currency, totalMicros: total, previousMicros: previous, requests: 0, lines: [], movers: [],
                        hints: [])
                    return ArchiveRow(
                        month: month, link: .costReview(tenant.slug, month: month), total: Money(micros: total, currency: currency).display,
                        change: review.change)
                }
            }
            return site.page(
                "costs/reviews", title: "Cost reviews · \(tenant.name)",
                Archive(heading: "Monthly cost reviews · \(tenant.name)", costsLink: .costs(tenant.slug), reviews: rows),
                visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .costReview, permission: .costsRead) { ctx in
            let tenant = ctx.tenant
            let month = try ctx.request.parameter("month")
            guard let first = LocalDate(month + "-01") else { throw HTTPError(.notFound) }
            guard
                let found = try database.inTenant(
                    tenant.id,
                    { tx in
                        try tx.query(
                            "SELECT figures::text, built_at FROM cost_reviews WHERE tenant_id = $1 AND month = $2::date",
                            [tenant.id, first.description]
                        )
                        .first.map { (try $0.require(0, as: String.self), try $0.require(1, as: Date.self)) }
                    }), let review = try? JSONText(found.0).decode(MonthlyReview.self)
            else { throw HTTPError(.notFound) }
            func money(_ micros: Int64) -> String { Money(micros: micros, currency: review.currency).display }
            func line(_ line: MonthlyReview.Line, named: Bool = false) -> LineView {
                let key = line.key.isEmpty ? "(none)" : line.key
                return LineView(
                    key: named ? "\(line.dimension) \(key)" : key, spend: money(line.micros), previous: money(line.previousMicros),
                    change: (line.change >= 0 ? "+" : "") + money(line.change))
            }
            let sections = MonthlyReview.dimensions.map { dimension in
                Section(title: "By \(dimension)", lines: review.lines.filter { $0.dimension == dimension }.map { line($0) })
            }
            let label = String(review.month.prefix(7))
            let start = LocalDate(review.month) ?? first
            return site.page(
                "costs/review", title: "Cost review \(label) · \(tenant.name)",
                ReviewPage(
                    heading: "Cost review \(label) · \(tenant.name)", archiveLink: .costReviews(tenant.slug),
                    reportLink: SiteURL.costs(tenant.slug).adding("from", start.description).adding("to", start.lastOfMonth.description),
                    total: money(review.totalMicros), previous: money(review.previousMicros), change: review.change,
                    requests: CostPages.count(review.requests), movers: review.movers.map { line($0, named: true) }, sections: sections,
                    hints: review.hints, builtAt: DisplayTime.format(found.1)),
                visitor: ctx.visitor, tenant: tenant)
        }
    }
}
