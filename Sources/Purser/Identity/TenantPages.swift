// A tenant's own pages under /t/{tenant}/: the overview, and its people for tenant admins
// (invite, change a role, deactivate). A tenant the visitor cannot see is a 404 on every route.
import Foundation
import HTTPServer

enum TenantPages {
    struct Overview: TemplateModel {
        let tenantName: String
        let tenantKey: String
        let role: String
        let permissions: [String]
        let canManageUsers: Bool
        let canManageSettings: Bool
        let canReadAudit: Bool
        let canReadReports: Bool
        let requestsLink: SiteURL
        let slaPolicyLink: SiteURL
        let slaReportLink: SiteURL
        let weeklyReportsLink: SiteURL
        let membersLink: SiteURL
        let notificationsLink: SiteURL
        let auditLink: SiteURL
        let canReadDeployments: Bool
        let deploymentsLink: SiteURL
        let modelsLink: SiteURL
        /// Access requests and the GPU hosts they open, for everyone who may ask for access.
        let canRequestAccess: Bool
        let accessLink: SiteURL
        let hostsLink: SiteURL
        /// Incidents, their timelines and postmortems.
        let canReadIncidents: Bool
        let incidentsLink: SiteURL
        let accountLink = SitePage.account.url
        /// Spend this month and over 30 days, for those who may read costs.
        var spend: CostSpendSummary?

        init(_ ctx: TenantContext) {
            let (tenant, principal) = (ctx.tenant, ctx.principal)
            tenantName = tenant.name
            tenantKey = tenant.key
            role = tenant.role?.rawValue ?? ctx.visitor.session.staffRole.map { "staff: \($0.rawValue)" } ?? ""
            permissions = principal.permissions.map(\.rawValue).sorted()
            canManageUsers = principal.can(.tenantUsersManage)
            canManageSettings = principal.can(.tenantSettingsManage)
            canReadAudit = principal.can(.auditRead)
            canReadReports = principal.can(.reportsRead)
            requestsLink = .requests(tenant.slug)
            slaPolicyLink = .slaPolicy(tenant.slug)
            slaReportLink = .slaReport(tenant.slug)
            weeklyReportsLink = .weeklyReports(tenant.slug)
            membersLink = .members(tenant.slug)
            notificationsLink = .notifications(tenant.slug)
            auditLink = .audit(tenant.slug)
            canReadDeployments = principal.can(.deploymentsRead)
            deploymentsLink = .deployments(tenant.slug)
            modelsLink = .models(tenant.slug)
            canRequestAccess = principal.can(.accessRequest)
            accessLink = .access(tenant.slug)
            hostsLink = .hosts(tenant.slug)
            canReadIncidents = principal.can(.incidentsRead)
            incidentsLink = .incidents(tenant.slug)
        }
    }

    struct MemberRow: Encodable, Sendable {
        let email: String
        let name: String
        let role: String
        let status: String
        let since: String
        let active: Bool
        let roles: [RoleOption]
        let isYou: Bool
        let roleLink: SiteURL
        let deactivateLink: SiteURL
    }

    struct RoleOption: Encodable, Sendable {
        let value: String
        let selected: Bool
    }

    struct MembersPage: TemplateModel {
        let formToken: String
        let tenantName: String
        let members: [MemberRow]
        let roles: [RoleOption]
        let inviteAction: SiteURL
        var inviteLink: String?
        var invitedEmail: String?
        var message: String?
        var errors: [FieldError] = []
    }

    /// `emailInvites`: invitations are also emailed (the World has a mail sender: SMTP, or the one `purser dev` keeps).
    static func register(
        in routes: inout RouteTable, site: Site, memberships: Memberships, publicURL: String,
        emailInvites: Bool
    ) {

        routes.tenant(.get, .tenant, permission: nil) { ctx in
            var overview = Overview(ctx)
            if ctx.principal.can(.costsRead) {
                overview.spend = try CostReportSpend.summary(
                    memberships.database, tenant: ctx.tenant.id, slug: ctx.tenant.slug, now: ctx.world.clock.now)
            }
            return site.page("identity/tenant", title: ctx.tenant.name, overview, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        @Sendable func render(
            _ ctx: TenantContext, inviteLink: String? = nil, invitedEmail: String? = nil,
            message: String? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok
        ) throws -> Response {
            let (visitor, tenant) = (ctx.visitor, ctx.tenant)
            let members = try memberships.list(tenant: tenant.id).map { member in
                MemberRow(
                    email: member.email, name: member.name, role: member.role.rawValue,
                    status: member.status, since: DisplayTime.format(member.since), active: member.status != "deactivated",
                    roles: CustomerRole.allCases.map { RoleOption(value: $0.rawValue, selected: $0 == member.role) },
                    isYou: member.user == visitor.user, roleLink: .memberRole(tenant.slug, user: member.user),
                    deactivateLink: .memberDeactivate(tenant.slug, user: member.user))
            }
            let page = MembersPage(
                formToken: visitor.formToken, tenantName: tenant.name, members: members,
                roles: CustomerRole.allCases.map { RoleOption(value: $0.rawValue, selected: $0 == .requester) },
                inviteAction: .members(tenant.slug), inviteLink: inviteLink, invitedEmail: invitedEmail,
                message: message, errors: errors)
            return site.page(
                "identity/members", title: "People · \(tenant.name)", page, status: status, visitor: visitor,
                tenant: tenant)
        }

        routes.tenant(.get, .members, permission: .tenantUsersManage) { ctx in try render(ctx) }

        routes.tenant(.post, .members, permission: .tenantUsersManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                guard let role = CustomerRole(rawValue: form["role"] ?? "") else {
                    throw ValidationError(field: "role", "choose a role")
                }
                let email = form["email"] ?? ""
                let link = try memberships.invite(
                    NewPerson(email: email, name: form["name"] ?? ""), role: role,
                    tenant: ctx.tenant.id, actor: ctx.actor,
                    emailing: emailInvites ? (publicURL, ctx.tenant.name) : nil)
                return try render(ctx, inviteLink: link.absolute(on: publicURL), invitedEmail: email, status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.tenant(.post, .memberRole, permission: .tenantUsersManage, options: .form) { ctx in
            let form = try ctx.form()
            let user = try ctx.request.uuidParameter("user")
            do {
                guard let role = CustomerRole(rawValue: form["role"] ?? "") else {
                    throw ValidationError(field: "role", "choose a role")
                }
                try memberships.changeRole(user: user, to: role, tenant: ctx.tenant.id, actor: ctx.actor)
                if user == ctx.visitor.user { throw Redirect(to: SitePage.signIn.url.path) }
                return try render(ctx, message: "Role changed. Their sessions have ended and their tokens for this tenant were revoked.")
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.tenant(.post, .memberDeactivate, permission: .tenantUsersManage, options: .form) { ctx in
            _ = try ctx.form()
            let user = try ctx.request.uuidParameter("user")
            do {
                try memberships.deactivate(user: user, tenant: ctx.tenant.id, actor: ctx.actor)
                if user == ctx.visitor.user { throw Redirect(to: SitePage.signIn.url.path) }
                return try render(ctx, message: "Deactivated. Their sessions have ended and their tokens for this tenant were revoked.")
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
