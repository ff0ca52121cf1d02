// Opening, reading, listing and changing incidents, each change audited and recorded on the
// incident's timeline in the same transaction. Opening files the linked service request (type
// incident, priority from the severity) in that transaction too, so the SLA clocks start with it.
// Changes name the version they read (If-Match); a refused move names the moves allowed.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct NewIncident: Sendable, Decodable {
    public var title: String
    public var severity: String
    public var service: String?
    public var description: String?

    public init(title: String, severity: String, service: String? = nil, description: String? = nil) {
        self.title = title
        self.severity = severity
        self.service = service
        self.description = description
    }
}

/// A change to an incident: only the fields given change.
public struct IncidentChange: Sendable, Decodable {
    public var title: String?
    public var severity: String?
    public var state: String?
    public var commanderID: UUID?
    /// commander_id given as null: the incident has no commander any more (absent: unchanged).
    public var clearsCommander = false
    public var responders: [UUID]?

    enum CodingKeys: String, CodingKey {
        case title, severity, state, responders
        case commanderID = "commander_id"
    }

    public init(
        title: String? = nil, severity: String? = nil, state: String? = nil, commanderID: UUID? = nil, responders: [UUID]? = nil
    ) {
        self.title = title
        self.severity = severity
        self.state = state
        self.commanderID = commanderID
        self.responders = responders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        severity = try container.decodeIfPresent(String.self, forKey: .severity)
        state = try container.decodeIfPresent(String.self, forKey: .state)
        commanderID = try container.decodeIfPresent(UUID.self, forKey: .commanderID)
        clearsCommander = try container.contains(.commanderID) && container.decodeNil(forKey: .commanderID)
        responders = try container.decodeIfPresent([UUID].self, forKey: .responders)
    }
}

public struct IncidentStore: Sendable {
    let database: Database
    let clock: any WallClock
    let notices: IncidentNotices

    public init(database: Database, clock: any WallClock, publicURL: String) {
        self.database = database
        self.clock = clock
        self.notices = IncidentNotices(publicURL: publicURL)
    }

    static let titleDetail = "give a title of 1–200 characters, on one line"
    static let severityDetail = "use SEV1, SEV2, SEV3 or SEV4"

    static func titleProblem(_ title: String) -> FieldError? {
        let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.isEmpty || title.unicodeScalars.count > 200 || RequestRules.hasControl(title) else { return nil }
        return FieldError(field: "title", detail: titleDetail)
    }

    static let columns = """
        i.id, i.title, i.service, i.severity, i.state, i.source, i.request_id, t.key, r.number, r.state, i.commander_id, c.name,
        ARRAY(SELECT u.id::text || ' ' || u.name FROM users u WHERE u.id = ANY(i.responders) ORDER BY u.name),
        i.opened_at, i.acknowledged_at, k.name, i.mitigated_at, i.resolved_at, i.reviewed_at, i.escalation_level,
        i.escalation_job_id, i.updated_at, i.version, i.tenant_id
        """
    static let joins = """
        incidents i JOIN tenants t ON t.id = i.tenant_id JOIN requests r ON r.tenant_id = i.tenant_id AND r.id = i.request_id
        LEFT JOIN users c ON c.id = i.commander_id LEFT JOIN users k ON k.id = i.acknowledged_by
        """
    /// Columns after `columns` start here.
    static let nextColumn = 24

    static func decode(_ row: Row) throws -> Incident {
        let commander: UUID? = try row.decode(10)
        let responders: [String] = try row.require(12)
        return Incident(
            id: try row.require(0), title: try row.require(1), service: try row.require(2),
            severity: IncidentSeverity(rawValue: try row.require(3)) ?? .sev4,
            state: IncidentState(rawValue: try row.require(4)) ?? .detected,
            source: IncidentSource(rawValue: try row.require(5)) ?? .manual, requestID: try row.require(6),
            requestNumber: RequestNumbers.display(key: try row.require(7), number: try row.require(8)), requestState: try row.require(9),
            commander: try commander.map { ($0, try row.require(11, as: String.self)) },
            responders: responders.compactMap { text in
                let parts = text.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, let id = UUID(uuidString: String(parts[0])) else { return nil }
                return (id, String(parts[1]))
            },
            openedAt: try row.require(13), acknowledgedAt: try row.decode(14), acknowledgedBy: try row.decode(15),
            mitigatedAt: try row.decode(16), resolvedAt: try row.decode(17), reviewedAt: try row.decode(18),
            escalationLevel: try row.require(19), escalationJob: try row.decode(20), updatedAt: try row.require(21),
            version: try row.require(22))
    }

