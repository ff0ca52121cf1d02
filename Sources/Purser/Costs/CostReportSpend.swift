// Spend where it belongs, for other pages to show: a tenant's (or one endpoint's or deployment's)
// spend this month and over the last 30 days in the tenant's zone, with a link to the report. One
// indexed read of the endpoint slice of the rollups, so any page may carry it.
import Foundation
import Postgres

/// What a page shows of spend: encodable as a template's `spend` value.
public struct CostSpendSummary: Encodable, Sendable {
    public let monthToDate: String
    public let last30Days: String
    /// The cost report, filtered to what the summary covers where the report can filter by it.
    public let reportLink: SiteURL
}

public enum CostReportSpend {
    /// The tenant's spend (or, given `endpoint`, that endpoint's or deployment's, as usage events
    /// name it), at `now` in the tenant's zone.
    public static func summary(_ database: Database, tenant: UUID, slug: String, endpoint: String? = nil, now: Date) throws
        -> CostSpendSummary
    {
        try database.inTenant(tenant) { tx in
            let (zone, currency) = try CostReport.settings(tx, tenant: tenant)
            let today = LocalDate(now, in: zone)
            let from = min(today.firstOfMonth, today.adding(days: -29))
            let row = try tx.query(
                """
                SELECT coalesce(sum(cost_micros) FILTER (WHERE day >= $3::date), 0)::bigint,
                       coalesce(sum(cost_micros) FILTER (WHERE day >= $4::date), 0)::bigint
                FROM usage_daily_endpoints
                WHERE tenant_id = $1 AND day BETWEEN $2::date AND $5::date AND ($6::text IS NULL OR endpoint = $6)
                """,
                [
                    tenant, from.description, today.firstOfMonth.description, today.adding(days: -29).description, today.description,
                    endpoint,
                ])[0]
            let link = endpoint.map { SiteURL.costs(slug).adding("group_by", "day").adding("endpoint", $0) } ?? SiteURL.costs(slug)
            return CostSpendSummary(
                monthToDate: Money(micros: try row.require(0), currency: currency).display,
                last30Days: Money(micros: try row.require(1), currency: currency).display, reportLink: link)
        }
    }
}
