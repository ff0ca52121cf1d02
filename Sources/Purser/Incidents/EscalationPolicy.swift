// Who hears of an incident nobody acknowledges: level 0 when it opens, then each next level
// `after_minutes` after the one before, until someone acknowledges or it is resolved. One job per
// incident does it (kind incidents.escalate), its id kept on the incident row and replaced as each
// level is reached; acknowledging or resolving removes it.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct EscalationLevel: Codable, Sendable, Equatable {
    /// Minutes after the level before (level 0: ignored, told at once).
    public var afterMinutes: Int
    public var people: [UUID]
    /// Notification channels (e-mail lists, Slack, Teams, PagerDuty, webhooks) told whatever they subscribe to.
    public var channels: [UUID]

    enum CodingKeys: String, CodingKey {
        case afterMinutes = "after_minutes"
        case people, channels
    }

    public init(afterMinutes: Int, people: [UUID] = [], channels: [UUID] = []) {
        self.afterMinutes = afterMinutes
        self.people = people
        self.channels = channels
    }
}

public enum EscalationPolicies {
    public static let escalateKind = "incidents.escalate"
    public static let maxLevels = 5

    /// The tenant's levels; none when it has no policy (subscribed channels and the commander only).
    static func levels(_ tx: Connection, tenant: UUID) throws -> [EscalationLevel] {
        guard
            let text = try tx.query("SELECT levels::text FROM escalation_policies WHERE tenant_id = $1", [tenant]).first?
                .require(0, as: String.self)
        else { return [] }
        return (try? JSONDecoder().decode([EscalationLevel].self, from: Data(text.utf8))) ?? []
    }

    /// Checks and saves `levels`: each waits 1–1440 minutes, names people who belong to the tenant
    /// (or are staff) and the tenant's own channels.
    static func save(_ tx: Connection, tenant: UUID, levels: [EscalationLevel], by user: UUID, actor: AuditActor, at now: Date) throws {
        var errors: [FieldError] = []
        if levels.count > maxLevels { errors.append(FieldError(field: "levels", detail: "at most \(maxLevels) levels")) }
        for (index, level) in levels.enumerated() {
            if index > 0 && !(1...1440).contains(level.afterMinutes) {
                errors.append(FieldError(field: "after_\(index)", detail: "wait 1–1440 minutes before level \(index)"))
            }
            let people = try tx.query(
                "SELECT count(*) FROM users u WHERE u.id = ANY($2::uuid[]) AND \(Outbox.belongs("u", tenant: "$1"))",
                [tenant, level.people])[0].require(0, as: Int.self)
            if people != Set(level.people).count {
                errors.append(FieldError(field: "people_\(index)", detail: "name active members of this tenant or staff"))
            }
            let channels = try tx.query(
                "SELECT count(*) FROM notification_channels WHERE tenant_id = $1 AND id = ANY($2::uuid[])", [tenant, level.channels])[0]
                .require(0, as: Int.self)
            if channels != Set(level.channels).count {
                errors.append(FieldError(field: "channels_\(index)", detail: "choose this tenant's channels"))
            }
            if level.people.isEmpty && level.channels.isEmpty {
                errors.append(FieldError(field: "people_\(index)", detail: "a level tells someone: name people or channels"))
            }
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        let json = try JSONText(encoding: levels)
        try tx.query(
            """
            INSERT INTO escalation_policies (tenant_id, levels, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4)
            ON CONFLICT (tenant_id) DO UPDATE SET levels = $2::jsonb, updated_at = $3, updated_by = $4,
                version = escalation_policies.version + 1
            """, [tenant, json, now, user])
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.escalation_policy", targetType: "escalation_policy",
                targetID: tenant.postgresText, after: json, at: now), in: tx)
    }

    /// Enqueues the job that raises `incident` to `level` at `at`; returns its id for the incident row.
    static func schedule(_ tx: Connection, tenant: UUID, incident: UUID, level: Int, at: Date) throws -> Int64? {
        try JobQueue.enqueue(
            tx, kind: escalateKind,
            payload: try JSONText(encoding: ["incident": incident.postgresText, "level": String(level)]),
            options: JobOptions(tenant: tenant, runAt: at, maxAttempts: 5))
    }
}