    static func load(_ tx: Connection, tenant: UUID, id: UUID, lock: Bool = false) throws -> Incident? {
        try tx.query(
            "SELECT \(columns) FROM \(joins) WHERE i.tenant_id = $1 AND i.id = $2" + (lock ? " FOR UPDATE OF i" : ""), [tenant, id]
        ).first.map(decode)
    }

    public func find(_ id: UUID, tenant: UUID) throws -> Incident? {
        try database.inTenant(tenant) { tx in try Self.load(tx, tenant: tenant, id: id) }
    }

    /// The tenant's incidents (staff: every tenant's, with its slug) newest first, a page at a time:
    /// `cursor` is the last id of the page before.
    public func list(
        tenant: UUID?, states: [IncidentState]? = nil, severity: IncidentSeverity? = nil, cursor: UUID? = nil, limit: Int = 50
    ) throws -> (items: [(incident: Incident, slug: String)], next: UUID?) {
        let sql = """
            SELECT \(Self.columns), t.slug FROM \(Self.joins)
            WHERE ($1::uuid IS NULL OR i.tenant_id = $1) AND ($2::text[] IS NULL OR i.state = ANY($2::text[]))
              AND ($3::text IS NULL OR i.severity = $3)
              AND ($4::uuid IS NULL OR (i.opened_at, i.id) < (SELECT c.opened_at, c.id FROM incidents c WHERE c.id = $4))
            ORDER BY i.opened_at DESC, i.id DESC LIMIT $5
            """
        let parameters: [(any PostgresEncodable)?] = [
            tenant, states.map { $0.map(\.rawValue) }, severity?.rawValue, cursor, limit + 1,
        ]
        let rows =
            try tenant.map { tenant in try database.inTenant(tenant) { try $0.query(sql, parameters) } }
            ?? database.asStaff { try $0.query(sql, parameters) }
        let found = try rows.map { (try Self.decode($0), try $0.require(Self.nextColumn, as: String.self)) }
        let items = Array(found.prefix(limit))
        return (items, found.count > limit ? items.last?.0.id : nil)
    }

