// Extending a live grant: the holder asks again (an access request naming the grant), the policy's
// approvals are owed again exactly as for the first, and the last approval moves the grant's own
// end — the same grant, one history — and its access.expire job with it, in the approval's
// transaction (audited as access.extend; the visitor_changed trigger tells every node, so an
// elevation lasts longer everywhere at once). Certificates already signed keep their valid_before;
// the holder asks for a new one that carries the new end.
import Foundation
import Postgres
import struct HTTPServer.FieldError

enum AccessExtension {
    /// At asking: the grant is the asker's, live, under the same policy and for the same host, and
    /// with the extension the time left from now stays within the policy's maximum. Under a
    /// business-hours policy (`businessHours` is the tenant's calendar, nil otherwise) the extended
    /// window, from the grant's current end to its new end, lies within them.
    static func checkAsk(
        _ grant: UUID, policy: AccessPolicy, hostID: UUID?, durationSeconds: Int, user: UUID, businessHours: BusinessCalendar?,
        in tx: Connection, at now: Date
    ) throws {
        guard
            let row = try tx.query(
                """
                SELECT r.policy_id, g.host_id, g.ends_at FROM access_grants g JOIN access_requests r ON r.tenant_id = g.tenant_id AND r.id = g.request_id
                WHERE g.id = $1 AND g.user_id = $2 AND g.state = 'active' AND g.ends_at > $3
                """, [grant, user, now]
            ).first
        else { throw ValidationError(field: "extends_grant_id", "extend one of your own grants that is still active") }
        guard try row.require(0, as: UUID.self) == policy.id, try row.decode(1, as: UUID.self) == hostID else {
            throw ValidationError(field: "extends_grant_id", "an extension is asked under the grant's own policy and for its host")
        }
        let left = try row.require(2, as: Date.self).timeIntervalSince(now)
        if Int(left.rounded(.up)) + durationSeconds > policy.maxSeconds {
            throw ValidationError(
                field: "duration_seconds",
                "with \(AccessRules.words(Int(left.rounded(.up)))) still left, at most \(AccessRules.words(max(0, policy.maxSeconds - Int(left.rounded(.up))))) more keeps the grant within the policy's maximum of \(AccessRules.words(policy.maxSeconds))"
            )
        }
        if let problem = hoursProblem(end: try row.require(2, as: Date.self), seconds: durationSeconds, calendar: businessHours) {
            throw ValidationError([problem])
        }
    }

    /// Why extending a grant that ends at `end` by `seconds` leaves business hours (nil when it
    /// does not, or when `calendar` is nil: the policy is not business-hours-only). The extended
    /// window starts at the grant's end, not at the moment of asking or approving.
    static func hoursProblem(end: Date, seconds: Int, calendar: BusinessCalendar?) -> FieldError? {
        guard let calendar, !calendar.alwaysOn else { return nil }
        let moment = { AccessBusinessHours.moment($0, calendar) }
        let newEnd = end.addingTimeInterval(TimeInterval(seconds))
        guard let stretchEnd = calendar.workingStretchEnd(from: end) else {
            return FieldError(
                field: "extends_grant_id",
                detail: "this policy grants access only within business hours, and the grant ends at \(moment(end)), outside them; "
                    + "ask for access again when they begin at \(moment(calendar.nextWorkingMoment(end)))")
        }
        guard newEnd > stretchEnd else { return nil }
        let longest = Int(stretchEnd.timeIntervalSince(end))
        return FieldError(
            field: "duration_seconds",
            detail: "this policy grants access only within business hours: they end at \(moment(stretchEnd)), so the grant, "
                + "ending at \(moment(end)), "
                + (longest >= 60 ? "can be extended by at most \(AccessRules.words(longest))" : "cannot be extended")
                + " (the extended window would end at \(moment(newEnd)))")
    }

    /// At the last approval: the extended grant's end moves by the extension's duration and its
    /// expiry job with it. Refused when the grant ended while the extension waited, or when, under
    /// a business-hours policy, the window from the grant's end as it is now (another extension
    /// may have moved it) runs outside them, or when the time then left plus the extension exceeds
    /// `maxSeconds` (extensions asked side by side each fit; together they would make standing
    /// access): the request then keeps waiting. Returns the new end.
    static func extend(
        _ record: AccessRequestRecord, grant id: UUID, tenant: UUID, maxSeconds: Int, businessHours: BusinessCalendar?,
        actor: AuditActor, in tx: Connection, at now: Date
    ) throws -> (grant: UUID, endsAt: Date) {
        guard let grant = try AccessGrants.grant(id, in: tx, lock: true), grant.state(at: now) == .active else {
            throw AccessRefused("grant_ended", "The grant this extends has ended; ask for access again.", refusal: .conflict)
        }
        let left = Int(grant.endsAt.timeIntervalSince(now).rounded(.up))
        if left + record.durationSeconds > maxSeconds {
            throw AccessRefused(
                "beyond_maximum",
                "Approving now: the grant has \(AccessRules.words(left)) left, so \(AccessRules.words(record.durationSeconds)) more "
                    + "would run past the policy's maximum of \(AccessRules.words(maxSeconds)); "
                    + "approve it once less is left, or deny it and ask for at most \(AccessRules.words(max(0, maxSeconds - left))).",
                refusal: .conflict)
        }
        if let problem = hoursProblem(end: grant.endsAt, seconds: record.durationSeconds, calendar: businessHours) {
            throw AccessRefused("outside_business_hours", "Approving now: " + problem.detail + ".", refusal: .conflict)
        }
        let end = grant.endsAt.addingTimeInterval(TimeInterval(record.durationSeconds))
        var job = grant.expireJob
        if let current = job, try JobQueue.reschedule(tx, id: current, at: end) {
            // Moved.
        } else {
            // The old job already started (it finds the grant still running and leaves it): a new one.
            job = try JobQueue.enqueue(
                tx, kind: AccessStore.expireKind, payload: try JSONText(encoding: ["grant": id.postgresText]),
                options: JobOptions(tenant: tenant, runAt: end, priority: 10, maxAttempts: 20, timeout: 30))
        }
        try tx.query("UPDATE access_grants SET ends_at = $2, expire_job_id = $3 WHERE tenant_id = $4 AND id = $1", [id, end, job, tenant])
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "access.extend", targetType: "access_grant", targetID: id.postgresText,
                reason: record.reason,
                after: try JSONText(encoding: [
                    "request": record.id.postgresText, "ends_at_before": RFC3339.string(grant.endsAt), "ends_at": RFC3339.string(end),
                ]), at: now), in: tx)
        return (id, end)
    }
}
