// Where a confirmed endpoint failure meets incidents, through the incidents' intake like any other
// signal (IncidentIntake.receive, in the recording transaction): an endpoint that goes down is a
// firing `EndpointDown` signal of service `endpoint:<target name>`, fingerprint `probe:<target id>`,
// SEV2; it opens an incident or joins the service's open one, and people are told by the intake
// (once per incident, not per probe). Coming back up resolves that signal (same fingerprint and
// start), and an incident whose signals have all resolved is resolved with them.
import Foundation
import Postgres

struct ProbeIncidents: Sendable {
    let database: Database
    let publicURL: String

    static func service(_ target: ProbeTarget) -> String { "endpoint:" + target.name }
    static func fingerprint(_ target: ProbeTarget) -> String { "probe:" + target.id.postgresText }

    func signal(_ target: ProbeTarget, status: IncidentSignal.Status, description: String, startsAt: Date, endsAt: Date?)
        -> IncidentSignal
    {
        IncidentSignal(
            source: .probe, fingerprint: Self.fingerprint(target), alertname: "EndpointDown", service: Self.service(target),
            severity: .sev2, status: status, title: "\(target.name) is down", description: description,
            labels: ["endpoint": target.name, "probe": target.kind.rawValue], annotations: ["url": target.url],
            startsAt: startsAt, endsAt: endsAt)
    }

    /// Runs `body` (an intake) under a savepoint of the recording transaction: a tenant whose
    /// incident cannot be opened (e.g. nobody to file its request for) loses that incident, audited
    /// as `monitoring.incident_failed` on the target, never the batch's other tenants' probes.
    func isolated<T>(_ tx: Connection, target: ProbeTarget, at now: Date, _ body: () throws -> T?) throws -> T? {
        try tx.execute("SAVEPOINT probe_incident")
        do {
            let result = try body()
            try tx.execute("RELEASE SAVEPOINT probe_incident")
            return result
        } catch {
            try tx.execute("ROLLBACK TO SAVEPOINT probe_incident")
            try AuditLog.record(
                AuditEvent(
                    tenant: target.tenant, actor: .system, action: "monitoring.incident_failed", targetType: "probe_target",
                    targetID: target.id.postgresText, reason: String("\(error)".prefix(500)), at: now), in: tx)
            return nil
        }
    }

    /// The endpoint is down (confirmed by a retry) from `now`. Returns the incident it opened or joined.
    func opened(_ tx: Connection, target: ProbeTarget, reason: String, at now: Date) throws -> UUID? {
        try isolated(tx, target: target, at: now) { try open(tx, target: target, reason: reason, at: now) }
    }

    func open(_ tx: Connection, target: ProbeTarget, reason: String, at now: Date) throws -> UUID? {
        let result = try IncidentIntake.receive(
            tx, database: database, tenant: target.tenant,
            signals: [
                signal(
                    target, status: .firing, description: "Purser's probe failed and an immediate retry confirmed it: \(reason)",
                    startsAt: now, endsAt: nil)
            ], reporter: nil, actor: .system, at: now, publicURL: publicURL)
        return result.opened.first ?? result.joined.first
    }

    /// The endpoint answers again: the signal that went down at `target.stateSince` resolves.
    func recovered(_ tx: Connection, target: ProbeTarget, at now: Date) throws {
        _ = try isolated(tx, target: target, at: now) {
            try IncidentIntake.receive(
                tx, database: database, tenant: target.tenant,
                signals: [
                    signal(
                        target, status: .resolved, description: "The probe answers again.", startsAt: target.stateSince ?? now, endsAt: now)
                ], reporter: nil, actor: .system, at: now, publicURL: publicURL)
        }
    }
}
