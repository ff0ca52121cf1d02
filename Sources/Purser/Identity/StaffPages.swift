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
    }

    struct Page: TemplateModel {
        let formToken: String
        let tenants: [TenantRow]
        let canManage: Bool
        var resetLink: String?
        var resetEmail: String?
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, tenants: TenantStore, database: Database,
                         publicURL: String) {


        @Sendable func render(_ visitor: Visitor, resetLink: String? = nil, resetEmail: String? = nil, message: String? = nil,
                    errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let rows = try tenants.list().map {
                TenantRow(slug: $0.slug, key: $0.key, name: $0.name, plan: $0.plan, status: $0.status, members: $0.members,
                          created: DisplayTime.format($0.createdAt), active: $0.status == "active")
            }
            let page = Page(formToken: visitor.formToken, tenants: rows,
                            canManage: visitor.principal(in: nil).can(.tenantsManage), resetLink: resetLink,
                            resetEmail: resetEmail, message: message, errors: errors)
            return site.page("identity/staff", title: "Tenants", page, status: status, visitor: visitor)
        }

        routes.add(.get, "/staff", access: .staff) { request in try render(try auth.staff(request)) }

        routes.add(.post, "/staff/tenants", access: .permission(.tenantsManage), options: .form) { request in
            let visitor = try auth.staff(request)
            let form = try auth.form(request, from: visitor)
            try visitor.principal(in: nil).require(.tenantsManage)
            do {
                let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
                _ = try tenants.create(NewTenant(slug: form["slug"] ?? "", name: form["name"] ?? "",
                                                 key: key.isEmpty ? nil : key.uppercased(),
                                                 plan: form["plan"] ?? "standard", timeZone: form["time_zone"] ?? "UTC"),
                                       by: .staff, actorID: visitor.user, reason: nil)
                return try render(visitor, message: "Tenant created.", status: .created)
            } catch let error as ValidationError {
                return try render(visitor, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.add(.post, "/staff/tenants/{slug}/status", access: .permission(.tenantsManage), options: .form) { request in
            let visitor = try auth.staff(request)
            let form = try auth.form(request, from: visitor)
            try visitor.principal(in: nil).require(.tenantsManage)
            try tenants.setStatus(slug: try request.parameter("slug"), active: form["status"] == "active", by: visitor.user,
                                  origin: RequestOrigin(request))
            return .redirect(to: "/staff/")
        }

        routes.add(.post, "/staff/reset-links", access: .permission(.tenantUsersManage), options: .form) { request in
            let visitor = try auth.staff(request)
            let form = try auth.form(request, from: visitor)
            try visitor.principal(in: nil).require(.tenantUsersManage)
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            do {
                let path = try ResetLinks.issue(email: email, by: visitor.user, origin: RequestOrigin(request), database: database)
                return try render(visitor, resetLink: publicURL + path, resetEmail: email, status: .created)
            } catch let error as ValidationError {
                return try render(visitor, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}

/// Reset links issued by staff or the CLI for a person who forgot their password.
public enum ResetLinks {
    public static func issue(email: String, by actor: UUID?, origin: RequestOrigin?, database: Database) throws -> String {
        try database.pool.transaction { tx in
            guard let user = try tx.query("SELECT id FROM users WHERE lower(email) = lower($1) AND status <> 'deactivated'",
                                          [email]).first?.require(0, as: UUID.self) else {
                throw ValidationError(field: "email", "no active account has this email")
            }
            let path = try OneTimeLinks.issue(.reset, user: user, tenant: nil, createdBy: actor, in: tx)
            try AuditLog.record(AuditEvent(tenant: nil, actorKind: actor == nil ? .system : .staff, actorID: actor,
                                           action: "user.reset_link_issue", targetType: "user",
                                           targetID: user.postgresText).from(origin), in: tx)
            return path
        }
    }
}
