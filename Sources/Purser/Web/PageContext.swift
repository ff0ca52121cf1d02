// What a page handler works with, built once per request by the route table from the route's
// declared access: the World (clock, outbound calls), the signed-in visitor, the tenant its path names (a tenant page), the principal
// whose permission the table has already checked, and the actor the audit log records.
import Foundation
import HTTPServer

/// A signed-in person's page, or a staff page.
public struct PageContext {
    /// Time and the outside world.
    public let world: World
    public let request: Request
    public let visitor: Visitor
    /// The visitor's permissions outside any tenant (their staff role, if any).
    public let principal: Principal
    let auth: WebAuth

    init(world: World, request: Request, visitor: Visitor, auth: WebAuth) {
        self.world = world
        self.request = request
        self.visitor = visitor
        self.principal = visitor.principal(in: nil)
        self.auth = auth
    }

    /// The POST's form fields, once its form token is checked against this session.
    public func form() throws -> QueryParameters { try auth.form(request, from: visitor) }

    /// The visitor, as the audit log records them (made when a change asks for it).
    public var actor: AuditActor { visitor.actor(request) }
}

/// A page of one tenant, `/t/{tenant}/…`: a member there, or staff.
public struct TenantContext {
    /// Time and the outside world.
    public let world: World
    public let request: Request
    public let visitor: Visitor
    public let tenant: TenantMembership
    /// The visitor's permissions in this tenant (their role there, and any staff role).
    public let principal: Principal
    let auth: WebAuth

    init(world: World, request: Request, visitor: Visitor, tenant: TenantMembership, auth: WebAuth) {
        self.world = world
        self.request = request
        self.visitor = visitor
        self.tenant = tenant
        self.principal = visitor.principal(in: tenant, at: world.clock.now)
        self.auth = auth
    }

    public func form() throws -> QueryParameters { try auth.form(request, from: visitor) }

    /// The visitor, as the audit log records them (made when a change asks for it).
    public var actor: AuditActor { visitor.actor(request) }
}
