// Permission denials are audited: whoever was refused, what they asked for, and the permission or
// scope they lacked, in their tenant's chain (or the provider's). The refusal itself still goes
// out unchanged.
import Foundation
import HTTPServer
import Logging
import Postgres

struct DenialAudit: Middleware {
    let database: Database
    /// When each refusal happened.
    let clock: any WallClock
    let logger: Logger

    func handle(_ request: Request, next: Next) throws -> Response {
        do {
            return try next(request)
        } catch let denied as Forbidden {
            record(request, tenant: denied.tenant, actorKind: .user, actorID: denied.user, lacking: denied.permission.rawValue)
            throw denied
        } catch let denied as MissingScope {
            record(request, tenant: denied.tenant, actorKind: .token, actorID: denied.tokenID, lacking: denied.scope.rawValue)
            throw denied
        }
    }

    private func record(_ request: Request, tenant: UUID?, actorKind: AuditEvent.ActorKind, actorID: UUID?, lacking: String) {
        guard request.mayBlock else { return }
        let event = AuditEvent(
            tenant: tenant, actorKind: actorKind, actorID: actorID, action: "access.denied",
            targetType: "route", targetID: request.method.rawValue + " " + (request.routeTemplate ?? request.path),
            after: try? JSONText(encoding: ["lacking": lacking]), at: clock.now
        ).from(RequestOrigin(request))
        do {
            if let tenant {
                try database.inTenant(tenant) { try AuditLog.record(event, in: $0) }
            } else {
                try database.pool.transaction { try AuditLog.record(event, in: $0) }
            }
        } catch {
            logger.error("could not audit a denial", metadata: ["error": .string("\(error)"), "request_id": .string(request.requestID)])
        }
    }
}
