// Where a confirmed endpoint failure meets incidents: an endpoint that goes down opens (or joins)
// an incident for its service, `endpoint:<target name>`, deduplicated by the target's fingerprint
// `probe:<target id>`, and coming back up resolves it. Until incidents publish their entry point
// this is the one seam to change: the failure is told to the tenant's subscribers of
// `incident.opened` / `incident.resolved` through the outbox (one notice per change of state, not
// per probe), and no incident row is written (nil is returned).
import Foundation
import Postgres

enum ProbeIncidents {
    static func service(_ target: ProbeTarget) -> String { "endpoint:" + target.name }
    static func fingerprint(_ target: ProbeTarget) -> String { "probe:" + target.id.postgresText }

    /// The endpoint is down (confirmed by a retry). Returns the incident opened, if any.
    static func opened(_ tx: Connection, target: ProbeTarget, reason: String, at now: Date) throws -> UUID? {
        _ = try Outbox.notify(
            tx, tenant: target.tenant,
            message: NotificationMessage(
                event: "incident.opened", subject: "\(target.name) is down",
                text: "Purser's probe of \(target.name) failed and a retry confirmed it: \(reason)", severity: .critical,
                action: .trigger, dedupKey: fingerprint(target)), at: now)
        return nil
    }

    /// The endpoint answers again.
    static func recovered(_ tx: Connection, target: ProbeTarget, at now: Date) throws {
        _ = try Outbox.notify(
            tx, tenant: target.tenant,
            message: NotificationMessage(
                event: "incident.resolved", subject: "\(target.name) is up again",
                text: "Purser's probe of \(target.name) answers again.", severity: .info, action: .resolve,
                dedupKey: fingerprint(target)), at: now)
    }
}
