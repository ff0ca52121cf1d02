// What a page handler works with, built once per request by the route table from the route's
// declared access: the signed-in visitor, the tenant its path names (a tenant page), the principal
// whose permission the table has already checked, and the actor the audit log records.
import Foundation
import HTTPServer

/// A signed-in person's page, or a staff page.
public struct PageContext {
    public let request: Request
    public let visitor: Visitor
    /// The visitor's permissions outside any tenant (their staff role, if any).
    public let principal: Principal
    public let actor: AuditActor
    let auth: WebAuth

    init(request: Request, visitor: Visitor, auth: WebAuth) {
        self.request = request
        self.visitor = visitor
        self.principal = visitor.principal(in: nil)
        self.actor = .person(visitor.user, isStaff: visitor.isStaff, origin: RequestOrigin(request))
        self.auth = auth
    }

    /// The POST's form fields, once its form token is checked against this session.
    public func form() throws -> QueryParameters { try auth.form(request, from: visitor) }
}

/// A page of one tenant, `/t/{tenant}/…`: a member there, or staff.
public struct TenantContext {
    public let request: Request
    public let visitor: Visitor
    public let tenant: TenantMembership
    /// The visitor's permissions in this tenant (their role there, and any staff role).
    public let principal: Principal
    public let actor: AuditActor
    let auth: WebAuth

    init(request: Request, visitor: Visitor, tenant: TenantMembership, auth: WebAuth) {
        self.request = request
        self.visitor = visitor
        self.tenant = tenant
        self.principal = visitor.principal(in: tenant)
        self.actor = .person(visitor.user, isStaff: visitor.isStaff, origin: RequestOrigin(request))
        self.auth = auth
    }

    public func form() throws -> QueryParameters { try auth.form(request, from: visitor) }
}
