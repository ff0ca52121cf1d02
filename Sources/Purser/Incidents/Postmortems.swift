// The review after an incident, in a fixed template: summary, impact, timeline, root cause, what
// went well, and action items with an owner and a due date, each tracked to done. SEV1 and SEV2
// incidents cannot be marked reviewed until summary, impact, timeline and root cause are written.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct PostmortemAction: Sendable {
    public let id: UUID
    public let title: String
    public let owner: (id: UUID, name: String)
    /// YYYY-MM-DD.
    public let dueOn: String
    public let doneAt: Date?
}

public struct Postmortem: Sendable {
    public var summary = ""
    public var impact = ""
    public var timeline = ""
    public var rootCause = ""
    public var wentWell = ""
    public var actions: [PostmortemAction] = []
    public var updatedAt: Date?
    public var version = 0

    public var isComplete: Bool {
        ![summary, impact, timeline, rootCause].contains { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }
}

/// The written part of a postmortem, as a page's form or the API sends it.
public struct PostmortemText: Sendable, Decodable {
    public var summary: String
    public var impact: String
    public var timeline: String
    public var rootCause: String
    public var wentWell: String

    enum CodingKeys: String, CodingKey {
        case summary, impact, timeline
        case rootCause = "root_cause"
        case wentWell = "went_well"
    }

    public init(summary: String, impact: String, timeline: String, rootCause: String, wentWell: String) {
        self.summary = summary
        self.impact = impact
        self.timeline = timeline
        self.rootCause = rootCause
        self.wentWell = wentWell
    }

    var problems: [FieldError] {
        [("summary", summary), ("impact", impact), ("timeline", timeline), ("root_cause", rootCause), ("went_well", wentWell)]
            .compactMap { field, text in
                text.unicodeScalars.count > 20000 || text.unicodeScalars.contains("\u{0}")
                    ? FieldError(field: field, detail: "keep it under 20,000 characters, without NUL") : nil
            }
    }
}

/// One action item as sent: an id keeps an existing item (and when it was done).
public struct PostmortemActionInput: Sendable, Decodable {
    public var id: UUID?
    public var title: String
    public var ownerID: UUID
    public var dueOn: String
    public var done: Bool?

    enum CodingKeys: String, CodingKey {
        case id, title, done
        case ownerID = "owner_id"
        case dueOn = "due_on"
    }

    public init(id: UUID? = nil, title: String, ownerID: UUID, dueOn: String, done: Bool? = nil) {
        self.id = id
        self.title = title
        self.ownerID = ownerID
        self.dueOn = dueOn
        self.done = done
    }
}

enum Postmortems {
    static func isComplete(_ tx: Connection, tenant: UUID, incident: UUID) throws -> Bool {
        try load(tx, tenant: tenant, incident: incident)?.isComplete ?? false
    }

    static func load(_ tx: Connection, tenant: UUID, incident: UUID) throws -> Postmortem? {
        guard
            let row = try tx.query(
                """
                SELECT summary, impact, timeline, root_cause, went_well, updated_at, version FROM postmortems
                WHERE tenant_id = $1 AND incident_id = $2
                """, [tenant, incident]
            ).first
        else { return nil }
        let actions = try tx.query(
            """
            SELECT a.id, a.title, a.owner_id, u.name, a.due_on::text, a.done_at FROM postmortem_actions a JOIN users u ON u.id = a.owner_id
            WHERE a.tenant_id = $1 AND a.incident_id = $2 ORDER BY a.due_on, a.created_at, a.id
            """, [tenant, incident]
        ).map {
            PostmortemAction(
                id: try $0.require(0), title: try $0.require(1), owner: (try $0.require(2), try $0.require(3)), dueOn: try $0.require(4),
                doneAt: try $0.decode(5))
        }
        return Postmortem(
            summary: try row.require(0), impact: try row.require(1), timeline: try row.require(2), rootCause: try row.require(3),
            wentWell: try row.require(4), actions: actions, updatedAt: try row.require(5), version: try row.require(6))
    }

