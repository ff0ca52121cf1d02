// Signals become incidents, the same way from every source: Alertmanager's webhook, failed probes,
// cost anomalies. Each signal is recorded by fingerprint (a repeated delivery counts, it does not
// duplicate); a firing one joins the open incident of its service while that incident's last alert
// is inside the grouping window, or opens one; a resolved one is recorded, and an incident whose
// alerts have all resolved is resolved with them. One outage pages once: people are told when an
// incident opens, never when an alert joins. All of it happens in the caller's transaction.
import Foundation
import Postgres

/// One alert, probe failure or anomaly, as the intake reads it.
public struct IncidentSignal: Sendable {
    public enum Status: String, Sendable, CaseIterable { case firing, resolved }

    public var source: IncidentSource
    /// Names the alert across deliveries (Alertmanager's fingerprint; a probe's endpoint and check).
    public var fingerprint: String
    public var alertname: String
    /// What alerts are grouped by: alerts of one service within the window are one incident.
    public var service: String
    public var severity: IncidentSeverity
    public var status: Status
    /// The incident's title when this signal opens one.
    public var title: String
    public var description: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// When the alert began: with the fingerprint, one occurrence of it.
    public var startsAt: Date
    public var endsAt: Date?

    public init(
        source: IncidentSource, fingerprint: String, alertname: String, service: String, severity: IncidentSeverity,
        status: Status, title: String, description: String = "", labels: [String: String] = [:], annotations: [String: String] = [:],
        startsAt: Date, endsAt: Date? = nil
    ) {
        self.source = source
        self.fingerprint = fingerprint
        self.alertname = alertname
        self.service = service
        self.severity = severity
        self.status = status
        self.title = title
        self.description = description
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// When a resolved alert ended: as sent (else when it was received), never before it began. A
    /// sender whose clock runs behind may send an end before the start; refusing the delivery would
    /// drop its other alerts (Alertmanager does not retry a 4xx), so the alert lasts no time instead.
    public func ended(receivedAt now: Date) -> Date { max(endsAt ?? now, startsAt) }
}

/// What one delivery did.
public struct IntakeResult: Sendable, Equatable {
    public var opened: [UUID] = []
    public var joined: [UUID] = []
    public var resolved: [UUID] = []
    /// Alerts recorded or counted again.
    public var recorded = 0
}

public enum IncidentIntake {
    /// An alert joins its service's open incident if that incident's last alert came within this long.
    public static let groupingWindow: TimeInterval = 30 * 60

