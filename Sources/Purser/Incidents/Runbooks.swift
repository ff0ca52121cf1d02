// Runbooks: what to do when an alert fires, in Markdown, one per alert name or per service. An
// incident shows the runbooks of its service and of the alerts that joined it.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct Runbook: Sendable {
    public enum Match: String, Sendable, CaseIterable { case alertname, service }

    public let id: UUID
    public let match: Match
    public let value: String
    public let title: String
    public let body: String
    public let updatedAt: Date
}

enum Runbooks {
    static let columns = "id, match_kind, match_value, title, body, updated_at"

    static func decode(_ row: Row) throws -> Runbook {
        Runbook(
            id: try row.require(0), match: Runbook.Match(rawValue: try row.require(1)) ?? .service, value: try row.require(2),
            title: try row.require(3), body: try row.require(4), updatedAt: try row.require(5))
    }

    static func all(_ tx: Connection, tenant: UUID) throws -> [Runbook] {
        try tx.query("SELECT \(columns) FROM runbooks WHERE tenant_id = $1 ORDER BY match_kind, match_value", [tenant]).map(decode)
    }

    /// The runbooks for `service` and for the alert names that joined `incident`.
    static func matching(_ tx: Connection, tenant: UUID, incident: UUID, service: String) throws -> [Runbook] {
        try tx.query(
            """
            SELECT \(columns) FROM runbooks WHERE tenant_id = $1 AND (
                (match_kind = 'service' AND match_value = $3)
                OR (match_kind = 'alertname' AND match_value IN (
                    SELECT alertname FROM incident_alerts WHERE tenant_id = $1 AND incident_id = $2)))
            ORDER BY match_kind DESC, match_value
            """, [tenant, incident, service]
        ).map(decode)
    }

    /// Writes the runbook for (`match`, `value`), replacing the one there; an empty body removes it.
    static func save(
        _ tx: Connection, tenant: UUID, match: String, value: String, title: String, body: String, by user: UUID, actor: AuditActor,
        at now: Date
    ) throws {
        var errors: [FieldError] = []
        if Runbook.Match(rawValue: match) == nil { errors.append(FieldError(field: "match", detail: "match an alertname or a service")) }
        let value = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty || value.count > 200 || RequestRules.hasControl(value) {
            errors.append(FieldError(field: "value", detail: "name the alert or service in 1–200 characters, on one line"))
        }
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        if !body.isEmpty && (title.isEmpty || title.count > 200 || RequestRules.hasControl(title)) {
            errors.append(FieldError(field: "title", detail: "give a title of 1–200 characters, on one line"))
        }
        if body.unicodeScalars.count > 50000 || body.unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(field: "body", detail: "keep it under 50,000 characters, without NUL"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try tx.query("DELETE FROM runbooks WHERE tenant_id = $1 AND match_kind = $2 AND match_value = $3", [tenant, match, value])
        } else {
            try tx.query(
                """
                INSERT INTO runbooks (tenant_id, id, match_kind, match_value, title, body, updated_at, updated_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (tenant_id, match_kind, match_value) DO UPDATE SET title = $5, body = $6, updated_at = $7, updated_by = $8
                """, [tenant, UUID.v7(at: now), match, value, title, body, now, user])
        }
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.runbook", targetType: "runbook", targetID: "\(match):\(value)",
                after: try JSONText(encoding: ["title": title, "removed": body.isEmpty ? "true" : "false"]), at: now), in: tx)
    }
}
