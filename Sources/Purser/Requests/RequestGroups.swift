// Groups (queues) of provider staff, each with a lead: new requests of a group's types go to it,
// its people hear of them, and a breach is raised to its lead.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct RequestGroup: Sendable {
    public let id: UUID
    public let name: String
    public let lead: (id: UUID, name: String)?
    public let types: [String]
    public let members: [(id: UUID, name: String)]
}

public struct RequestGroups: Sendable {
    let database: Database
    /// The time of day, for a new group's id and creation.
    let clock: any WallClock
    /// Raised when groups change, so remembered queue pages (which offer them) are not served.
    let lists: RequestListCache?

    public init(database: Database, clock: any WallClock, lists: RequestListCache? = nil) {
        self.database = database
        self.clock = clock
        self.lists = lists
    }

    /// The group new requests of `type` go to (the first by name), with its lead and members.
    static func route(_ tx: Connection, type: String) throws -> (id: UUID, people: [UUID])? {
        try tx.query(
            """
            SELECT g.id, array_remove(ARRAY[g.lead_id] || ARRAY(SELECT m.user_id FROM request_group_members m WHERE m.group_id = g.id), NULL)
            FROM request_groups g WHERE $1 = ANY(g.types) ORDER BY g.name LIMIT 1
            """, [type]
        ).first.map { (try $0.require(0), try $0.require(1)) }
    }

    public func all() throws -> [RequestGroup] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT g.id, g.name, g.lead_id, l.name, g.types,
                       coalesce(array_agg(m.user_id ORDER BY u.name) FILTER (WHERE m.user_id IS NOT NULL), '{}'),
                       coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE m.user_id IS NOT NULL), '{}')
                FROM request_groups g LEFT JOIN users l ON l.id = g.lead_id
                LEFT JOIN request_group_members m ON m.group_id = g.id LEFT JOIN users u ON u.id = m.user_id
                GROUP BY g.id, l.name ORDER BY g.name
                """
            ).map { row in
                let lead: UUID? = try row.decode(2)
                let ids: [UUID] = try row.require(5), names: [String] = try row.require(6)
                return RequestGroup(
                    id: try row.require(0), name: try row.require(1),
                    lead: try lead.map { ($0, try row.require(3, as: String.self)) }, types: try row.require(4),
                    members: Array(zip(ids, names)).map { (id: $0.0, name: $0.1) })
            }
        }
    }

    /// Creates a group, or changes the one with that name: its lead, types and members (given by
    /// email; each must be active staff). Audited.
    @discardableResult
    public func save(name: String, leadEmail: String?, types: [String], memberEmails: [String], actor: AuditActor) throws -> UUID {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        if name.isEmpty || name.count > 100 { errors.append(FieldError(field: "name", detail: "give a name of 1–100 characters")) }
        if let unknown = types.first(where: { RequestType(rawValue: $0) == nil }) {
            errors.append(FieldError(field: "types", detail: "\(unknown) is not a request type"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        defer { lists?.changed(RequestListCache.everyTenant) }
        return try database.asStaff { tx in
            func staff(_ emails: [String], field: String) throws -> [UUID] {
                let found = try tx.query(
                    """
                    SELECT lower(email), id FROM users WHERE lower(email) = ANY($1::text[]) AND staff_role IS NOT NULL AND status = 'active'
                    """, [emails.map { $0.lowercased() }]
                ).map { (try $0.require(0, as: String.self), try $0.require(1, as: UUID.self)) }
                let known = Dictionary(found, uniquingKeysWith: { first, _ in first })
                if let missing = emails.first(where: { known[$0.lowercased()] == nil }) {
                    throw ValidationError(field: field, "\(missing) is not an active staff member")
                }
                return emails.map { known[$0.lowercased()]! }
            }
            let lead = try leadEmail.map { try staff([$0], field: "lead")[0] }
            let members = try staff(memberEmails, field: "members")
            let now = clock.now
            let id = try tx.query(
                """
                INSERT INTO request_groups (id, name, lead_id, types, created_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (name) DO UPDATE SET lead_id = excluded.lead_id, types = excluded.types RETURNING id
                """, [UUID.v7(at: now), name, lead, types, now])[0].require(0, as: UUID.self)
            try tx.query("DELETE FROM request_group_members WHERE group_id = $1", [id])
            try tx.query(
                """
                INSERT INTO request_group_members (group_id, user_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING
                """, [id, members])
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "group.save", targetType: "group",
                    targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "name": name, "types": types.joined(separator: ","),
                        "lead": leadEmail ?? "", "members": memberEmails.joined(separator: ","),
                    ]),
                    at: now), in: tx)
            return id
        }
    }

    /// Active staff, by name: who requests can be assigned to.
    /// Who a request can be given to and which groups it can go to, by name, in one transaction;
    /// with `user`'s saved views when `views` is given (the queue's filters offer all three).
    func choices(views: SavedViews? = nil, user: UUID? = nil) throws
        -> (staff: [(id: UUID, name: String)], groups: [(id: UUID, name: String)], views: [SavedView])
    {
        try database.asStaff { tx in
            let staff = try tx.query(
                """
                SELECT id, name FROM users WHERE staff_role IS NOT NULL AND status = 'active' ORDER BY name, id LIMIT 500
                """
            ).map { (id: try $0.require(0, as: UUID.self), name: try $0.require(1, as: String.self)) }
            let groups = try tx.query("SELECT id, name FROM request_groups ORDER BY name").map {
                (id: try $0.require(0, as: UUID.self), name: try $0.require(1, as: String.self))
            }
            guard let views, let user else { return (staff, groups, []) }
            return (staff, groups, try views.list(user: user, in: tx))
        }
    }
}
