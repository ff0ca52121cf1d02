// What an API handler works with, built by the gate once it has let the call through: the caller
// (token, person, tenant), the principal whose permissions the handler checks, and the actor the
// audit log records — the token, from the request's origin.
import Foundation
import HTTPServer

public struct APIContext {
    public let request: Request
    public let caller: APICaller
    public let actor: AuditActor

    init(request: Request, caller: APICaller) {
        self.request = request
        self.caller = caller
        self.actor = AuditActor(kind: .token, id: caller.identity.tokenID, origin: RequestOrigin(request))
    }

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
