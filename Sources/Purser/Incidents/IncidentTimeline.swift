// An incident's timeline, read from where each fact lives: its own events (state changes,
// acknowledgements, escalations, alerts joining and resolving), the linked request's replies
// (customer-visible updates) and internal notes (staff only), the tenant's deployment transitions
// and rollbacks from an hour before it opened until it resolved (rollout_events), and the JIT
// access grants that name its request. One query per source, merged by time.
import Foundation
import Postgres

public struct IncidentTimelineEntry: Sendable {
    public let at: Date
    /// opened, state, acknowledged, escalated, alert, alert_resolved, severity, commander, responders,
    /// postmortem, action_item, update, internal_note, deployment, rollback, grant.
    public let kind: String
    public let actor: String?
    public let detail: String
    public let isInternal: Bool
}

enum IncidentTimeline {
    /// Deployments this long before an incident opened are on its timeline: a likely cause.
    static let lookBack: TimeInterval = 3600

    static func entries(_ tx: Connection, tenant: UUID, incident: Incident, includeInternal: Bool, now: Date) throws
        -> [IncidentTimelineEntry]
    {
        var entries: [IncidentTimelineEntry] = []
        for row in try tx.query(
            """
            SELECT e.at, e.kind, u.name, e.detail FROM incident_events e LEFT JOIN users u ON u.id = e.actor_id
            WHERE e.tenant_id = $1 AND e.incident_id = $2 ORDER BY e.at, e.id LIMIT 1000
            """, [tenant, incident.id])
        {
            entries.append(
                IncidentTimelineEntry(
                    at: try row.require(0), kind: try row.require(1), actor: try row.decode(2), detail: try row.require(3),
                    isInternal: false))
        }
        for row in try tx.query(
            """
            SELECT c.created_at, c.internal, u.name, c.body FROM request_comments c JOIN users u ON u.id = c.author_id
            WHERE c.tenant_id = $1 AND c.request_id = $2 AND (NOT c.internal OR $3) ORDER BY c.created_at, c.id LIMIT 1000
            """, [tenant, incident.requestID, includeInternal])
        {
            let note: Bool = try row.require(1)
            entries.append(
                IncidentTimelineEntry(
                    at: try row.require(0), kind: note ? "internal_note" : "update", actor: try row.decode(2), detail: try row.require(3),
                    isInternal: note))
        }
        let until = incident.resolvedAt ?? now
        for row in try tx.query(
            """
            SELECT e.at, e.from_state, e.to_state, e.action, e.reason, p.name, m.name || ' ' || v.version
            FROM rollout_events e JOIN deployments d ON d.tenant_id = e.tenant_id AND d.id = e.deployment_id
            JOIN endpoints p ON p.tenant_id = d.tenant_id AND p.id = d.endpoint_id
            JOIN model_versions v ON v.tenant_id = d.tenant_id AND v.id = d.model_version_id
            JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
            WHERE e.tenant_id = $1 AND e.at BETWEEN $2 AND $3 ORDER BY e.at LIMIT 200
            """, [tenant, incident.openedAt.addingTimeInterval(-lookBack), until])
        {
            let to: String = try row.require(2), action: String = try row.require(3), reason: String = try row.require(4)
            let rollback = action == "rollback" || to == "rolling_back" || to == "rolled_back"
            entries.append(
                IncidentTimelineEntry(
                    at: try row.require(0), kind: rollback ? "rollback" : "deployment", actor: nil,
                    detail: "\(try row.require(6, as: String.self)) on \(try row.require(5, as: String.self)): "
                        + "\(try row.require(1, as: String.self)) → \(to) (\(action))" + (reason.isEmpty ? "" : ": \(reason)"),
                    isInternal: false))
        }
        for row in try tx.query(
            """
            SELECT g.starts_at, u.name, g.kind, coalesce(g.principal, g.role, ''), g.ends_at, g.state, g.break_glass
            FROM access_grants g JOIN users u ON u.id = g.user_id
            WHERE g.tenant_id = $1 AND g.linked_request_id = $2 ORDER BY g.starts_at LIMIT 200
            """, [tenant, incident.requestID])
        {
            let kind: String = try row.require(2), what: String = try row.require(3)
            let breakGlass: Bool = try row.require(6)
            entries.append(
                IncidentTimelineEntry(
                    at: try row.require(0), kind: "grant", actor: try row.decode(1),
                    detail: (breakGlass ? "break-glass " : "") + (kind == "ssh" ? "SSH as \(what)" : "role \(what)")
                        + " until \(RFC3339.string(try row.require(4, as: Date.self))) (\(try row.require(5, as: String.self)))",
                    isInternal: false))
        }
        return entries.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}
