// The monthly review's job, run by each tenant's schedule at 00:05 local time on the 1st (see
// TenantSchedules): it builds last month's review (last month in the tenant's zone at the job's
// time), archives it, and — the first time that month's review is archived — tells the tenant's
// administrators by e-mail and the channels subscribed to cost.monthly_review, linking to the page.
import Foundation
import Postgres

public enum MonthlyReviewJob {
    public static let kind = "costs.monthly_review"

    public static func register(into handlers: inout JobHandlers, publicURL: String) {
        handlers.register(kind) { context in
            try run(context.database, tenant: try TenantSchedules.tenant(of: context.job), now: context.world.now, publicURL: publicURL)
        }
    }

    /// Builds and archives the review of the month before `now`'s (in the tenant's zone); returns it.
    /// Without `publicURL` (demo data) it is archived and no one is told.
    @discardableResult
    public static func run(_ database: Database, tenant: UUID, now: Date, publicURL: String?) throws -> MonthlyReview {
        try database.inTenant(tenant) { tx in
            let (zone, _) = try CostReport.settings(tx, tenant: tenant)
            let month = LocalDate(now, in: zone).firstOfMonth.previousMonth
            let review = try MonthlyReview.build(tx, tenant: tenant, month: month)
            let figures = try JSONText(encoding: review)
            let fresh = try tx.query(
                """
                INSERT INTO cost_reviews (tenant_id, month, currency, total_micros, previous_micros, figures, built_at)
                VALUES ($1, $2::date, $3, $4, $5, $6::jsonb, $7)
                ON CONFLICT (tenant_id, month) DO UPDATE SET currency = EXCLUDED.currency, total_micros = EXCLUDED.total_micros,
                    previous_micros = EXCLUDED.previous_micros, figures = EXCLUDED.figures, built_at = EXCLUDED.built_at
                RETURNING xmax = 0
                """, [tenant, review.month, review.currency, review.totalMicros, review.previousMicros, figures, now])[0]
                .require(0, as: Bool.self)
            guard fresh, let publicURL else { return review }
            let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
            let admins = try tx.query("SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'tenant_admin'", [tenant])
                .map { try $0.require(0, as: UUID.self) }
            let total = Money(micros: review.totalMicros, currency: review.currency)
            let label = String(review.month.prefix(7))
            var text = "Spend in \(label): \(total.display) (\(review.change) on the month before).\n"
            for mover in review.movers.prefix(3) {
                let change = Money(micros: mover.change, currency: review.currency)
                text += "\(mover.dimension) \(mover.key.isEmpty ? "(none)" : mover.key): \(mover.change >= 0 ? "+" : "")\(change.display)\n"
            }
            text += review.hints.joined(separator: "\n")
            try Outbox.notify(
                tx, tenant: tenant,
                message: NotificationMessage(
                    event: "cost.monthly_review", subject: "Cost review for \(label): \(total.display)", text: text,
                    url: SiteURL.costReview(slug, month: label).absolute(on: publicURL),
                    dedupKey: "cost-review:\(tenant.postgresText):\(label)"),
                people: admins, at: now)
            return review
        }
    }
}
