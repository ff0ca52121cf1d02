// The `sla.check` job: runs at a request's next warning or due time, records what fell due
// (an sla_events row each, once), tells people, escalates a breach, and schedules the next
// check. It locks the request row, so it and any change to the request happen one after another.
import Foundation
import Postgres

public enum SLAChecks {
    public static func register(into handlers: inout JobHandlers, notices: RequestNotices) {
        handlers.register(RequestSLA.jobKind) { context in try check(context, notices: notices) }
    }

    static func check(_ context: JobContext, notices: RequestNotices) throws {
        struct Payload: Decodable { let request: UUID }
        let payload = try context.job.decode(Payload.self)
        guard let tenant = context.job.tenant else { throw PermanentJobFailure("an SLA check names its tenant") }
        try context.database.inTenant(tenant) { tx in
            guard
                let row = try tx.query(
                    """
                    SELECT t.key, r.number, r.subject, r.priority, r.assignee_id, r.group_id, g.lead_id
                    FROM requests r JOIN tenants t ON t.id = r.tenant_id LEFT JOIN request_groups g ON g.id = r.group_id
                    WHERE r.tenant_id = $2 AND r.id = $1 FOR UPDATE OF r
                    """, [payload.request, tenant]
                ).first, var stored = try RequestSLA.load(tx, tenant: tenant, request: payload.request)
            else { return }
            let number = RequestNumbers.display(key: try row.require(0), number: try row.require(1))
            let assignee: UUID? = try row.decode(4), lead: UUID? = try row.decode(6)
            let group: UUID? = try row.decode(5)
            let now = context.world.clock.now
            let fired = stored.clocks.fire(at: now)
            for (kind, event, dueAt) in fired {
                let recorded =
                    try tx.query(
                        """
                        INSERT INTO sla_events (tenant_id, id, request_id, clock, kind, due_at, occurred_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7)
                        ON CONFLICT (tenant_id, request_id, clock, kind) DO NOTHING
                        """, [tenant, UUID.v7(at: now), payload.request, kind.rawValue, event.rawValue, dueAt, now]
                    ).affected == 1
                guard recorded else { continue }
                let about = SLANotice(
                    request: payload.request, number: number, subject: try row.require(2), priority: try row.require(3),
                    clock: kind, event: event, dueAt: dueAt)
                switch event {
                case .warning:
                    let people = try assignee.map { [$0] } ?? groupPeople(tx, group: group)
                    try notices.sla(about, tenant: tenant, people: people, at: now, in: tx)
                case .breach:
                    try notices.sla(about, tenant: tenant, people: Array(Set([assignee, lead].compactMap { $0 })), at: now, in: tx)
                    try AuditLog.record(
                        AuditEvent(
                            tenant: tenant, actor: .system, action: "request.sla_breach",
                            targetType: "request", targetID: payload.request.postgresText,
                            after: try JSONText(encoding: [
                                "clock": kind.rawValue,
                                "due_at": RFC3339.string(dueAt),
                            ]), at: now), in: tx)
                    try escalate(
                        tx, tenant: tenant, request: payload.request, policy: stored.policy, assignee: assignee, lead: lead,
                        at: now)
                }
            }
            try RequestSLA.save(tx, tenant: tenant, request: payload.request, clocks: stored.clocks, job: stored.job)
        }
    }

    /// The group's lead and members: who hears of a warning on a request nobody holds yet.
    static func groupPeople(_ tx: Connection, group: UUID?) throws -> [UUID] {
        guard let group else { return [] }
        return try tx.query(
            """
            SELECT lead_id FROM request_groups WHERE id = $1 AND lead_id IS NOT NULL
            UNION SELECT user_id FROM request_group_members WHERE group_id = $1
            """, [group]
        ).map { try $0.require(0) }
    }

    /// A breach marks the request escalated (a change made at `now`); with `reassign`, its group's lead takes it over.
    static func escalate(
        _ tx: Connection, tenant: UUID, request: UUID, policy: SLAPolicy, assignee: UUID?, lead: UUID?,
        at now: Date
    ) throws {
        let reassign = policy.escalation == .reassign && lead != nil && lead != assignee
        let changed =
            try tx.query(
                """
                UPDATE requests SET escalated = true, assignee_id = CASE WHEN $2 THEN $3 ELSE assignee_id END,
                       version = version + 1, updated_at = $4
                WHERE tenant_id = $5 AND id = $1 AND (NOT escalated OR $2)
                """, [request, reassign, lead, now, tenant]
            ).affected == 1
        guard changed else { return }
        var after = ["escalated": "true"]
        if reassign, let lead { after["assignee_id"] = lead.postgresText }
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: .system, action: "request.escalate",
                targetType: "request", targetID: request.postgresText,
                before: try JSONText(encoding: ["assignee_id": assignee?.postgresText ?? ""]),
                after: try JSONText(encoding: after), at: now), in: tx)
    }
}

/// What a warning or breach notice says.
struct SLANotice {
    let request: UUID
    let number: String
    let subject: String
    let priority: String
    let clock: SLAClockKind
    let event: SLAEvent
    let dueAt: Date
}
