// A request's history, read from the audit log (every change is audited in its own
// transaction, so the log is the history): who did what, when, from what to what. Customers see
// everything but internal notes; a token's actions are shown as its owner's.
import Foundation
import Postgres

public struct ActivityEntry: Sendable {
    public let when: Date
    public let who: String
    public let summary: String
}

public struct RequestActivity: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    public func entries(of request: UUID, tenant: UUID, includeInternal: Bool) throws -> [ActivityEntry] {
        try database.inTenant(tenant) { tx in
            // cross-tenant: a staff token has no tenant and acts in any; its owner is named whatever the event's tenant
            let events = try tx.query(
                """
                SELECT e.occurred_at, e.actor_kind, coalesce(u.name, tu.name), e.action, e.before::text, e.after::text
                FROM audit_events e
                LEFT JOIN users u ON e.actor_kind IN ('user', 'staff') AND u.id = e.actor_id
                LEFT JOIN api_tokens k ON e.actor_kind = 'token' AND k.id = e.actor_id LEFT JOIN users tu ON tu.id = k.user_id
                WHERE e.target_type = 'request' AND e.target_id = $1 AND ($2 OR e.action <> 'request.note')
                ORDER BY e.occurred_at, e.sequence LIMIT 500
                """, [request.postgresText, includeInternal]
            ).map { row in
                (
                    when: try row.require(0, as: Date.self), kind: try row.require(1, as: String.self),
                    name: try row.decode(2, as: String.self),
                    action: try row.require(3, as: String.self), before: Self.fields(try row.decode(4)),
                    after: Self.fields(try row.decode(5))
                )
            }
            // The people and groups the changes name in their id fields, in one query for the whole
            // history. Only those fields: a subject or tag that happens to be some UUID is text, and
            // only the tenant's members, staff and the provider's groups have names to show here.
            let ids = Set(
                events.flatMap { event in
                    Self.namedFields.flatMap { [event.before[$0], event.after[$0]] }.compactMap { $0.flatMap(UUID.init(uuidString:)) }
                })
            let names =
                ids.isEmpty
                ? [:]
                : Dictionary(
                    try tx.query(
                        """
                        SELECT u.id::text, u.name FROM users u
                        WHERE u.id = ANY($1::uuid[])
                          AND (u.staff_role IS NOT NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = $2 AND m.user_id = u.id))
                        UNION ALL SELECT id::text, name FROM request_groups WHERE id = ANY($1::uuid[])
                        """, [Array(ids), tenant]
                    ).map { (try $0.require(0, as: String.self), try $0.require(1, as: String.self)) },
                    uniquingKeysWith: { first, _ in first })
            return events.map { event in
                ActivityEntry(
                    when: event.when, who: event.name ?? (event.kind == "system" ? "Purser" : "someone"),
                    summary: Self.describe(action: event.action, before: event.before, after: event.after, names: names))
            }
        }
    }

    /// The audit fields that hold a person's or group's id.
    static let namedFields = ["assignee_id", "group_id"]

    static func fields(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String }
    }

    static func describe(action: String, before: [String: String], after: [String: String], names: [String: String]) -> String {
        func show(_ field: String, _ value: String?) -> String {
            guard let value, !value.isEmpty else { return "none" }
            if namedFields.contains(field), let name = names[value.lowercased()] { return name }
            return value.replacingOccurrences(of: "_", with: " ")
        }
        switch action {
        case "request.create": return "filed the request"
        case "request.reply": return "replied"
        case "request.note": return "added an internal note"
        case "request.attach": return "attached \(after["filename"] ?? "a file")"
        case "request.sla_breach": return "recorded a missed \(show("clock", after["clock"])) target"
        case "request.escalate":
            return after["assignee_id"].map { "escalated the request to \(show("assignee_id", $0))" } ?? "escalated the request"
        case "request.watch": return "started watching"
        case "request.unwatch": return "stopped watching"
        case "request.update":
            let changes = after.keys.sorted().map { key in
                "\(key.replacingOccurrences(of: "_id", with: "").replacingOccurrences(of: "_", with: " ")) "
                    + "\(show(key, before[key])) → \(show(key, after[key]))"
            }
            return "changed " + changes.joined(separator: ", ")
        default: return action
        }
    }
}
