// What `purser dev` seeds for budgets and reviews, on top of DemoCosts' usage: a monthly budget of
// the whole tenant and one of its search team, owned by the tenant admin, and last month's cost
// review archived (without telling anyone), so the costs page and the archive have something to show.
import Foundation
import Postgres

enum DemoBudgets {
    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let owner = try database.inTenant(tenant) { tx in
            try tx.query("SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'tenant_admin' LIMIT 1", [tenant]).first?
                .require(0, as: UUID.self)
        }
        let budgets = BudgetStore(database: database, clock: clock)
        var whole = BudgetInput()
        (whole.name, whole.amount) = ("Acme Bank, monthly", "5000")
        _ = try budgets.create(tenant: tenant, whole, owner: owner, actor: .system)
        var team = BudgetInput()
        (team.name, team.scope, team.scopeValue, team.amount, team.thresholds) = ("Search team", "team", "search", "800", "50, 80, 100")
        _ = try budgets.create(tenant: tenant, team, owner: owner, actor: .system)
        try MonthlyReviewJob.run(database, tenant: tenant, now: clock.now, publicURL: nil)
    }
}
