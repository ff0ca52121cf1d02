// Provider staff pages under /staff/: every tenant (create, suspend, reactivate) and password
// reset links for people who forgot theirs.
import Foundation
import HTTPServer
import Postgres

enum StaffPages {
    struct TenantRow: Encodable, Sendable {
        let slug: String
        let key: String
        let name: String
        let plan: String
        let status: String
        let members: Int
        let created: String
        let active: Bool
        let link: String
        let statusLink: SiteURL
        /// Its time zone (its reports' days, its schedules), and where staff change it.
        let timeZone: String
        let timeZoneLink: SiteURL
    }

    struct Page: TemplateModel {
        let formToken: String
        let tenants: [TenantRow]
        let canManage: Bool
        var resetLink: String?
        var resetEmail: String?
        var message: String?
        var errors: [FieldError] = []
        let queueLink = SitePage.staffRequests.url
        let groupsLink = SitePage.staffGroups.url
        let slaReportLink = SitePage.staffSLAReport.url
        let costsLink = SitePage.staffCosts.url
        let auditLink = SitePage.staffAudit.url
        let jobsLink = SitePage.staffJobs.url
        let deploymentsLink = SitePage.staffDeployments.url
        let incidentsLink = SitePage.staffIncidents.url
        let newTenantLink = SitePage.staffTenants.url
        let resetLinksLink = SitePage.staffResetLinks.url
        /// How a slug appears in addresses, for the new-tenant form's hint.
        let slugAddress = SiteURL.tenant("slug").homePath
    }

    static func register(in routes: inout RouteTable, site: Site, tenants: TenantStore, database: Database, publicURL: String) {

        @Sendable func render(
            _ ctx: PageContext, resetLink: String? = nil, resetEmail: String? = nil, message: String? = nil,
            errors: [FieldError] = [], status: HTTPStatus = .ok
        ) throws -> Response {
            let rows = try tenants.list().map {
                TenantRow(
                    slug: $0.slug, key: $0.key, name: $0.name, plan: $0.plan, status: $0.status, members: $0.members,
                    created: DisplayTime.format($0.createdAt), active: $0.status == "active",
                    link: SiteURL.tenant($0.slug).homePath, statusLink: .staffTenantStatus($0.slug), timeZone: $0.timeZone,
                    timeZoneLink: .staffTenantTimeZone($0.slug))
            }
            let page = Page(
                formToken: ctx.visitor.formToken, tenants: rows, canManage: ctx.principal.can(.tenantsManage),
                resetLink: resetLink, resetEmail: resetEmail, message: message, errors: errors)
            return site.page("identity/staff", title: "Tenants", page, status: status, visitor: ctx.visitor)
        }

        routes.staff(.get, .staff) { ctx in try render(ctx) }

        routes.staff(.post, .staffTenants, permission: .tenantsManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
                _ = try tenants.create(
                    NewTenant(
                        slug: form["slug"] ?? "", name: form["name"] ?? "",
                        key: key.isEmpty ? nil : key.uppercased(),
                        plan: form["plan"] ?? "standard", timeZone: form["time_zone"] ?? "UTC"),
                    actor: ctx.actor, reason: nil)
                return try render(ctx, message: "Tenant created.", status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.staff(.post, .staffTenantStatus, permission: .tenantsManage, options: .form) { ctx in
            let form = try ctx.form()
            try tenants.setStatus(slug: try ctx.request.parameter("slug"), active: form["status"] == "active", actor: ctx.actor)
            return .redirect(to: SitePage.staff.url.homePath)
        }

        // A tenant's time zone: its schedules move with it and its cost rollups are rebuilt in it.
        routes.staff(.post, .staffTenantTimeZone, permission: .tenantsManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                try tenants.setTimeZone(
                    slug: try ctx.request.parameter("slug"), timeZone: (form["time_zone"] ?? "").trimmingCharacters(in: .whitespaces),
                    actor: ctx.actor)
                return .redirect(to: SitePage.staff.url.homePath)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.staff(.post, .staffResetLinks, permission: .tenantUsersManage, options: .form) { ctx in
            let form = try ctx.form()
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            do {
                let link = try ResetLinks.issue(email: email, actor: ctx.actor, database: database, at: ctx.world.now)
                return try render(ctx, resetLink: link.absolute(on: publicURL), resetEmail: email, status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}

/// Reset links issued by staff or the CLI for a person who forgot their password.
public enum ResetLinks {
    /// The link issued at `now`, to hand to the person; `actor` is the staff member who asked, or
    /// the system (the command line).
    public static func issue(email: String, actor: AuditActor, database: Database, at now: Date) throws -> SiteURL {
        try database.pool.transaction { tx in
            guard
                let user = try tx.query(
                    "SELECT id FROM users WHERE lower(email) = lower($1) AND status <> 'deactivated'",
                    [email]
                ).first?.require(0, as: UUID.self)
            else {
                throw ValidationError(field: "email", "no active account has this email")
            }
            let link = try OneTimeLinks.issue(.reset, user: user, tenant: nil, createdBy: actor.id, at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "user.reset_link_issue", targetType: "user",
                    targetID: user.postgresText, at: now), in: tx)
            return link
        }
    }
}