    /// Writes the text (the row made on first save); audited and on the timeline.
    static func save(
        _ tx: Connection, tenant: UUID, incident: UUID, text: PostmortemText, by user: UUID, actor: AuditActor, at now: Date
    ) throws {
        let problems = text.problems
        if !problems.isEmpty { throw ValidationError(problems) }
        try tx.query(
            """
            INSERT INTO postmortems (tenant_id, incident_id, summary, impact, timeline, root_cause, went_well, updated_at, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (tenant_id, incident_id) DO UPDATE SET summary = $3, impact = $4, timeline = $5, root_cause = $6,
                went_well = $7, updated_at = $8, updated_by = $9, version = postmortems.version + 1
            """, [tenant, incident, text.summary, text.impact, text.timeline, text.rootCause, text.wentWell, now, user])
        try IncidentStore.event(tx, tenant: tenant, incident: incident, kind: "postmortem", by: user, detail: "postmortem saved", at: now)
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.postmortem", targetType: "incident", targetID: incident.postgresText,
                at: now), in: tx)
    }

    static func validDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (2000...2200).contains(year)
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return DateComponents(calendar: calendar, year: year, month: month, day: day).isValidDate
    }

    static func actionProblems(
        _ tx: Connection, tenant: UUID, incident: UUID, _ items: [PostmortemActionInput], prefix: String
    ) throws -> [FieldError] {
        var errors: [FieldError] = []
        if items.count > 100 { errors.append(FieldError(field: prefix, detail: "at most 100 action items")) }
        // An id keeps an item of this postmortem; any other id would be dropped or overwrite one.
        let ids = items.compactMap(\.id)
        let existing =
            ids.isEmpty
            ? Set<UUID>()
            : Set(
                try tx.query(
                    "SELECT id FROM postmortem_actions WHERE tenant_id = $1 AND incident_id = $2 AND id = ANY($3::uuid[])",
                    [tenant, incident, ids]
                ).map { try $0.require(0, as: UUID.self) })
        var seen = Set<UUID>()
        for (index, item) in items.enumerated() {
            if let id = item.id {
                if !existing.contains(id) {
                    errors.append(
                        FieldError(
                            field: "\(prefix)[\(index)].id", detail: "not an action item of this postmortem; leave id out for a new item"))
                } else if !seen.insert(id).inserted {
                    errors.append(FieldError(field: "\(prefix)[\(index)].id", detail: "this item is listed twice"))
                }
            }
            let title = item.title.trimmingCharacters(in: .whitespacesAndNewlines)
            if title.isEmpty || item.title.unicodeScalars.count > 500 || RequestRules.hasControl(item.title) {
                errors.append(FieldError(field: "\(prefix)[\(index)].title", detail: "give a title of 1–500 characters, on one line"))
            }
            if !validDay(item.dueOn) {
                errors.append(FieldError(field: "\(prefix)[\(index)].due_on", detail: "give the due date as YYYY-MM-DD"))
            }
        }
        let owners = Array(Set(items.map(\.ownerID)))
        let known = try tx.query(
            "SELECT count(*) FROM users u WHERE u.id = ANY($2::uuid[]) AND \(Outbox.belongs("u", tenant: "$1"))", [tenant, owners])[0]
            .require(0, as: Int.self)
        if known != owners.count {
            errors.append(FieldError(field: "\(prefix).owner_id", detail: "owners are active members of this tenant or staff"))
        }
        return errors
    }

    /// Replaces the action items with `items`: an item sent with its id keeps it (and when it was
    /// done, while it stays done); items not sent are removed.
    static func replaceActions(
        _ tx: Connection, tenant: UUID, incident: UUID, items: [PostmortemActionInput], at now: Date
    ) throws {
        try tx.query(
            "DELETE FROM postmortem_actions WHERE tenant_id = $1 AND incident_id = $2 AND NOT (id = ANY($3::uuid[]))",
            [tenant, incident, items.compactMap(\.id)])
        for item in items {
            try tx.query(
                """
                INSERT INTO postmortem_actions (tenant_id, id, incident_id, title, owner_id, due_on, done_at, created_at)
                VALUES ($1, $2, $3, $4, $5, $6::date, CASE WHEN $7 THEN $8::timestamptz END, $8)
                ON CONFLICT (tenant_id, id) DO UPDATE SET title = $4, owner_id = $5, due_on = $6::date,
                    done_at = CASE WHEN $7 THEN coalesce(postmortem_actions.done_at, $8::timestamptz) END
                WHERE postmortem_actions.incident_id = $3
                """,
                [
                    tenant, item.id ?? UUID.v7(at: now), incident, item.title.trimmingCharacters(in: .whitespacesAndNewlines), item.ownerID,
                    item.dueOn, item.done ?? false, now,
                ])
        }
    }

    /// Adds one action item (a page's form); audited like the API's whole postmortem.
    static func addAction(
        _ tx: Connection, tenant: UUID, incident: UUID, item: PostmortemActionInput, by user: UUID, actor: AuditActor, at now: Date
    ) throws {
        let problems = try actionProblems(tx, tenant: tenant, incident: incident, [item], prefix: "action")
        if !problems.isEmpty { throw ValidationError(problems) }
        try ensure(tx, tenant: tenant, incident: incident, by: user, at: now)
        let id = UUID.v7(at: now), title = item.title.trimmingCharacters(in: .whitespacesAndNewlines)
        try tx.query(
            """
            INSERT INTO postmortem_actions (tenant_id, id, incident_id, title, owner_id, due_on, created_at)
            VALUES ($1, $2, $3, $4, $5, $6::date, $7)
            """,
            [tenant, id, incident, title, item.ownerID, item.dueOn, now])
        try IncidentStore.event(tx, tenant: tenant, incident: incident, kind: "action_item", by: user, detail: item.title, at: now)
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.action_item", targetType: "incident", targetID: incident.postgresText,
                after: try JSONText(
                    encoding: ["id": id.postgresText, "title": title, "owner_id": item.ownerID.postgresText, "due_on": item.dueOn]),
                at: now), in: tx)
    }

    /// Marks an action item done (or not done again), audited.
    static func setDone(
        _ tx: Connection, tenant: UUID, incident: UUID, action: UUID, done: Bool, by user: UUID, actor: AuditActor, at now: Date
    ) throws {
        let title = try tx.query(
            """
            UPDATE postmortem_actions SET done_at = CASE WHEN $4 THEN coalesce(done_at, $5::timestamptz) END
            WHERE tenant_id = $1 AND incident_id = $2 AND id = $3 RETURNING title
            """, [tenant, incident, action, done, now]
        ).first?.require(0, as: String.self)
        guard let title else { throw ValidationError(field: "action", "no such action item on this postmortem") }
        try IncidentStore.event(
            tx, tenant: tenant, incident: incident, kind: "action_item", by: user, detail: (done ? "done: " : "reopened: ") + title, at: now
        )
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.action_item", targetType: "incident", targetID: incident.postgresText,
                after: try JSONText(encoding: ["id": action.postgresText, "done": done ? "true" : "false"]), at: now), in: tx)
    }

    /// The row action items hang from, made empty if the text was never saved.
    static func ensure(_ tx: Connection, tenant: UUID, incident: UUID, by user: UUID, at now: Date) throws {
        try tx.query(
            """
            INSERT INTO postmortems (tenant_id, incident_id, updated_at, updated_by) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, incident_id) DO NOTHING
            """, [tenant, incident, now, user])
    }
}
