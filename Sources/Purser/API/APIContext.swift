// What an API handler works with, built by the gate once it has let the call through: the caller
// (token, person, tenant), the principal whose permissions the handler checks, and the actor the
// audit log records — the token, from the request's origin.
import Foundation
import HTTPServer

public struct APIContext {
    /// Time and the outside world.
    public let world: World
    public let request: Request
    public let caller: APICaller

    init(world: World, request: Request, caller: APICaller) {
        self.world = world
        self.request = request
        self.caller = caller
    }

    /// The token, from the request's origin (made when a change asks for it: most calls only read).
    public var actor: AuditActor { AuditActor(kind: .token, id: caller.identity.tokenID, origin: RequestOrigin(request)) }

    public var principal: Principal { caller.principal }

    /// The tenant the call is about, for routes declared as needing one (the gate resolved it or refused).
    public var tenant: UUID {
        get throws {
            guard let tenant = caller.tenant else { throw HTTPError(.badRequest, detail: "Name the tenant with ?tenant=<slug>.") }
            return tenant
        }
    }

    public func require(_ permission: Permission) throws { try caller.require(permission) }
}
