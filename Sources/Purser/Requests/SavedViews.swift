// A staff member's named queue filters: the query string of /staff/requests under a name, so a
// view ("my P1s", "breached in EMEA") is one click away. Queries are kept as they were written:
// the queue reads the names it wrote before (RequestFilter), so old views keep working.
import Foundation
import struct HTTPServer.QueryParameters
import Postgres

public struct SavedView: Sendable {
    public let id: UUID
    public let name: String
    public let query: String
}

public struct SavedViews: Sendable {
    let database: Database
    /// The time of day, for a new view's id and creation.
    let clock: any WallClock
    /// Raised when views change, so remembered queue pages (which list them) are not served.
    let lists: RequestListCache?

    public init(database: Database, clock: any WallClock, lists: RequestListCache? = nil) {
        self.database = database
        self.clock = clock
        self.lists = lists
    }

    public func list(user: UUID) throws -> [SavedView] {
        try database.asStaff { tx in try list(user: user, in: tx) }
    }

    func list(user: UUID, in tx: Connection) throws -> [SavedView] {
        try tx.query("SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name LIMIT 100", [user]).map {
            SavedView(id: try $0.require(0), name: try $0.require(1), query: try $0.require(2))
        }
    }

    /// Saves (or replaces) the view `name`; the query is kept only with the queue's own parameters.
    public func save(name: String, query: QueryParameters, user: UUID) throws {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...60).contains(name.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError(field: "name", "name the view in 1–60 characters")
        }
        let kept = query.pairs.filter { Self.parameters.contains($0.name) && !$0.value.isEmpty }
        let text = kept.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }.joined(separator: "&")
        guard text.count <= 1000 else { throw ValidationError(field: "name", "that view is too long to keep") }
        defer { lists?.changed(RequestListCache.everyTenant) }
        try database.asStaff { tx in
            let now = clock.now
            try tx.query(
                """
                INSERT INTO saved_views (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query
                """, [UUID.v7(at: now), user, name, text, now])
        }
    }

    public func delete(_ id: UUID, user: UUID) throws {
        defer { lists?.changed(RequestListCache.everyTenant) }
        try database.asStaff { tx in _ = try tx.query("DELETE FROM saved_views WHERE id = $1 AND user_id = $2", [id, user]) }
    }

    /// The queue's filter parameters (RequestFilter's, never a page cursor), and `sla`, the name
    /// the queue wrote before `breached` and `escalated`: views saved with it are read as they were.
    static let parameters: Set<String> = [
        "tenant", "state", "priority", "type", "assignee", "group", "breached", "escalated", "q",
        "sort", "sla",
    ]
}
