// Reading access for the pages and the API: access requests (mine, waiting for my decision, all,
// by state and text, newest first, a page at a time after the last request of the page before), grants (mine
// with time left; all live ones for staff) and an access request's trail from the audit log.
import Foundation
import Postgres

public struct AccessQuery: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    public enum View: String, Sendable, CaseIterable {
        /// The caller's own access requests.
        case mine
        /// Pending ones the caller may still decide.
        case waiting
        /// Everyone's in the tenant (approvers, admins and staff).
        case all
    }

    /// Who may see everyone's access requests: approvers of either side, auditors, admins.
    public static func seesAll(_ principal: Principal) -> Bool {
        principal.can(.accessApprove) || principal.can(.accessApproveProvider) || principal.can(.auditRead)
            || principal.can(.tenantSettingsManage)
    }

    public struct Page: Sendable {
        public let items: [AccessRequestRecord]
        public let next: String?
    }

    public func requests(
        tenant: UUID, principal: Principal, view: View, state: AccessRequestState? = nil, text: String? = nil, cursor: String? = nil,
        limit: Int = 50
    ) throws -> Page {
        let after = cursor.flatMap(Self.cursorID)
        if cursor != nil && after == nil { throw ValidationError(field: "cursor", "not a cursor this list gave") }
        if let text, text.unicodeScalars.contains(where: { $0.value == 0 }) || text.count > 200 {
            throw ValidationError(field: "q", "search for up to 200 characters, without NUL")
        }
        let everyone = view != .mine && Self.seesAll(principal)
        let rows = try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT \(AccessRequestRecord.columns) FROM \(AccessRequestRecord.joins)
                WHERE r.tenant_id = $1 AND ($2 OR r.requester_id = $3) AND ($4::text IS NULL OR r.state = $4)
                  AND ($5::text IS NULL OR r.reason ILIKE '%' || $5 || '%' OR u.name ILIKE '%' || $5 || '%' OR r.host_name ILIKE '%' || $5 || '%'
                       OR r.role ILIKE '%' || $5 || '%' OR p.name ILIKE '%' || $5 || '%')
                  AND ($6::uuid IS NULL OR (r.created_at, r.id)
                      < (SELECT c.created_at, c.id FROM access_requests c WHERE c.tenant_id = $1 AND c.id = $6))
                  AND (NOT $7 OR (r.state = 'pending' AND r.requester_id <> $3
                       AND NOT EXISTS (SELECT 1 FROM access_approvals a WHERE a.tenant_id = r.tenant_id AND a.request_id = r.id AND a.approver_id = $3)))
                ORDER BY r.created_at DESC, r.id DESC LIMIT $8
                """,
                [tenant, everyone, principal.user, state?.rawValue, Self.likeSafe(text), after, view == .waiting, limit + 1]
            ).map(AccessRequestRecord.decode)
        }
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last?.id.postgresText : nil
        return Page(items: page, next: next)
    }

    /// The caller's grants (live and coming first, then the latest ended), or everyone's live ones.
    public func grants(tenant: UUID, user: UUID?, liveOnly: Bool, at now: Date, limit: Int = 100) throws -> [AccessGrantRecord] {
        try grantPage(tenant: tenant, user: user, liveOnly: liveOnly, at: now, limit: limit).items
    }

    /// A page of `grants`, after the grant `cursor` names (the previous page's `next`): keyset on
    /// (live, ends_at, id), the cursor's own row read in the same statement so no time is rounded.
    public func grantPage(
        tenant: UUID, user: UUID?, liveOnly: Bool, at now: Date, cursor: String? = nil, limit: Int = 100
    ) throws -> (items: [AccessGrantRecord], next: String?) {
        let after = try cursor.map { text in
            guard let id = UUID(uuidString: text) else { throw ValidationError(field: "cursor", "not a cursor this list gave") }
            return id
        }
        let rows = try database.inTenant(tenant) { tx in
            // A well-formed cursor naming no grant of this list ends it (an empty page), as the other lists do.
            try tx.query(
                """
                SELECT \(AccessGrantRecord.columns) FROM \(AccessGrantRecord.joins)
                WHERE g.tenant_id = $1 AND ($2::uuid IS NULL OR g.user_id = $2) AND (NOT $3 OR (g.state = 'active' AND g.ends_at > $4))
                  AND ($6::uuid IS NULL OR ((g.state = 'active' AND g.ends_at > $4), g.ends_at, g.id)
                      < (SELECT (c.state = 'active' AND c.ends_at > $4), c.ends_at, c.id FROM access_grants c
                         WHERE c.tenant_id = $1 AND c.id = $6 AND ($2::uuid IS NULL OR c.user_id = $2)))
                ORDER BY (g.state = 'active' AND g.ends_at > $4) DESC, g.ends_at DESC, g.id DESC LIMIT $5
                """, [tenant, user, liveOnly, now, limit + 1, after]
            ).map(AccessGrantRecord.decode)
        }
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last?.id.postgresText : nil)
    }

    /// Every live grant of every tenant, soonest end first, with its tenant's slug and name (staff).
    public func allLive(at now: Date, limit: Int = 500) throws -> [(grant: AccessGrantRecord, slug: String, tenant: String)] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT \(AccessGrantRecord.columns), t.slug, t.name FROM \(AccessGrantRecord.joins) JOIN tenants t ON t.id = g.tenant_id
                WHERE g.state = 'active' AND g.ends_at > $1 ORDER BY g.ends_at LIMIT $2
                """, [now, limit]
            ).map { row in
                let after = AccessGrantRecord.columnCount
                return (
                    try AccessGrantRecord.decode(row), try row.require(after, as: String.self), try row.require(after + 1, as: String.self)
                )
            }
        }
    }

    public struct TrailEntry: Sendable {
        public let when: Date
        public let who: String
        public let action: String
        public let reason: String?
    }

    /// The audit trail of an access request and its grant, oldest first: asked, decided, refused
    /// attempts, granted, certificates, revoked, expired.
    public func trail(tenant: UUID, request: UUID, grant: UUID?) throws -> [TrailEntry] {
        try database.inTenant(tenant) { tx in
            // cross-tenant: a staff token has no tenant and acts in any; its owner is named whatever the event's tenant
            try tx.query(
                """
                SELECT e.occurred_at, e.actor_kind, coalesce(u.name, tu.name), e.action, e.reason FROM audit_events e
                LEFT JOIN users u ON e.actor_kind IN ('user', 'staff') AND u.id = e.actor_id
                LEFT JOIN api_tokens k ON e.actor_kind = 'token' AND k.id = e.actor_id LEFT JOIN users tu ON tu.id = k.user_id
                WHERE e.tenant_id = $1 AND ((e.target_type = 'access_request' AND e.target_id = $2)
                      OR (e.target_type = 'access_grant' AND e.target_id = $3))
                ORDER BY e.occurred_at, e.sequence LIMIT 500
                """, [tenant, request.postgresText, grant?.postgresText ?? ""]
            ).map { row in
                TrailEntry(
                    when: try row.require(0),
                    who: try row.decode(2, as: String.self) ?? (try row.require(1, as: String.self) == "system" ? "Purser" : "someone"),
                    action: try row.require(3), reason: try row.decode(4))
            }
        }
    }

    /// The request a cursor names: the last one of the previous page. Its time is read in the list's
    /// own statement, so no precision is lost to text (cursors were once `<time in ms>_<id>`, which
    /// skipped requests made in the same millisecond at a page's end; those still name their id).
    static func cursorID(_ text: String) -> UUID? {
        UUID(uuidString: text) ?? text.lastIndex(of: "_").flatMap { UUID(uuidString: String(text[text.index(after: $0)...])) }
    }

    /// Text searched for as itself: LIKE's wildcards escaped.
    static func likeSafe(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return String(text.prefix(200)).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
