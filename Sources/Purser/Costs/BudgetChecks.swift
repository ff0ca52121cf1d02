// Budgets are evaluated when usage arrives (the ingest transaction enqueues one check per tenant,
// coalesced while one is pending) and on a schedule (every quarter hour, for periods that roll
// over, budgets made after their spend, and re-rated usage). Each threshold a budget's spend has
// reached in its current period is recorded once — the row of budget_alerts keyed by budget,
// period and level — and only the transaction that wrote the row tells anyone: the owners by
// e-mail (people: destinations) and the tenant's channels subscribed to cost.budget_threshold, and
// from 100 % on to cost.budget_exceeded. A new period has no rows, so its thresholds fire afresh.
import Foundation
import Postgres

public enum BudgetChecks {
    public static let kind = "costs.budget_check"
    public static let sweepKind = "costs.budget_sweep"

    /// Called in the ingest transaction: one check of the tenant's budgets, after the commit.
    public static func usageIngested(_ tx: Connection, tenant: UUID, at now: Date) throws {
        try JobQueue.enqueue(
            tx, kind: kind, payload: JSONText("{\"tenant_id\": \"\(tenant.postgresText)\"}"),
            options: JobOptions(tenant: tenant, uniqueKey: "\(kind):\(tenant.postgresText)", runAt: now))
    }

    /// The quarter-hourly sweep over every tenant with a budget.
    public static let schedule = Schedule(name: sweepKind, kind: sweepKind, recurrence: .every(seconds: 900))

    public static func register(into handlers: inout JobHandlers, publicURL: String) {
        handlers.register(kind) { context in
            _ = try evaluate(
                context.database, tenant: try TenantSchedules.tenant(of: context.job), now: context.world.now, publicURL: publicURL)
        }
        handlers.register(sweepKind) { context in
            let now = context.world.now
            try context.database.pool.transaction { tx in
                for row in try tx.query("SELECT DISTINCT tenant_id FROM budgets LIMIT 100000") {
                    try usageIngested(tx, tenant: try row.require(0), at: now)
                }
            }
        }
    }

    /// A threshold newly fired.
    public struct Fired: Sendable, Equatable {
        public let budget: UUID
        public let level: Int
        public let spendMicros: Int64
    }

    /// Checks every budget of `tenant` at `now` and tells people of each threshold newly reached.
    @discardableResult
    public static func evaluate(_ database: Database, tenant: UUID, now: Date, publicURL: String) throws -> [Fired] {
        try database.inTenant(tenant) { tx in
            let row = try tx.query("SELECT slug, time_zone FROM tenants WHERE id = $1", [tenant])
            guard let first = row.first else { return [] }
            let slug: String = try first.require(0)
            let zone = TimeZone(identifier: try first.require(1)) ?? TimeZone(identifier: "UTC")!
            let budgets = try BudgetStore.all(tx, tenant: tenant)
            var fired: [Fired] = []
            for budget in budgets {
                let status = try BudgetStatus.load(tx, budget: budget, zone: zone, now: now)
                guard let period = status.period else { continue }
                for level in status.reached {
                    let inserted = try tx.query(
                        """
                        INSERT INTO budget_alerts (tenant_id, budget_id, period_start, level, spend_micros, amount_micros, fired_at)
                        VALUES ($1, $2, $3::date, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING level
                        """, [tenant, budget.id, period.from.description, level, status.spendMicros, budget.amountMicros, now])
                    guard !inserted.isEmpty else { continue }
                    fired.append(Fired(budget: budget.id, level: level, spendMicros: status.spendMicros))
                    try tell(tx, status: status, period: period, level: level, slug: slug, now: now, publicURL: publicURL)
                }
            }
            return fired
        }
    }

    static func tell(
        _ tx: Connection, status: BudgetStatus, period: CostPeriod, level: Int, slug: String, now: Date, publicURL: String
    ) throws {
        let budget = status.budget
        let spend = Money(micros: status.spendMicros, currency: budget.currency)
        let link = SiteURL.costs(slug).at("budgets").absolute(on: publicURL)
        let figures = "\(spend.display) of \(budget.amount.display) (\(status.usedPercent)) from \(period.from) to \(period.to)"
        let text = "\(budget.name) (\(budget.scopeLabel)): \(figures)."
        let key = "budget:\(budget.id.postgresText):\(period.from):\(level)"
        let exceeded = level >= 100
        try Outbox.notify(
            tx, tenant: budget.tenant,
            message: NotificationMessage(
                event: "cost.budget_threshold", subject: "Budget \(budget.name) reached \(level) %", text: text, url: link,
                severity: exceeded ? .error : (level >= 90 ? .warning : .info), dedupKey: key),
            people: exceeded ? [] : budget.owners, at: now)
        if exceeded {
            try Outbox.notify(
                tx, tenant: budget.tenant,
                message: NotificationMessage(
                    event: "cost.budget_exceeded", subject: "Budget \(budget.name) exceeded: \(level) % reached", text: text, url: link,
                    severity: .error, dedupKey: key + ":exceeded"),
                people: budget.owners, at: now)
        }
    }
}
