// The incident's service request follows the incident in the same transaction: its state by the
// mapping in IncidentState.requestState (checked by the request workflow, so a move the request
// cannot make refuses the incident's move too), its priority by the severity, and its first
// response clock stops when staff acknowledge. The clocks move as a request's own change moves them.
import Foundation
import Postgres

enum IncidentRequestLink {
    /// Moves the request to `to` unless it is there already; audited as a request change.
    static func move(
        _ tx: Connection, tenant: UUID, request: UUID, to: RequestState, by user: UUID?, actor: AuditActor, at now: Date
    ) throws {
        let row = try tx.query("SELECT state, resolved_at FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [tenant, request])[0]
        let current: String = try row.require(0)
        guard current != to.rawValue, let from = RequestState(rawValue: current) else { return }
        let reopenDays = from == .resolved ? try RequestSLA.policy(tx, tenant: tenant).reopenWindow : 14
        try RequestWorkflow.check(from: from, to: to, resolvedAt: try row.decode(1), reopenDays: reopenDays, now: now)
        if let user {
            // Closing ends the grants the request justified, as a request's own change does.
            try AccessGrants.requestMoving(request, tenant: tenant, from: current, to: to.rawValue, by: user, at: now, in: tx)
        }
        try tx.query(
            """
            UPDATE requests SET state = $3, updated_at = $4::timestamptz, version = version + 1,
                   resolved_at = CASE WHEN $3 = 'resolved' THEN $4::timestamptz WHEN $3 = 'closed' THEN resolved_at ELSE NULL END
            WHERE tenant_id = $1 AND id = $2
            """, [tenant, request, to.rawValue, now])
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in
            clocks.moved(from: current, to: to.rawValue, at: now, policy: policy)
        }
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "request.update", targetType: "request", targetID: request.postgresText,
                before: try JSONText(encoding: ["state": current]), after: try JSONText(encoding: ["state": to.rawValue]), at: now),
            in: tx)
    }

    /// A change made on the request itself (its page, the requests API): waiting on the customer and
    /// back is the request's own business, but resolving, closing or reopening an incident's request
    /// happens through the incident, whose rules (the postmortem before review) and notices go with it.
    static func requestMoving(_ request: UUID, tenant: UUID, from: RequestState, to: RequestState, in tx: Connection) throws {
        let settled: Set<RequestState> = [.resolved, .closed]
        guard settled.contains(from) || settled.contains(to),
            let incident = try tx.query("SELECT id FROM incidents WHERE tenant_id = $1 AND request_id = $2", [tenant, request]).first?
                .require(0, as: UUID.self)
        else { return }
        let allowed = from.next.filter { !settled.contains($0) && !settled.contains(from) }
        throw ValidationError.transitionRefused(
            state: from.rawValue, allowed: allowed.map(\.rawValue),
            "this request belongs to incident \(incident.postgresText): resolve, review or reopen the incident instead")
    }

    /// A new severity retargets the request's priority and its clocks.
    static func reprioritise(
        _ tx: Connection, tenant: UUID, request: UUID, to priority: RequestPriority, actor: AuditActor, at now: Date
    ) throws {
        let current = try tx.query("SELECT priority FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [tenant, request])[0]
            .require(0, as: String.self)
        guard current != priority.rawValue else { return }
        try tx.query(
            "UPDATE requests SET priority = $3, updated_at = $4, version = version + 1 WHERE tenant_id = $1 AND id = $2",
            [tenant, request, priority.rawValue, now])
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, filedAt in
            clocks.retarget(priority: priority.rawValue, filedAt: filedAt, policy: policy)
        }
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "request.update", targetType: "request", targetID: request.postgresText,
                before: try JSONText(encoding: ["priority": current]), after: try JSONText(encoding: ["priority": priority.rawValue]),
                at: now), in: tx)
    }

    /// Staff acknowledged: the provider has answered, so the first-response clock stops.
    static func responded(_ tx: Connection, tenant: UUID, request: UUID, at now: Date) throws {
        try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in clocks.responded(at: now, policy: policy) }
    }
}