    /// Records `signals` for `tenant` in `tx` at `now`. `reporter` files the incidents' requests
    /// (nil: the tenant's first administrator); `actor` is audited (a token, or `.system` for jobs).
    public static func receive(
        _ tx: Connection, database: Database, tenant: UUID, signals: [IncidentSignal], reporter: UUID?, actor: AuditActor,
        at now: Date, publicURL: String
    ) throws -> IntakeResult {
        let notices = IncidentNotices(publicURL: publicURL)
        var result = IntakeResult()
        var touched: [UUID] = []
        var requester = reporter
        // What this delivery did to each incident, written once per incident after the loop: a
        // burst of alerts is one line on the timeline, not one per alert.
        var firing: [UUID: [String]] = [:], resolving: [UUID: [String]] = [:]
        // The open incident of each service, once found or opened in this delivery.
        var open: [String: (id: UUID, severity: IncidentSeverity)] = [:]
        // One service at a time, in one order, so concurrent deliveries lock services alike.
        for signal in signals.sorted(by: { ($0.service, $0.fingerprint) < ($1.service, $1.fingerprint) }) {
            if open[signal.service] == nil {
                try tx.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["incidents:\(tenant.postgresText):\(signal.service)"])
            }
            let labels = try JSONText(encoding: signal.labels), annotations = try JSONText(encoding: signal.annotations)
            if let existing = try tx.query(
                "SELECT incident_id, status FROM incident_alerts WHERE tenant_id = $1 AND fingerprint = $2 AND starts_at = $3 FOR UPDATE",
                [tenant, signal.fingerprint, signal.startsAt]
            ).first {
                try tx.query(
                    """
                    UPDATE incident_alerts SET received = received + 1, last_received_at = $4, status = $5, labels = $6::jsonb,
                           annotations = $7::jsonb, ends_at = CASE WHEN $5 = 'resolved' THEN $8::timestamptz ELSE ends_at END,
                           resolved_received_at = CASE WHEN $5 = 'resolved' THEN coalesce(resolved_received_at, $4::timestamptz) END
                    WHERE tenant_id = $1 AND fingerprint = $2 AND starts_at = $3
                    """,
                    [
                        tenant, signal.fingerprint, signal.startsAt, now, signal.status.rawValue, labels, annotations,
                        signal.ended(receivedAt: now),
                    ])
                result.recorded += 1
                let incident: UUID? = try existing.decode(0)
                let before: String = try existing.require(1)
                if let incident, before == "firing", signal.status == .resolved {
                    resolving[incident, default: []].append(describe(signal))
                    touched.append(incident)
                }
                continue
            }
            var incident = open[signal.service]
            if incident == nil || signal.status == .resolved {
                incident = try tx.query(
                    """
                    SELECT id, severity FROM incidents WHERE tenant_id = $1 AND service = $2 AND state = ANY($3::text[])
                      AND ($4::timestamptz IS NULL OR last_alert_at >= $4)
                    ORDER BY last_alert_at DESC NULLS LAST LIMIT 1 FOR UPDATE
                    """,
                    [
                        tenant, signal.service, IncidentState.openStates,
                        signal.status == .firing ? now.addingTimeInterval(-groupingWindow) : nil,
                    ]
                ).first.map { (id: try $0.require(0, as: UUID.self), severity: IncidentSeverity(rawValue: try $0.require(1)) ?? .sev4) }
            }
            if signal.status == .firing {
                if let found = incident {
                    if signal.severity < found.severity {
                        try raise(tx, tenant: tenant, incident: found.id, from: found.severity, to: signal.severity, actor: actor, at: now)
                        incident = (found.id, signal.severity)
                    }
                    if !result.opened.contains(found.id) && !result.joined.contains(found.id) { result.joined.append(found.id) }
                } else {
                    if requester == nil { requester = try defaultReporter(tx, tenant: tenant) }
                    let opened = try IncidentStore.open(
                        tx, database: database, tenant: tenant, title: signal.title, description: signal.description,
                        severity: signal.severity, service: signal.service, source: signal.source, requester: requester!, actor: actor,
                        at: now, notices: notices)
                    incident = (opened.id, opened.severity)
                    result.opened.append(opened.id)
                }
                open[signal.service] = incident
                if let id = incident?.id { firing[id, default: []].append(describe(signal)) }
            }
            try tx.query(
                """
                INSERT INTO incident_alerts (tenant_id, fingerprint, starts_at, incident_id, alertname, service, severity, status, labels,
                                             annotations, ends_at, first_received_at, last_received_at, resolved_received_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $12, CASE WHEN $8 = 'resolved' THEN $12::timestamptz END)
                """,
                [
                    tenant, signal.fingerprint, signal.startsAt, incident?.id, String(signal.alertname.prefix(200)),
                    String(signal.service.prefix(200)), signal.severity.rawValue, signal.status.rawValue, labels, annotations,
                    signal.status == .resolved ? signal.ended(receivedAt: now) : nil, now,
                ])
            result.recorded += 1
            if signal.status == .resolved, let found = incident {
                resolving[found.id, default: []].append(describe(signal))
                touched.append(found.id)
            }
        }
        for (id, notes) in firing.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            try tx.query(
                "UPDATE incidents SET last_alert_at = $3, updated_at = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2",
                [tenant, id, now])
            try IncidentStore.event(tx, tenant: tenant, incident: id, kind: "alert", by: nil, detail: summary(notes), at: now)
        }
        for (id, notes) in resolving.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            try IncidentStore.event(tx, tenant: tenant, incident: id, kind: "alert_resolved", by: nil, detail: summary(notes), at: now)
        }
        // An open incident none of whose alerts still fire is resolved with them.
        for id in Set(touched).sorted(by: { $0.uuidString < $1.uuidString }) {
            guard let current = try IncidentStore.load(tx, tenant: tenant, id: id, lock: true), current.state.isOpen else { continue }
            let firing = try tx.query(
                "SELECT count(*) FROM incident_alerts WHERE tenant_id = $1 AND incident_id = $2 AND status = 'firing'", [tenant, id])[0]
                .require(0, as: Int.self)
            guard firing == 0 else { continue }
            try IncidentStore.transition(tx, tenant: tenant, current, to: .resolved, by: nil, actor: actor, at: now, notices: notices)
            try tx.query("UPDATE incidents SET version = version + 1 WHERE tenant_id = $1 AND id = $2", [tenant, id])
            result.resolved.append(id)
        }
        return result
    }

    /// One line for the timeline: the alert, or how many and the first few.
    static func summary(_ notes: [String]) -> String {
        guard notes.count > 1 else { return notes.first ?? "" }
        return "\(notes.count) alerts: " + notes.prefix(5).joined(separator: "; ")
            + (notes.count > 5 ? "; and \(notes.count - 5) more" : "")
    }

    static func describe(_ signal: IncidentSignal) -> String {
        "\(signal.status.rawValue): \(signal.alertname.isEmpty ? signal.title : signal.alertname)"
            + (signal.service.isEmpty ? "" : " (\(signal.service))") + " [\(signal.severity.rawValue)]"
    }

    /// A more severe alert raises its incident (and the request's priority with it), audited as a
    /// person's change of severity is.
    static func raise(
        _ tx: Connection, tenant: UUID, incident: UUID, from previous: IncidentSeverity, to severity: IncidentSeverity, actor: AuditActor,
        at now: Date
    ) throws {
        let request = try tx.query(
            "UPDATE incidents SET severity = $3 WHERE tenant_id = $1 AND id = $2 RETURNING request_id",
            [tenant, incident, severity.rawValue])[0]
            .require(0, as: UUID.self)
        try IncidentRequestLink.reprioritise(tx, tenant: tenant, request: request, to: severity.priority, actor: actor, at: now)
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.update", targetType: "incident", targetID: incident.postgresText,
                reason: "raised by an alert", before: try JSONText(encoding: ["severity": previous.rawValue]),
                after: try JSONText(encoding: ["severity": severity.rawValue]), at: now), in: tx)
        try IncidentStore.event(
            tx, tenant: tenant, incident: incident, kind: "severity", by: nil, detail: "raised to \(severity.rawValue) by an alert", at: now
        )
    }

    /// Who files an incident's request when no person does: the tenant's longest-standing active
    /// administrator, else its longest-standing active member, else an active provider
    /// administrator (then any active staff member).
    static func defaultReporter(_ tx: Connection, tenant: UUID) throws -> UUID {
        let found = try tx.query(
            """
            (SELECT m.user_id, 0 AS rank, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant_id = $1 AND m.status = 'active' AND u.status = 'active'
             ORDER BY m.role <> 'tenant_admin', m.created_at, m.user_id LIMIT 1)
            UNION ALL
            (SELECT id, 1, created_at FROM users WHERE staff_role IS NOT NULL AND status = 'active'
             ORDER BY staff_role <> 'provider_admin', created_at, id LIMIT 1)
            ORDER BY rank LIMIT 1
            """, [tenant]
        ).first
        guard let found else { throw ValidationError(field: "tenant", "the tenant has nobody to file the incident's request for") }
        return try found.require(0)
    }
}
