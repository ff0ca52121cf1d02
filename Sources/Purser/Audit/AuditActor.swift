// Who does something, as the audit log records it: a person, a token, staff or Purser itself, and
// where the request came from (named apart from Swift's `Actor` protocol). Handlers get one from
// their context; stores take it whole instead of an actor kind, an id and an origin one by one.
import Foundation
import Postgres

public struct AuditActor: Sendable {
    public let kind: AuditEvent.ActorKind
    public let id: UUID?
    public let origin: RequestOrigin?

    public init(kind: AuditEvent.ActorKind, id: UUID?, origin: RequestOrigin? = nil) {
        self.kind = kind
        self.id = id
        self.origin = origin
    }

    /// Purser itself: jobs, schedules, the command line.
    public static let system = AuditActor(kind: .system, id: nil)

    /// A person acting on a page: staff are recorded as staff wherever they act.
    public static func person(_ user: UUID, isStaff: Bool, origin: RequestOrigin?) -> AuditActor {
        AuditActor(kind: isStaff ? .staff : .user, id: user, origin: origin)
    }
}

extension AuditEvent {
    /// An event done by `actor` at `occurredAt`, with its origin filled in.
    public init(
        tenant: UUID?, actor: AuditActor, action: String, targetType: String? = nil, targetID: String? = nil,
        reason: String? = nil, before: JSONText? = nil, after: JSONText? = nil, at occurredAt: Date
    ) {
        self.init(
            tenant: tenant, actorKind: actor.kind, actorID: actor.id, action: action, targetType: targetType,
            targetID: targetID, reason: reason, before: before, after: after, at: occurredAt)
        self = from(actor.origin)
    }
}
