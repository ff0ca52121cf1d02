// The conversation on a request: public replies, and internal notes that only staff write and
// only staff read — a customer's reads never include them, whatever the route.
import Foundation
import Postgres

public struct RequestComment: Sendable {
    public let id: UUID
    public let author: (id: UUID, name: String)
    public let body: String
    public let isInternal: Bool
    public let createdAt: Date
}

public struct RequestComments: Sendable {
    let database: Database
    /// The time of day: the new row, the request's change and the SLA clocks it moves are stamped with one reading of it.
    let clock: any WallClock

    let notices: RequestNotices?
    let lists: RequestListCache?

    public init(database: Database, clock: any WallClock, notices: RequestNotices? = nil, lists: RequestListCache? = nil) {
        self.database = database
        self.clock = clock
        self.notices = notices
        self.lists = lists
    }

    /// Adds a reply or (staff only) an internal note; a customer's reply to a request waiting on
    /// them moves it back to open. Audited.
    public func add(
        to request: UUID, tenant: UUID, body: String, isInternal: Bool, principal: Principal,
        actor: AuditActor
    ) throws -> RequestComment {
        // The length as sent, as the API document's `maxLength` counts it; the trimmed text is what is kept.
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, body.unicodeScalars.count <= 50000, !body.unicodeScalars.contains("\u{0}") else {
            throw ValidationError(field: "body", "write 1–50,000 characters")
        }
        try principal.require(.requestsComment)
        // Internal notes are the provider's: a customer asking for one is refused as if it did not exist.
        if isInternal { try principal.require(.requestsManage) }
        defer { lists?.changed(tenant) }
        return try database.inTenant(tenant) { tx in
            guard
                let state = try tx.query("SELECT state FROM requests WHERE tenant_id = $2 AND id = $1 FOR UPDATE", [request, tenant]).first?
                    .require(0, as: String.self)
            else { throw NotFound() }
            let now = clock.now
            let id = UUID.v7(at: now)
            try tx.query(
                """
                INSERT INTO request_comments (tenant_id, id, request_id, author_id, body, internal, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, [tenant, id, request, principal.user, text, isInternal, now])
            let customerAnswered = !isInternal && principal.staffRole == nil && state == RequestState.pendingCustomer.rawValue
            if customerAnswered {
                try tx.query(
                    "UPDATE requests SET state = 'open', updated_at = $2, version = version + 1 WHERE tenant_id = $3 AND id = $1",
                    [request, now, tenant])
            } else {
                try tx.query(
                    "UPDATE requests SET updated_at = $2, version = version + 1 WHERE tenant_id = $3 AND id = $1", [request, now, tenant])
            }
            // The customer's answer resumes the clocks; staff's first public reply is the first response.
            if customerAnswered || (!isInternal && principal.staffRole != nil) {
                try RequestSLA.update(tx, tenant: tenant, request: request) { clocks, policy, _ in
                    if customerAnswered {
                        clocks.moved(from: state, to: RequestState.open.rawValue, at: now, policy: policy)
                    } else {
                        clocks.responded(at: now, policy: policy)
                    }
                }
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor,
                    action: isInternal ? "request.note" : "request.reply", targetType: "request",
                    targetID: request.postgresText,
                    after: try JSONText(encoding: ["comment": id.postgresText]), at: now), in: tx)
            let name = try tx.query("SELECT name FROM users WHERE id = $1", [principal.user])[0].require(0, as: String.self)
            // Staff's public replies reach the requester; internal notes reach no customer.
            if !isInternal && principal.staffRole != nil {
                try notices?.replied(request: request, tenant: tenant, author: name, body: text, at: now, in: tx)
            }
            return RequestComment(id: id, author: (principal.user, name), body: text, isInternal: isInternal, createdAt: now)
        }
    }

    /// The thread, oldest first; internal notes only for staff.
    public func thread(of request: UUID, tenant: UUID, includeInternal: Bool) throws -> [RequestComment] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT c.id, c.author_id, u.name, c.body, c.internal, c.created_at
                FROM request_comments c JOIN users u ON u.id = c.author_id
                WHERE c.tenant_id = $3 AND c.request_id = $1 AND ($2 OR NOT c.internal) ORDER BY c.created_at, c.id LIMIT 1000
                """, [request, includeInternal, tenant]
            ).map {
                RequestComment(
                    id: try $0.require(0), author: (try $0.require(1), try $0.require(2)), body: try $0.require(3),
                    isInternal: try $0.require(4), createdAt: try $0.require(5))
            }
        }
    }
}
