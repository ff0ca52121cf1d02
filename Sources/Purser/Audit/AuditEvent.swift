// One audited fact: who did what to which thing, when, why and from where, with the values
// before and after. Every feature writes these through AuditLog.record, in its own transaction.
import Foundation
import Postgres

public struct AuditEvent: Sendable {
    public enum ActorKind: String, Sendable { case user, token, staff, system }

    /// Nil for events that belong to no tenant (a staff sign-in, an unknown email).
    public var tenant: UUID?
    public var actorKind: ActorKind
    public var actorID: UUID?
    /// Dotted lower-case verb phrase: `tenant.create`, `session.sign_in_failed`.
    public var action: String
    public var targetType: String?
    public var targetID: String?
    public var reason: String?
    public var requestID: String?
    public var address: String?
    public var userAgent: String?
    public var before: JSONText?
    public var after: JSONText?
    /// When it happened: the clock's now where the change is made (the event's `occurred_at`).
    public var occurredAt: Date

    public init(
        tenant: UUID?, actorKind: ActorKind, actorID: UUID?, action: String, targetType: String? = nil,
        targetID: String? = nil, reason: String? = nil, requestID: String? = nil, address: String? = nil,
        userAgent: String? = nil, before: JSONText? = nil, after: JSONText? = nil, at occurredAt: Date
    ) {
        self.tenant = tenant
        self.actorKind = actorKind
        self.actorID = actorID
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.reason = reason
        self.requestID = requestID
        self.address = address
        self.userAgent = userAgent
        self.before = before
        self.after = after
        self.occurredAt = occurredAt
    }
}

/// What verifying a chain found.
public enum AuditVerdict: Sendable, Equatable {
    case intact(events: Int, checkpoints: Int)
    /// The first row (by sequence) where the chain does not hold, and why.
    case broken(sequence: Int64, reason: String)
}

/// Where a request came from, as the audit log records it.
public struct RequestOrigin: Sendable {
    public var requestID: String?
    public var address: String?
    public var userAgent: String?

    public init(requestID: String? = nil, address: String? = nil, userAgent: String? = nil) {
        self.requestID = requestID
        self.address = address
        self.userAgent = userAgent
    }
}

extension AuditEvent {
    /// The event with the request's id, address and user agent filled in.
    public func from(_ origin: RequestOrigin?) -> AuditEvent {
        guard let origin else { return self }
        var event = self
        event.requestID = origin.requestID
        event.address = origin.address
        event.userAgent = origin.userAgent.map { String($0.prefix(300)) }
        return event
    }
}
