// Filing, reading, listing and changing service requests, each change audited in the same
// transaction. Versions guard against lost updates: a change names the version it read.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct ServiceRequest: Sendable {
    public let id: UUID
    public let number: String
    public let subject: String
    public let description: String
    public let type: String
    public let priority: String
    public let state: String
    public let requester: (id: UUID, name: String)
    public let assignee: (id: UUID, name: String)?
    public let group: (id: UUID, name: String)?
    public let tags: [String]
    public let createdAt: Date
    public let updatedAt: Date
    public let resolvedAt: Date?
    public let version: Int
    public let clocks: RequestClocks
    /// A clock was breached and the request raised to its group's lead.
    public let escalated: Bool

    /// The ETag of this version.
    public var etag: String { "\"v\(version)\"" }
}

public struct NewRequest: Sendable, Decodable {
    public var subject: String
    public var description: String?
    public var type: String
    public var priority: String

    public init(subject: String, description: String? = nil, type: String, priority: String) {
        self.subject = subject
        self.description = description
        self.type = type
        self.priority = priority
    }

    /// `RequestRules`, the same for a page's form and the API.
    func validate() throws {
        let errors = [
            RequestRules.subject(subject), RequestRules.description(description ?? ""), RequestRules.type(type),
            RequestRules.priority(priority),
        ].compactMap { $0 }
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}

/// The version a change was based on is no longer the current one.
public struct StaleVersion: DomainError {
    /// The version that is current now.
    public let current: String
    public var refusal: Refusal { .changedSince }
    public var detail: String? { "The request changed since you read it (now \(current)); read it again and reapply your change." }
}

public struct RequestStore: Sendable {
    let database: Database

    /// The time of day: filing, changes and the SLA clocks they move are stamped with one reading of it.
    let clock: any WallClock

    /// Nil: the store tells nobody (tools, tests of the store alone).
    let notices: RequestNotices?

    /// This node's remembered list answers, dropped for a tenant as soon as one of its requests changes.
    let lists: RequestListCache?

    public init(database: Database, clock: any WallClock, notices: RequestNotices? = nil, lists: RequestListCache? = nil) {
        self.database = database
        self.clock = clock
        self.notices = notices
        self.lists = lists
    }

    static let columns = """
        r.id, t.key, r.number, r.subject, r.description, r.type, r.priority, r.state, r.requester_id, q.name,
        r.assignee_id, a.name, r.group_id, g.name, r.tags, r.created_at, r.updated_at, r.resolved_at, r.version, r.sla::text,
        r.escalated
        """
    static let joins = """
        requests r JOIN tenants t ON t.id = r.tenant_id JOIN users q ON q.id = r.requester_id
        LEFT JOIN users a ON a.id = r.assignee_id LEFT JOIN request_groups g ON g.id = r.group_id
        """
    /// Columns after `columns` start here.
    static let nextColumn = 21

    static func decode(_ row: Row) throws -> ServiceRequest {
        let assignee = try row.decode(10, as: UUID.self)
        let group = try row.decode(12, as: UUID.self)
        return ServiceRequest(
            id: try row.require(0), number: RequestNumbers.display(key: try row.require(1), number: try row.require(2)),
            subject: try row.require(3), description: try row.require(4), type: try row.require(5), priority: try row.require(6),
            state: try row.require(7), requester: (try row.require(8), try row.require(9)),
            assignee: try assignee.map { ($0, try row.require(11, as: String.self)) },
            group: try group.map { ($0, try row.require(13, as: String.self)) },
            tags: try row.require(14), createdAt: try row.require(15), updatedAt: try row.require(16),
            resolvedAt: try row.decode(17), version: try row.require(18),
            clocks: try StoredClocks.decode(try row.require(19, as: String.self)),
            escalated: try row.require(20))
    }

    /// Files `new`. `formKey`: the one-time key of the page form it came from; the same form sent
    /// again gets the request the first sending filed (`FormSubmissions`) instead of a second one.
    public func create(
        _ new: NewRequest, tenant: UUID, requester: UUID, actor: AuditActor, formKey: String? = nil
    ) throws -> ServiceRequest {
        try new.validate()
        defer { lists?.changed(tenant) }
        let now = clock.now
        let (created, earlier) = try database.inTenant(tenant) { tx -> (ServiceRequest?, UUID?) in
            guard let formKey else { return (try create(tx, new, tenant: tenant, requester: requester, actor: actor, at: now), nil) }
            if let target = try FormSubmissions.claim(tx, tenant: tenant, user: requester, key: formKey, at: now) {
                return (nil, UUID(uuidString: target))
            }
            let created = try create(tx, new, tenant: tenant, requester: requester, actor: actor, at: now)
            try FormSubmissions.record(tx, tenant: tenant, user: requester, key: formKey, target: created.id.postgresText)
            return (created, nil)
        }
        if let created { return created }
        guard let earlier, let found = try find(earlier.postgresText, tenant: tenant) else {
            throw ValidationError(field: "subject", "this form was sent already; open the request list to find it")
        }
        return found
    }

