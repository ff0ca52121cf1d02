// incidents.escalate: an incident still unacknowledged when its job comes due goes to the next
// level of the tenant's escalation policy, and the job for the level after is enqueued, its id
// replacing this one's on the incident row. A job whose id is no longer the row's (acknowledged,
// resolved, or replaced) does nothing, so a late or repeated run never pages twice.
import Foundation
import Postgres

public enum IncidentJobs {
    public static func register(into handlers: inout JobHandlers, publicURL: String) {
        let notices = IncidentNotices(publicURL: publicURL)
        handlers.register(EscalationPolicies.escalateKind) { context in try escalate(context, notices: notices) }
    }

    static func escalate(_ context: JobContext, notices: IncidentNotices) throws {
        struct Payload: Decodable {
            let incident: UUID
            let level: String
        }
        let payload = try context.job.decode(Payload.self)
        guard let tenant = context.job.tenant, let level = Int(payload.level) else {
            throw PermanentJobFailure("an incident escalation names its tenant and level")
        }
        try context.database.inTenant(tenant) { tx in
            let now = context.world.clock.now
            guard let incident = try IncidentStore.load(tx, tenant: tenant, id: payload.incident, lock: true),
                incident.state.isOpen, incident.acknowledgedAt == nil, incident.escalationJob == context.job.id
            else { return }
            let levels = try EscalationPolicies.levels(tx, tenant: tenant)
            guard level < levels.count else {
                try tx.query("UPDATE incidents SET escalation_job_id = NULL WHERE tenant_id = $1 AND id = $2", [tenant, incident.id])
                return
            }
            var next: Int64? = nil
            if level + 1 < levels.count {
                next = try EscalationPolicies.schedule(
                    tx, tenant: tenant, incident: incident.id, level: level + 1,
                    at: now.addingTimeInterval(Double(levels[level + 1].afterMinutes) * 60))
            }
            try tx.query(
                """
                UPDATE incidents SET escalation_level = $3, escalation_job_id = $4, updated_at = $5, version = version + 1
                WHERE tenant_id = $1 AND id = $2
                """, [tenant, incident.id, level, next, now])
            try IncidentStore.event(
                tx, tenant: tenant, incident: incident.id, kind: "escalated", by: nil,
                detail: "unacknowledged: level \(level) told", at: now)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "incident.escalate", targetType: "incident",
                    targetID: incident.id.postgresText, after: try JSONText(encoding: ["level": String(level)]), at: now), in: tx)
            try notices.escalated(
                tx, incident, tenant: tenant, level: level, people: levels[level].people, channels: levels[level].channels, at: now)
        }
    }
}
