// A tenant's own pages under /t/{tenant}/: the overview, and its people for tenant admins
// (invite, change a role, deactivate). A tenant the visitor cannot see is a 404 on every route.
import Foundation
import HTTPServer

enum TenantPages {
    struct Overview: TemplateModel {
        let tenantName: String
        let tenantKey: String
        let slug: String
        let role: String
        let permissions: [String]
        let canManageUsers: Bool
        let canManageSettings: Bool
        let canReadAudit: Bool
        let canReadReports: Bool
    }

    struct MemberRow: Encodable, Sendable {
        let id: String
        let email: String
        let name: String
        let role: String
        let status: String
        let since: String
        let active: Bool
        let roles: [RoleOption]
        let isYou: Bool
    }

    struct RoleOption: Encodable, Sendable {
        let value: String
        let selected: Bool
    }

    struct MembersPage: TemplateModel {
        let formToken: String
        let slug: String
        let tenantName: String
        let members: [MemberRow]
        let roles: [RoleOption]
        var inviteLink: String?
        var invitedEmail: String?
        var message: String?
        var errors: [FieldError] = []
    }

    /// `emailInvites`: invitations are also emailed (a mail server is configured).
    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, memberships: Memberships, publicURL: String,
                         emailInvites: Bool) {

        routes.add(.get, "/t/{tenant}", access: .signedIn) { request in
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            let principal = visitor.principal(in: tenant)
            let model = Overview(
                tenantName: tenant.name, tenantKey: tenant.key, slug: tenant.slug,
                role: tenant.role?.rawValue ?? visitor.session.staffRole.map { "staff: \($0.rawValue)" } ?? "",
                permissions: principal.permissions.map(\.rawValue).sorted(),
                canManageUsers: principal.can(.tenantUsersManage), canManageSettings: principal.can(.tenantSettingsManage),
                canReadAudit: principal.can(.auditRead), canReadReports: principal.can(.reportsRead))
            return site.page("identity/tenant", title: tenant.name, model, visitor: visitor, tenant: tenant)
        }

        @Sendable func render(_ visitor: Visitor, _ tenant: TenantMembership, inviteLink: String? = nil, invitedEmail: String? = nil,
                    message: String? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let members = try memberships.list(tenant: tenant.id).map { member in
                MemberRow(id: member.user.postgresText, email: member.email, name: member.name, role: member.role.rawValue,
                          status: member.status, since: DisplayTime.format(member.since), active: member.status != "deactivated",
                          roles: CustomerRole.allCases.map { RoleOption(value: $0.rawValue, selected: $0 == member.role) },
                          isYou: member.user == visitor.user)
            }
            let page = MembersPage(formToken: visitor.formToken, slug: tenant.slug, tenantName: tenant.name, members: members,
                                   roles: CustomerRole.allCases.map { RoleOption(value: $0.rawValue, selected: $0 == .requester) },
                                   inviteLink: inviteLink, invitedEmail: invitedEmail, message: message, errors: errors)
            return site.page("identity/members", title: "People · \(tenant.name)", page, status: status, visitor: visitor,
                             tenant: tenant)
        }

        /// The visitor and tenant of a members page, after the permission check.
        @Sendable func admin(_ request: Request) throws -> (Visitor, TenantMembership) {
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            try visitor.principal(in: tenant).require(.tenantUsersManage)
            return (visitor, tenant)
        }

        routes.add(.get, "/t/{tenant}/members", access: .permission(.tenantUsersManage)) { request in
            let (visitor, tenant) = try admin(request)
            return try render(visitor, tenant)
        }

        routes.add(.post, "/t/{tenant}/members", access: .permission(.tenantUsersManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            let form = try auth.form(request, from: visitor)
            do {
                guard let role = CustomerRole(rawValue: form["role"] ?? "") else {
                    throw ValidationError(field: "role", "choose a role")
                }
                let email = form["email"] ?? ""
                let path = try memberships.invite(NewPerson(email: email, name: form["name"] ?? ""), role: role,
                                                  tenant: tenant.id, by: visitor.user, origin: RequestOrigin(request),
                                                  emailing: emailInvites ? (publicURL, tenant.name) : nil)
                return try render(visitor, tenant, inviteLink: publicURL + path, invitedEmail: email, status: .created)
            } catch let error as ValidationError {
                return try render(visitor, tenant, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.add(.post, "/t/{tenant}/members/{user}/role", access: .permission(.tenantUsersManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            let form = try auth.form(request, from: visitor)
            let user = try request.uuidParameter("user")
            do {
                guard let role = CustomerRole(rawValue: form["role"] ?? "") else {
                    throw ValidationError(field: "role", "choose a role")
                }
                try memberships.changeRole(user: user, to: role, tenant: tenant.id, by: visitor.user,
                                           origin: RequestOrigin(request))
                if user == visitor.user { throw Redirect(to: "/sign-in") }
                return try render(visitor, tenant, message: "Role changed. Their sessions have ended and their tokens for this tenant were revoked.")
            } catch let error as ValidationError {
                return try render(visitor, tenant, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.add(.post, "/t/{tenant}/members/{user}/deactivate", access: .permission(.tenantUsersManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            _ = try auth.form(request, from: visitor)
            let user = try request.uuidParameter("user")
            do {
                try memberships.deactivate(user: user, tenant: tenant.id, by: visitor.user, origin: RequestOrigin(request))
                if user == visitor.user { throw Redirect(to: "/sign-in") }
                return try render(visitor, tenant, message: "Deactivated. Their sessions have ended and their tokens for this tenant were revoked.")
            } catch let error as ValidationError {
                return try render(visitor, tenant, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