    /// Opens an incident by hand (a page, the API).
    public func open(_ new: NewIncident, tenant: UUID, principal: Principal, actor: AuditActor) throws -> Incident {
        var errors: [FieldError] = []
        if let problem = Self.titleProblem(new.title) { errors.append(problem) }
        let severity = IncidentSeverity.parse(new.severity)
        if severity == nil { errors.append(FieldError(field: "severity", detail: Self.severityDetail)) }
        let service = (new.service ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if service.count > 200 || RequestRules.hasControl(service) {
            errors.append(FieldError(field: "service", detail: "up to 200 characters, on one line"))
        }
        if let problem = RequestRules.description(new.description ?? "") { errors.append(problem) }
        guard errors.isEmpty, let severity else { throw ValidationError(errors) }
        return try database.inTenant(tenant) { tx in
            try Self.open(
                tx, database: database, tenant: tenant, title: new.title, description: new.description ?? "", severity: severity,
                service: service,
                source: .manual, requester: principal.user, actor: actor, at: clock.now, notices: notices)
        }
    }

    /// Opens an incident inside `tx` with its request, first notice and escalation job.
    static func open(
        _ tx: Connection, database: Database, tenant: UUID, title: String, description: String, severity: IncidentSeverity,
        service: String, source: IncidentSource, requester: UUID, actor: AuditActor, at now: Date, notices: IncidentNotices
    ) throws -> Incident {
        // An alert's summary may hold line breaks or nothing at all: one line, never empty.
        let line = String(String.UnicodeScalarView(title.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        let title = String((trimmed.isEmpty ? "Incident" : trimmed).prefix(200))
        // The request is filed at `now` in `tx`; its store's own clock and database are not used for that.
        let request = try RequestStore(database: database, clock: SettableClock(now), notices: RequestNotices(publicURL: notices.publicURL))
            .create(
                tx,
                NewRequest(
                    subject: String("[\(severity.rawValue)] \(title)".prefix(200)), description: String(description.prefix(50000)),
                    type: RequestType.incident.rawValue, priority: severity.priority.rawValue),
                tenant: tenant, requester: requester, actor: actor, at: now)
        let id = UUID.v7(at: now)
        try tx.query(
            """
            INSERT INTO incidents (tenant_id, id, title, service, severity, source, request_id, opened_by, opened_at, last_alert_at,
                                   updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
            """,
            [
                tenant, id, title, service, severity.rawValue, source.rawValue, request.id,
                actor.kind == .system ? nil : requester, now, source == .manual && service.isEmpty ? nil : now,
            ])
        try event(
            tx, tenant: tenant, incident: id, kind: "opened", by: actor.kind == .system ? nil : requester,
            detail: "\(severity.rawValue) opened from \(source.rawValue)" + (service.isEmpty ? "" : " for \(service)"), at: now)
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.open", targetType: "incident", targetID: id.postgresText,
                after: try JSONText(encoding: [
                    "title": title, "severity": severity.rawValue, "service": service, "source": source.rawValue,
                ]),
                at: now), in: tx)
        let levels = try EscalationPolicies.levels(tx, tenant: tenant)
        if levels.count > 1 {
            let job = try EscalationPolicies.schedule(
                tx, tenant: tenant, incident: id, level: 1, at: now.addingTimeInterval(Double(levels[1].afterMinutes) * 60))
            try tx.query("UPDATE incidents SET escalation_job_id = $3 WHERE tenant_id = $1 AND id = $2", [tenant, id, job])
        }
        let incident = try load(tx, tenant: tenant, id: id)!
        // Level 0 of the policy, or without one the tenant's administrators.
        let people = try audience(tx, tenant: tenant, nil)
        try notices.opened(tx, incident, tenant: tenant, people: people, channels: levels.first?.channels ?? [], at: now)
        return incident
    }

    static func event(_ tx: Connection, tenant: UUID, incident: UUID, kind: String, by user: UUID?, detail: String, at now: Date) throws {
        try tx.query(
            "INSERT INTO incident_events (tenant_id, id, incident_id, at, kind, actor_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [tenant, UUID.v7(at: now), incident, now, kind, user, String(detail.prefix(2000))])
    }

    /// Applies `change` if the incident is still at `expected` (an ETag).
    public func change(
        _ id: UUID, tenant: UUID, change: IncidentChange, expected: String?, principal: Principal, actor: AuditActor
    ) throws -> Incident {
        try database.inTenant(tenant) { tx in
            let now = clock.now
            guard let current = try Self.load(tx, tenant: tenant, id: id, lock: true) else { throw NotFound() }
            var errors: [FieldError] = []
            if let title = change.title, let problem = Self.titleProblem(title) { errors.append(problem) }
            let severity = change.severity.map { IncidentSeverity.parse($0) }
            if severity == .some(nil) { errors.append(FieldError(field: "severity", detail: Self.severityDetail)) }
            let state = change.state.map { IncidentState(rawValue: $0) }
            if state == .some(nil) {
                errors.append(
                    FieldError(field: "state", detail: "use one of " + IncidentState.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            if let responders = change.responders, responders.count > 50 {
                errors.append(FieldError(field: "responders", detail: "at most 50 responders"))
            }
            let people = Array(Set((change.responders ?? []) + (change.commanderID.map { [$0] } ?? [])))
            if !people.isEmpty {
                let known = try tx.query(
                    "SELECT count(*) FROM users u WHERE u.id = ANY($2::uuid[]) AND \(Outbox.belongs("u", tenant: "$1"))", [tenant, people])[
                        0
                    ]
                    .require(0, as: Int.self)
                if known != people.count {
                    errors.append(
                        FieldError(
                            field: change.commanderID != nil ? "commander_id" : "responders",
                            detail: "name active members of this tenant or staff"))
                }
            }
            if !errors.isEmpty { throw ValidationError(errors) }
            if let expected, !IfMatch.admits(expected, current: current.etag) { throw IncidentChanged(current: current.etag) }
            if let title = change.title?.trimmingCharacters(in: .whitespacesAndNewlines), title != current.title {
                try tx.query("UPDATE incidents SET title = $3 WHERE tenant_id = $1 AND id = $2", [tenant, id, title])
                try Self.event(tx, tenant: tenant, incident: id, kind: "title", by: principal.user, detail: title, at: now)
            }
            if let severity = severity ?? nil, severity != current.severity {
                try tx.query("UPDATE incidents SET severity = $3 WHERE tenant_id = $1 AND id = $2", [tenant, id, severity.rawValue])
                try IncidentRequestLink.reprioritise(
                    tx, tenant: tenant, request: current.requestID, to: severity.priority, actor: actor, at: now)
                try Self.event(
                    tx, tenant: tenant, incident: id, kind: "severity", by: principal.user,
                    detail: "\(current.severity.rawValue) → \(severity.rawValue)", at: now)
            }
            if let commander = change.commanderID, commander != current.commander?.id {
                try tx.query("UPDATE incidents SET commander_id = $3 WHERE tenant_id = $1 AND id = $2", [tenant, id, commander])
                let name = try tx.query("SELECT name FROM users WHERE id = $1", [commander])[0].require(0, as: String.self)
                try Self.event(tx, tenant: tenant, incident: id, kind: "commander", by: principal.user, detail: name, at: now)
            } else if change.clearsCommander, current.commander != nil {
                try tx.query("UPDATE incidents SET commander_id = NULL WHERE tenant_id = $1 AND id = $2", [tenant, id])
                try Self.event(tx, tenant: tenant, incident: id, kind: "commander", by: principal.user, detail: "nobody", at: now)
            }
            if let responders = change.responders {
                let sorted = Array(Set(responders)).sorted { $0.uuidString < $1.uuidString }
                try tx.query("UPDATE incidents SET responders = $3 WHERE tenant_id = $1 AND id = $2", [tenant, id, sorted])
                let names = try tx.query("SELECT name FROM users WHERE id = ANY($1::uuid[]) ORDER BY name", [sorted]).map {
                    try $0.require(0, as: String.self)
                }
                try Self.event(
                    tx, tenant: tenant, incident: id, kind: "responders", by: principal.user,
                    detail: names.isEmpty ? "none" : names.joined(separator: ", "), at: now)
            }
            if let state = state ?? nil, state != current.state {
                try Self.transition(tx, tenant: tenant, current, to: state, by: principal.user, actor: actor, at: now, notices: notices)
            }
            try tx.query("UPDATE incidents SET updated_at = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2", [tenant, id, now])
            var after: [String: String?] = [:]
            if let title = change.title { after["title"] = title }
            if let severity = severity ?? nil { after["severity"] = severity.rawValue }
            if let state = change.state { after["state"] = state }
            if let commander = change.commanderID { after["commander_id"] = commander.postgresText }
            if change.clearsCommander { after["commander_id"] = .some(nil) }
            if let responders = change.responders { after["responders"] = responders.map(\.postgresText).joined(separator: ",") }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "incident.update", targetType: "incident", targetID: id.postgresText,
                    before: try JSONText(encoding: ["state": current.state.rawValue, "severity": current.severity.rawValue]),
                    after: try JSONText(encoding: after), at: now), in: tx)
            return try Self.load(tx, tenant: tenant, id: id)!
        }
    }

    /// Moves `incident` to `to` (already locked by the caller): the workflow, the postmortem rule,
    /// the linked request, the timestamps, the escalation job, and the notice when it resolves.
    static func transition(
        _ tx: Connection, tenant: UUID, _ incident: Incident, to: IncidentState, by user: UUID?, actor: AuditActor, at now: Date,
        notices: IncidentNotices
    ) throws {
        let from = incident.state
        guard from.next.contains(to) else {
            throw ValidationError.transitionRefused(
                state: from.rawValue, allowed: from.next.map(\.rawValue),
                from.next.isEmpty
                    ? "a \(from.rawValue) incident cannot change state"
                    : "a \(from.rawValue) incident can become: " + from.next.map(\.rawValue).joined(separator: ", "))
        }
        if to == .reviewed, incident.severity.needsPostmortem, try !Postmortems.isComplete(tx, tenant: tenant, incident: incident.id) {
            throw ValidationError(
                field: "postmortem",
                "a \(incident.severity.rawValue) incident needs its postmortem (summary, impact, timeline and root cause) before it is reviewed"
            )
        }
        try IncidentRequestLink.move(tx, tenant: tenant, request: incident.requestID, to: to.requestState, by: user, actor: actor, at: now)
        try tx.query(
            """
            UPDATE incidents SET state = $3,
                   mitigated_at = CASE WHEN $3 = 'mitigated' THEN $4::timestamptz ELSE mitigated_at END,
                   resolved_at = CASE WHEN $3 = 'resolved' THEN $4::timestamptz WHEN $3 = 'reviewed' THEN resolved_at ELSE NULL END,
                   reviewed_at = CASE WHEN $3 = 'reviewed' THEN $4::timestamptz ELSE NULL END,
                   escalation_job_id = CASE WHEN $3 IN ('resolved', 'reviewed') THEN NULL ELSE escalation_job_id END,
                   updated_at = $4::timestamptz
            WHERE tenant_id = $1 AND id = $2
            """, [tenant, incident.id, to.rawValue, now])
        try event(tx, tenant: tenant, incident: incident.id, kind: "state", by: user, detail: "\(from.rawValue) → \(to.rawValue)", at: now)
        if to == .resolved {
            if let job = incident.escalationJob { try JobQueue.cancel(tx, id: job) }
            try notices.resolved(tx, incident, tenant: tenant, people: try audience(tx, tenant: tenant, incident), at: now)
        }
    }

    /// Who hears of an incident by e-mail: the first escalation level (without a policy, the
    /// tenant's administrators), the commander and the responders.
    static func audience(_ tx: Connection, tenant: UUID, _ incident: Incident?) throws -> [UUID] {
        let first =
            try EscalationPolicies.levels(tx, tenant: tenant).first?.people
            ?? tx.query("SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'tenant_admin'", [tenant]).map {
                try $0.require(0, as: UUID.self)
            }
        let involved = (incident?.commander.map { [$0.id] } ?? []) + (incident?.responders.map(\.id) ?? [])
        return Array(Set(first + involved)).sorted { $0.uuidString < $1.uuidString }
    }

    /// Acknowledges an open incident: escalation stops, the acknowledger becomes commander if there
    /// was none, and staff acknowledging answer the request's first response. Acknowledging again
    /// changes nothing; a resolved or reviewed incident is refused.
    public func acknowledge(_ id: UUID, tenant: UUID, principal: Principal, actor: AuditActor) throws -> Incident {
        try database.inTenant(tenant) { tx in
            let now = clock.now
            guard let current = try Self.load(tx, tenant: tenant, id: id, lock: true) else { throw NotFound() }
            guard current.state.isOpen else {
                throw ValidationError.transitionRefused(
                    field: "acknowledged", state: current.state.rawValue, allowed: current.state.next.map(\.rawValue),
                    "a \(current.state.rawValue) incident cannot be acknowledged; only a detected, triaged or mitigated one can")
            }
            guard current.acknowledgedAt == nil else { return current }
            if let job = current.escalationJob { try JobQueue.cancel(tx, id: job) }
            try tx.query(
                """
                UPDATE incidents SET acknowledged_at = $3, acknowledged_by = $4, commander_id = coalesce(commander_id, $4),
                       escalation_job_id = NULL, updated_at = $3, version = version + 1
                WHERE tenant_id = $1 AND id = $2
                """, [tenant, id, now, principal.user])
            if principal.staffRole != nil { try IncidentRequestLink.responded(tx, tenant: tenant, request: current.requestID, at: now) }
            let name = try tx.query("SELECT name FROM users WHERE id = $1", [principal.user])[0].require(0, as: String.self)
            try Self.event(tx, tenant: tenant, incident: id, kind: "acknowledged", by: principal.user, detail: name, at: now)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "incident.acknowledge", targetType: "incident", targetID: id.postgresText,
                    at: now), in: tx)
            let updated = try Self.load(tx, tenant: tenant, id: id)!
            try notices.acknowledged(tx, updated, tenant: tenant, by: name, people: try Self.audience(tx, tenant: tenant, updated), at: now)
            return updated
        }
    }
}

/// The version a change was based on is no longer the current one.
public struct IncidentChanged: DomainError {
    public let current: String
    public var refusal: Refusal { .changedSince }
    public var detail: String? { "The incident changed since you read it (now \(current)); read it again and reapply your change." }
}
