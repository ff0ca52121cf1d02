// Filing, reading, listing and changing service requests, each change audited in the same
// transaction. Versions guard against lost updates: a change names the version it read.
import Foundation
import HTTPServer
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
    public let group: String?
    public let tags: [String]
    public let createdAt: Date
    public let updatedAt: Date
    public let resolvedAt: Date?
    public let version: Int

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

    func validate() throws {
        var errors: [FieldError] = []
        let subject = self.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        if subject.isEmpty || subject.count > 200 || Self.hasControl(subject) {
            errors.append(FieldError(field: "subject", detail: "give a subject of 1–200 characters, on one line"))
        }
        if (description ?? "").count > 50000 || (description ?? "").unicodeScalars.contains("\u{0}") {
            errors.append(FieldError(field: "description", detail: "keep it under 50,000 characters, without NUL"))
        }
        if RequestType(rawValue: type) == nil {
            errors.append(FieldError(field: "type", detail: "use one of " + RequestType.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if RequestPriority(rawValue: priority) == nil { errors.append(FieldError(field: "priority", detail: "use P1, P2, P3 or P4")) }
        if !errors.isEmpty { throw ValidationError(errors) }
    }

    static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

/// The version a change was based on is no longer the current one.
public struct StaleVersion: HTTPResponseError {
    public let current: String
    public var status: HTTPStatus { .preconditionFailed }
    public var detail: String? { "The request changed since you read it (now \(current)); read it again and reapply your change." }
    public var headers: HTTPHeaders { HTTPHeaders([("ETag", current)]) }
}

public struct RequestStore: Sendable {
    let database: Database

    /// Nil: the store tells nobody (tools, tests of the store alone).
    let notices: RequestNotices?

    public init(database: Database, notices: RequestNotices? = nil) {
        self.database = database
        self.notices = notices
    }

    static let columns = """
        r.id, t.key, r.number, r.subject, r.description, r.type, r.priority, r.state, r.requester_id, q.name,
        r.assignee_id, a.name, r.group_name, r.tags, r.created_at, r.updated_at, r.resolved_at, r.version
        """
    static let joins = """
        requests r JOIN tenants t ON t.id = r.tenant_id JOIN users q ON q.id = r.requester_id
        LEFT JOIN users a ON a.id = r.assignee_id
        """

    static func decode(_ row: Row) throws -> ServiceRequest {
        let assignee = try row.decode(10, as: UUID.self)
        return ServiceRequest(
            id: try row.require(0), number: RequestNumbers.display(key: try row.require(1), number: try row.require(2)),
            subject: try row.require(3), description: try row.require(4), type: try row.require(5), priority: try row.require(6),
            state: try row.require(7), requester: (try row.require(8), try row.require(9)),
            assignee: try assignee.map { ($0, try row.require(11, as: String.self)) }, group: try row.decode(12),
            tags: try row.require(13), createdAt: try row.require(14), updatedAt: try row.require(15),
            resolvedAt: try row.decode(16), version: try row.require(17))
    }

    public func create(_ new: NewRequest, tenant: UUID, requester: UUID, actor: AuditEvent.ActorKind, actorID: UUID?,
                       origin: RequestOrigin?) throws -> ServiceRequest {
        try new.validate()
        return try database.inTenant(tenant) { tx in
            let number = try RequestNumbers.next(tenant: tenant, in: tx)
            let id = UUID.v7()
            try tx.query("""
                INSERT INTO requests (tenant_id, id, number, subject, description, type, priority, requester_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [tenant, id, number, new.subject.trimmingCharacters(in: .whitespacesAndNewlines), new.description ?? "",
                      new.type, new.priority, requester])
            try AuditLog.record(AuditEvent(
                tenant: tenant, actorKind: actor, actorID: actorID, action: "request.create", targetType: "request",
                targetID: id.postgresText,
                after: try JSONText(encoding: ["subject": new.subject, "type": new.type, "priority": new.priority])).from(origin), in: tx)
            let created = try Self.decode(tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1", [id])[0])
            try notices?.filed(created, tenant: tenant, in: tx)
            return created
        }
    }

    /// By UUID or by number (`ACME-42`); nil when the tenant has no such request.
    public func find(_ reference: String, tenant: UUID) throws -> ServiceRequest? {
        try database.inTenant(tenant) { tx in
            if let id = UUID(uuidString: reference) {
                return try tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1 AND r.tenant_id = $2", [id, tenant])
                    .first.map(Self.decode)
            }
            guard let dash = reference.lastIndex(of: "-"), let number = Int(reference[reference.index(after: dash)...]) else { return nil }
            return try tx.query("""
                SELECT \(Self.columns) FROM \(Self.joins) WHERE r.tenant_id = $1 AND r.number = $2 AND t.key = $3
                """, [tenant, number, String(reference[..<dash]).uppercased()]).first.map(Self.decode)
        }
    }

    public struct Filter: Sendable {
        public var states: [String] = []
        public var priority: String?
        public var type: String?
        public var assignee: UUID?
        public var text: String?
        public init() {}
    }

    /// Newest first, `limit` at a time after `cursor` (the last id of the previous page).
    public func list(tenant: UUID, filter: Filter, cursor: UUID?, limit: Int) throws -> [ServiceRequest] {
        try database.inTenant(tenant) { tx in
            try tx.query("""
                SELECT \(Self.columns) FROM \(Self.joins)
                WHERE r.tenant_id = $1
                  AND (cardinality($2::text[]) = 0 OR r.state = ANY($2::text[]))
                  AND ($3::text IS NULL OR r.priority = $3) AND ($4::text IS NULL OR r.type = $4)
                  AND ($5::uuid IS NULL OR r.assignee_id = $5)
                  AND ($6::text IS NULL OR r.subject ILIKE '%' || $6 || '%' OR r.description ILIKE '%' || $6 || '%')
                  AND ($7::uuid IS NULL OR (r.created_at, r.id) < (SELECT created_at, id FROM requests WHERE id = $7 AND tenant_id = $1))
                ORDER BY r.created_at DESC, r.id DESC LIMIT $8
                """, [tenant, filter.states, filter.priority, filter.type, filter.assignee,
                      filter.text.map { $0.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") },
                      cursor, limit]).map(Self.decode)
        }
    }

    /// The staff queue: requests of every tenant (or one), newest first, after `cursor`. Run for staff only.
    public func queue(tenantSlug: String?, filter: Filter, unassigned: Bool, cursor: UUID?, limit: Int) throws
        -> [(request: ServiceRequest, tenantSlug: String, tenantName: String)] {
        try database.asStaff { tx in
            try tx.query("""
                SELECT \(Self.columns), t.slug, t.name FROM \(Self.joins)
                WHERE ($1::text IS NULL OR t.slug = $1)
                  AND (cardinality($2::text[]) = 0 OR r.state = ANY($2::text[]))
                  AND ($3::text IS NULL OR r.priority = $3) AND ($4::text IS NULL OR r.type = $4)
                  AND ($5::uuid IS NULL OR r.assignee_id = $5) AND (NOT $6 OR r.assignee_id IS NULL)
                  AND ($7::uuid IS NULL OR (r.created_at, r.id) < (SELECT created_at, id FROM requests WHERE id = $7))
                ORDER BY r.created_at DESC, r.id DESC LIMIT $8
                """, [tenantSlug, filter.states, filter.priority, filter.type, filter.assignee, unassigned, cursor, limit]).map {
                (try Self.decode($0), try $0.require(18, as: String.self), try $0.require(19, as: String.self))
            }
        }
    }

    public struct Change: Sendable, Decodable {
        public var subject: String?
        public var priority: String?
        public var state: String?
        public var assigneeID: UUID?

        enum CodingKeys: String, CodingKey {
            case subject, priority, state
            case assigneeID = "assignee_id"
        }

        public init(subject: String? = nil, priority: String? = nil, state: String? = nil, assigneeID: UUID? = nil) {
            self.subject = subject
            self.priority = priority
            self.state = state
            self.assigneeID = assigneeID
        }
    }

    /// Applies `change` if the request is still at `expected` (an ETag); audited with before and after.
    public func update(_ id: UUID, tenant: UUID, change: Change, expected: String?, principal: Principal,
                       actor: AuditEvent.ActorKind, actorID: UUID?, origin: RequestOrigin?) throws -> ServiceRequest {
        try database.inTenant(tenant) { tx in
            guard let row = try tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1 FOR UPDATE OF r", [id]).first else {
                throw HTTPError(.notFound)
            }
            let current = try Self.decode(row)
            if let expected, expected != current.etag { throw StaleVersion(current: current.etag) }
            var errors: [FieldError] = []
            if let priority = change.priority, RequestPriority(rawValue: priority) == nil {
                errors.append(FieldError(field: "priority", detail: "use P1, P2, P3 or P4"))
            }
            if let subject = change.subject,
               subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || subject.count > 200 || NewRequest.hasControl(subject) {
                errors.append(FieldError(field: "subject", detail: "give a subject of 1–200 characters"))
            }
            if !errors.isEmpty { throw ValidationError(errors) }
            if let state = change.state {
                guard let to = RequestState(rawValue: state), let from = RequestState(rawValue: current.state) else {
                    throw ValidationError(field: "state", "use one of " + RequestState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                try RequestWorkflow.check(from: from, to: to, resolvedAt: current.resolvedAt)
            }
            if change.assigneeID != nil || change.priority != nil { try principal.require(.requestsManage) }
            if let assignee = change.assigneeID {
                let staff = try tx.query("SELECT 1 FROM users WHERE id = $1 AND staff_role IS NOT NULL AND status = 'active'", [assignee])
                guard !staff.isEmpty else { throw ValidationError(field: "assignee_id", "assign to an active staff member") }
            }
            try tx.query("""
                UPDATE requests SET subject = coalesce($2, subject), priority = coalesce($3, priority), state = coalesce($4, state),
                       assignee_id = coalesce($5, assignee_id), updated_at = now(), version = version + 1,
                       resolved_at = CASE WHEN $4 = 'resolved' THEN now() WHEN $4 IS NULL THEN resolved_at ELSE NULL END
                WHERE id = $1
                """, [id, change.subject?.trimmingCharacters(in: .whitespacesAndNewlines), change.priority, change.state,
                      change.assigneeID])
            var before: [String: String] = [:], after: [String: String] = [:]
            if let subject = change.subject { before["subject"] = current.subject; after["subject"] = subject }
            if let priority = change.priority { before["priority"] = current.priority; after["priority"] = priority }
            if let state = change.state { before["state"] = current.state; after["state"] = state }
            if let assignee = change.assigneeID {
                before["assignee_id"] = current.assignee?.id.postgresText ?? ""
                after["assignee_id"] = assignee.postgresText
            }
            try AuditLog.record(AuditEvent(tenant: tenant, actorKind: actor, actorID: actorID, action: "request.update",
                                           targetType: "request", targetID: id.postgresText, before: try JSONText(encoding: before),
                                           after: try JSONText(encoding: after)).from(origin), in: tx)
            let updated = try Self.decode(tx.query("SELECT \(Self.columns) FROM \(Self.joins) WHERE r.id = $1", [id])[0])
            if updated.state != current.state { try notices?.stateChanged(updated, tenant: tenant, in: tx) }
            return updated
        }
    }
}