    /// Files `new` inside `tx`, a transaction of `tenant`, stamped `filedAt`: for features that file a
    /// request as part of their own change (a deployment files its deployment request), so both
    /// commit or neither does. The caller drops this node's remembered lists (`lists?.changed`) after.
    public func create(
        _ tx: Connection, _ new: NewRequest, tenant: UUID, requester: UUID, actor: AuditActor, at filedAt: Date
    ) throws -> ServiceRequest {
        try new.validate()
        do {
            let id = UUID.v7(at: filedAt)
            let clocks = RequestClocks.filed(
                type: new.type, priority: new.priority, at: filedAt,
                policy: try RequestSLA.policy(tx, tenant: tenant))
            let job = try RequestSLA.schedule(tx, tenant: tenant, request: id, clocks: clocks, job: nil)
            let group = try RequestGroups.route(tx, type: new.type)
            let context = try tx.query(
                """
                SELECT t.key, t.slug, u.name, g.name FROM tenants t JOIN users u ON u.id = $2
                LEFT JOIN request_groups g ON g.id = $3 WHERE t.id = $1
                """, [tenant, requester, group?.id])[0]
            let audience = try notices?.audience(tenant: tenant, group: group?.people ?? [], in: tx)
            // The number last: its counter row stays locked until commit, and concurrent filings of
            // the tenant wait for it, so the work that needs no number is done before.
            let subject = new.subject.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = try tx.query(
                """
                WITH \(RequestNumbers.nextNumber)
                INSERT INTO requests (tenant_id, id, number, subject, description, type, priority, requester_id, group_id,
                                      sla, sla_due_at, sla_job_id, created_at, updated_at)
                SELECT $1, $2, number.last_number, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $12 FROM number
                RETURNING number
                """,
                [
                    tenant, id, subject, new.description ?? "", new.type, new.priority, requester, group?.id,
                    try JSONText(encoding: clocks), clocks.earliestDue, job, filedAt,
                ])[0].require(0, as: Int.self)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "request.create", targetType: "request", targetID: id.postgresText,
                    after: try JSONText(encoding: ["subject": new.subject, "type": new.type, "priority": new.priority]), at: filedAt),
                in: tx)
            let groupName: String? = try context.decode(3)
            let created = ServiceRequest(
                id: id, number: RequestNumbers.display(key: try context.require(0), number: number), subject: subject,
                description: new.description ?? "", type: new.type, priority: new.priority, state: RequestState.new.rawValue,
                requester: (requester, try context.require(2)), assignee: nil,
                group: group.flatMap { found in groupName.map { (found.id, $0) } }, tags: [], createdAt: filedAt, updatedAt: filedAt,
                resolvedAt: nil, version: 1, clocks: clocks, escalated: false)
            if let audience {
                try notices?.filed(created, tenant: tenant, slug: try context.require(1), to: audience, at: filedAt, in: tx)
            }
            return created
        }
    }

    /// The tenant a request belongs to (staff reach across tenants).
    public func tenant(of request: UUID) throws -> UUID? {
        try database.asStaff { tx in try tx.query("SELECT tenant_id FROM requests WHERE id = $1", [request]).first?.require(0) }
    }

    /// By UUID or by number (`ACME-42`); nil when the tenant has no such request.
    public func find(_ reference: String, tenant: UUID) throws -> ServiceRequest? {
        try database.inTenant(tenant) { tx in
            if let id = UUID(uuidString: reference) {
                return try tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1 AND r.tenant_id = $2", [id, tenant])
                    .first.map(Self.decode)
            }
            guard let (key, number) = RequestNumbers.parse(reference) else { return nil }
            return try tx.query(
                """
                SELECT \(Self.columns) FROM \(Self.joins) WHERE r.tenant_id = $1 AND r.number = $2 AND t.key = $3
                """, [tenant, number, key]
            ).first.map(Self.decode)
        }
    }

    public struct Change: Sendable, Decodable {
        public var subject: String?
        public var priority: String?
        public var state: String?
        public var assigneeID: UUID?
        public var groupID: UUID?
        public var tags: [String]?

        enum CodingKeys: String, CodingKey {
            case subject, priority, state, tags
            case assigneeID = "assignee_id"
            case groupID = "group_id"
        }

        public init(
            subject: String? = nil, priority: String? = nil, state: String? = nil, assigneeID: UUID? = nil,
            groupID: UUID? = nil, tags: [String]? = nil
        ) {
            self.subject = subject
            self.priority = priority
            self.state = state
            self.assigneeID = assigneeID
            self.groupID = groupID
            self.tags = tags
        }

        /// Tags: up to 20, each 1–40 lower-case letters, digits, `-`, `_`, `.` or `:`.
        static func tagProblem(_ tags: [String]) -> FieldError? {
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.:")
            guard tags.count <= 20, tags.allSatisfy({ (1...40).contains($0.count) && $0.allSatisfy(allowed.contains) }) else {
                return FieldError(field: "tags", detail: "up to 20 tags of 1–40 lower-case letters, digits, - _ . or :")
            }
            return nil
        }
    }

    /// Applies `change` if the request is still at `expected` (an ETag); audited with before and after.
    public func update(
        _ id: UUID, tenant: UUID, change: Change, expected: String?, principal: Principal,
        actor: AuditActor
    ) throws -> ServiceRequest {
        defer { lists?.changed(tenant) }
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            guard
                let row = try tx.query(
                    "SELECT \(Self.columns) FROM \(Self.joins) WHERE r.tenant_id = $2 AND r.id = $1 FOR UPDATE OF r", [id, tenant]
                ).first
            else { throw NotFound() }
            let current = try Self.decode(row)
            // Values that are wrong whatever the version come first: a malformed change is refused as
            // such (422), not told to read the request again (412) and then refused anyway.
            var errors: [FieldError] = []
            if let priority = change.priority, let problem = RequestRules.priority(priority) { errors.append(problem) }
            if let subject = change.subject, let problem = RequestRules.subject(subject) { errors.append(problem) }
            if let tags = change.tags, let problem = Change.tagProblem(tags) { errors.append(problem) }
            if !errors.isEmpty { throw ValidationError(errors) }
            if let expected, !IfMatch.admits(expected, current: current.etag) { throw StaleVersion(current: current.etag) }
            if let state = change.state {
                guard let to = RequestState(rawValue: state), let from = RequestState(rawValue: current.state) else {
                    throw ValidationError(field: "state", "use one of " + RequestState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let reopenDays = from == .resolved ? try RequestSLA.policy(tx, tenant: tenant).reopenWindow : 14
                try RequestWorkflow.check(from: from, to: to, resolvedAt: current.resolvedAt, reopenDays: reopenDays, now: now)
                // Access: closing ends the grants it justified; a break-glass review is resolved by someone else.
                try AccessGrants.requestMoving(
                    id, tenant: tenant, from: current.state, to: to.rawValue, by: principal.user, at: now, in: tx)
                // Incidents: an incident's request is resolved, closed or reopened through its incident.
                try IncidentRequestLink.requestMoving(id, tenant: tenant, from: from, to: to, in: tx)
            }
            if change.assigneeID != nil || change.priority != nil || change.groupID != nil || change.tags != nil {
                try principal.require(.requestsManage)
            }
            if let group = change.groupID, try tx.query("SELECT 1 FROM request_groups WHERE id = $1", [group]).isEmpty {
                throw ValidationError(field: "group_id", "no such group")
            }
            if let assignee = change.assigneeID {
                let staff = try tx.query("SELECT 1 FROM users WHERE id = $1 AND staff_role IS NOT NULL AND status = 'active'", [assignee])
                guard !staff.isEmpty else { throw ValidationError(field: "assignee_id", "assign to an active staff member") }
            }
            try tx.query(
                """
                UPDATE requests SET subject = coalesce($2, subject), priority = coalesce($3, priority), state = coalesce($4, state),
                       assignee_id = coalesce($5, assignee_id), group_id = coalesce($6, group_id), tags = coalesce($7, tags),
                       updated_at = $8::timestamptz, version = version + 1,
                       resolved_at = CASE WHEN $4 = 'resolved' THEN $8 WHEN $4 IS NULL THEN resolved_at ELSE NULL END
                WHERE tenant_id = $9 AND id = $1
                """,
                [
                    id, change.subject?.trimmingCharacters(in: .whitespacesAndNewlines), change.priority, change.state,
                    change.assigneeID, change.groupID, change.tags.map { Array(Set($0)).sorted() }, now, tenant,
                ])
            // Only a new priority or state moves the clocks; other changes leave them (and their job) be.
            let newPriority = change.priority.flatMap { $0 == current.priority ? nil : $0 }
            let newState = change.state.flatMap { $0 == current.state ? nil : $0 }
            if newPriority != nil || newState != nil {
                try RequestSLA.update(tx, tenant: tenant, request: id) { clocks, policy, filedAt in
                    if let newPriority { clocks.retarget(priority: newPriority, filedAt: filedAt, policy: policy) }
                    if let newState { clocks.moved(from: current.state, to: newState, at: now, policy: policy) }
                }
            }
            var before: [String: String] = [:], after: [String: String] = [:]
            if let subject = change.subject { before["subject"] = current.subject; after["subject"] = subject }
            if let priority = change.priority { before["priority"] = current.priority; after["priority"] = priority }
            if let state = change.state { before["state"] = current.state; after["state"] = state }
            if let assignee = change.assigneeID {
                before["assignee_id"] = current.assignee?.id.postgresText ?? ""
                after["assignee_id"] = assignee.postgresText
            }
            if let group = change.groupID {
                before["group_id"] = current.group?.id.postgresText ?? ""
                after["group_id"] = group.postgresText
            }
            if let tags = change.tags {
                before["tags"] = current.tags.joined(separator: ",")
                after["tags"] = Array(Set(tags)).sorted().joined(separator: ",")
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "request.update",
                    targetType: "request", targetID: id.postgresText, before: try JSONText(encoding: before),
                    after: try JSONText(encoding: after), at: now), in: tx)
            let updated = try Self.decode(tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1", [id])[0])
            if updated.state != current.state { try notices?.stateChanged(updated, tenant: tenant, at: now, in: tx) }
            return updated
        }
    }
}
