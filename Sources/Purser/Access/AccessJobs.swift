// The access jobs. access.expire runs at a grant's end and records it (state expired, audited,
// the holder told); nothing depends on it running on time, since the window itself is enforced.
// access.lapse runs when an access request has waited its policy's time: still pending, it lapses.
// Both lock their row and are idempotent (a second run finds nothing left to do).
import Foundation
import Postgres

public enum AccessJobs {
    public static func register(into handlers: inout JobHandlers, notices: AccessNotices) {
        handlers.register(AccessStore.expireKind) { context in try expire(context, notices: notices) }
        handlers.register(AccessStore.lapseKind) { context in try lapse(context, notices: notices) }
    }

    static func expire(_ context: JobContext, notices: AccessNotices) throws {
        struct Payload: Decodable { let grant: UUID }
        let payload = try context.job.decode(Payload.self)
        guard let tenant = context.job.tenant else { throw PermanentJobFailure("an access expiry names its tenant") }
        try context.database.inTenant(tenant) { tx in
            let now = context.world.clock.now
            guard let grant = try AccessGrants.grant(payload.grant, in: tx, lock: true), grant.recordedState == .active,
                grant.endsAt <= now
            else { return }
            try AccessGrants.end(grant, state: .expired, by: nil, reason: "expired", at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "access.expire", targetType: "access_grant", targetID: grant.id.postgresText,
                    after: try JSONText(encoding: [
                        "ends_at": RFC3339.string(grant.endsAt),
                        "recorded_late_ms": String(Int((now.timeIntervalSince(grant.endsAt) * 1000).rounded())),
                    ]), at: now), in: tx)
            try notices.told(
                "access.expired", subject: "Access ended: \(grant.principal ?? grant.role ?? "")",
                text: "The grant ended at \(RFC3339.string(grant.endsAt)).", request: grant.requestID, person: grant.userID, tenant: tenant,
                at: now, in: tx)
        }
    }

    static func lapse(_ context: JobContext, notices: AccessNotices) throws {
        struct Payload: Decodable { let request: UUID }
        let payload = try context.job.decode(Payload.self)
        guard let tenant = context.job.tenant else { throw PermanentJobFailure("an access lapse names its tenant") }
        try context.database.inTenant(tenant) { tx in
            let now = context.world.clock.now
            guard let record = try AccessStore.request(payload.request, in: tx, lock: true), record.state == .pending,
                record.lapseAt <= now
            else { return }
            try tx.query(
                """
                UPDATE access_requests SET state = 'lapsed', decided_at = $2, updated_at = $2, version = version + 1
                WHERE tenant_id = $3 AND id = $1
                """, [record.id, now, tenant])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "access.lapse", targetType: "access_request", targetID: record.id.postgresText,
                    after: try JSONText(encoding: ["lapse_at": RFC3339.string(record.lapseAt)]), at: now), in: tx)
            try notices.told(
                "access.denied", subject: "Access request lapsed: \(record.target)",
                text: "Nobody approved it by \(RFC3339.string(record.lapseAt)); ask again if you still need it.", request: record.id,
                person: record.requesterID, tenant: tenant, at: now, in: tx)
        }
    }
}
