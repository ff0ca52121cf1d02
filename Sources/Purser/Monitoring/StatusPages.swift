// Status pages: /t/{tenant}/status for the tenant's members (every endpoint's current state and
// its last 90 days, a square a day), and the same without addresses at /status/{token} for anyone
// holding the tenant's public link. The token is random (32 bytes), stored only as its SHA-256,
// shown once when staff holding monitoring.manage make or rotate it (the old link stops at once),
// and the public page is never under /t/, so the 404 rule for other tenants' pages is untouched.
import Foundation
import HTTPServer
import Postgres

enum StatusPages {
    struct Endpoint: Encodable, Sendable {
        let name: String
        let state: String
        let link: SiteURL?
        let uptime90: String
        let days: String
    }

    struct Page: TemplateModel {
        let heading: String
        let updated: String
        let overall: String
        let endpoints: [Endpoint]
        let rules: [String]
        let isPublic: Bool
        var canManage = false
        var formToken = ""
        var formLink: SiteURL?
        var hasPublicLink = false
        var newLink: String?
    }

    /// The page's figures for `tenant` (addresses and links left out for the public page).
    static func figures(_ tx: Connection, tenant: UUID, name: String, slug: String?, now: Date) throws -> Page {
        let (objectives, zone) = try UptimeObjectives.forTenant(tx, tenant: tenant)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: now)
        let from = calendar.date(byAdding: .day, value: -89, to: today)!
        let labels = EndpointHistory.dayLabels(from: from, count: 90, zone: zone)
        let days = try EndpointHistory.days(tx, tenant: tenant, from: from, to: now.addingTimeInterval(1), zone: zone, now: now)
        let totals = try UptimeQuery.counts(tx, tenant: tenant, target: nil, from: from, to: now.addingTimeInterval(1), now: now)
        let maintenance = try MaintenanceWindows.activeTargets(tx, tenants: [tenant], at: now)
        let targets = try ProbeTarget.list(tx, tenant: tenant, enabledOnly: true)
        let endpoints = targets.map { target -> Endpoint in
            let objective = UptimeObjectives.forTarget(target, tenant: objectives).availabilityPercent ?? 99.5
            let inMaintenance =
                maintenance.contains(.init(tenant: tenant, target: nil)) || maintenance.contains(.init(tenant: tenant, target: target.id))
            let state =
                inMaintenance
                ? "maintenance" : target.state == "up" ? "operational" : target.state == "down" ? "down" : "not checked yet"
            return Endpoint(
                name: target.name, state: state, link: slug.map { .endpoint($0, id: target.id) },
                uptime90: Figures.percent(totals[target.id]?.counts.uptimePercent),
                days: TimeSeriesChart.days(
                    title: "\(target.name): uptime per day, last 90 days",
                    days: labels.map { ($0, days[target.id]?[$0]) }, objective: objective))
        }
        let overall =
            endpoints.contains { $0.state == "down" }
            ? "Some endpoints are down" : endpoints.isEmpty ? "No endpoints are monitored" : "All endpoints are operational"
        return Page(
            heading: "Status · \(name)", updated: DisplayTime.format(now), overall: overall, endpoints: endpoints,
            rules: EndpointStatus.rules, isPublic: slug == nil)
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database, publicURL: String) {
        let world = routes.world
        @Sendable func tenantPage(_ ctx: TenantContext, newLink: String? = nil) throws -> Response {
            var model = try database.inTenant(ctx.tenant.id) { tx in
                var page = try figures(tx, tenant: ctx.tenant.id, name: ctx.tenant.name, slug: ctx.tenant.slug, now: ctx.world.clock.now)
                page.hasPublicLink = try !tx.query("SELECT 1 FROM status_pages WHERE tenant_id = $1", [ctx.tenant.id]).isEmpty
                return page
            }
            model.canManage = ctx.principal.can(.monitoringManage)
            (model.formToken, model.formLink, model.newLink) = (ctx.visitor.formToken, .tenantStatus(ctx.tenant.slug), newLink)
            return site.page("monitoring/status", title: model.heading, model, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .tenantStatus, permission: nil) { ctx in try tenantPage(ctx) }
        routes.tenant(.post, .tenantStatus, permission: .monitoringManage, options: .form) { ctx in
            _ = try ctx.form()
            let token = RandomSecret.base64url(32)
            let now = ctx.world.clock.now
            try database.inTenant(ctx.tenant.id) { tx in
                try tx.query(
                    """
                    INSERT INTO status_pages (tenant_id, token_hash, created_at) VALUES ($1, $2, $3)
                    ON CONFLICT (tenant_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at
                    """, [ctx.tenant.id, Bytea(RandomSecret.hash(token)), now])
                try AuditLog.record(
                    AuditEvent(
                        tenant: ctx.tenant.id, actor: ctx.actor, action: "monitoring.status_link_rotated", targetType: "tenant",
                        targetID: ctx.tenant.id.postgresText, at: now), in: tx)
            }
            return try tenantPage(ctx, newLink: SiteURL.publicStatus(token).absolute(on: publicURL))
        }
        routes.everyone(.get, .publicStatus) { request in
            let token = try request.parameter("token")
            guard RandomSecret.isWellFormed(token) else { throw HTTPError(.notFound) }
            let found = try database.asStaff { tx in
                try tx.query(
                    "SELECT s.tenant_id, t.name FROM status_pages s JOIN tenants t ON t.id = s.tenant_id WHERE s.token_hash = $1",
                    [Bytea(RandomSecret.hash(token))]
                ).first.map { (try $0.require(0, as: UUID.self), try $0.require(1, as: String.self)) }
            }
            guard let (tenant, name) = found else { throw HTTPError(.notFound) }
            let model = try database.inTenant(tenant) { tx in
                try figures(tx, tenant: tenant, name: name, slug: nil, now: world.clock.now)
            }
            var response = site.page("monitoring/status", title: model.heading, model)
            response.headers.set("Cache-Control", "no-store")
            response.headers.set("Referrer-Policy", "no-referrer")
            return response
        }
    }
}
