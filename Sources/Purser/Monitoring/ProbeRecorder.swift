// Records a tick's readings in one transaction: a reading inside a maintenance window of its
// target (or of its whole tenant) is kept as `maintenance`; each target's state follows its
// counted outcomes. A target that goes down (a failure confirmed by its retry) opens an incident
// and is audited; one that comes back up resolves it. Burn-rate alerts are checked for every
// target that counted a failure; p95 latency and TTFT objectives after every successful probe.
import Foundation
import Postgres

enum ProbeRecorder {
    static func record(
        _ database: Database, _ batch: [(target: ProbeTarget, reading: ProbeReading)], incidents: ProbeIncidents, at now: Date
    ) throws {
        guard !batch.isEmpty else { return }
        try database.asStaff { tx in
            let inMaintenance = try MaintenanceWindows.activeTargets(tx, tenants: Set(batch.map(\.target.tenant)), at: now)
            var rows: [(ProbeTarget, ProbeReading)] = []
            for (target, reading) in batch {
                var reading = reading
                if inMaintenance.contains(MaintenanceWindows.Key(tenant: target.tenant, target: nil))
                    || inMaintenance.contains(MaintenanceWindows.Key(tenant: target.tenant, target: target.id))
                {
                    reading.outcome = .maintenance
                }
                rows.append((target, reading))
            }
            try insert(tx, rows, at: now)
            for (target, reading) in rows { try follow(tx, target, reading, incidents: incidents, at: now) }
            // Only a successful probe moves a p95.
            try LatencyAlerts.check(tx, targets: rows.filter { $0.1.outcome == .up }.map(\.0), incidents: incidents, at: now)
        }
    }

    /// One multi-row insert for the batch.
    static func insert(_ tx: Connection, _ rows: [(ProbeTarget, ProbeReading)], at now: Date) throws {
        try tx.query(
            """
            INSERT INTO probe_results (tenant_id, target_id, at, outcome, status, latency_ms, ttft_ms, tokens, retried, error)
            SELECT tenant, target, $1, outcome, status, latency, ttft, tokens, retried, nullif(error, '')
            FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[], $9::bool[], $10::text[])
                 AS r(tenant, target, outcome, status, latency, ttft, tokens, retried, error)
            ON CONFLICT (tenant_id, target_id, at) DO NOTHING
            """,
            [
                now, rows.map(\.0.tenant), rows.map(\.0.id), rows.map(\.1.outcome.rawValue), NullableArray(rows.map(\.1.status)),
                NullableArray(rows.map(\.1.latencyMs)), NullableArray(rows.map(\.1.ttftMs)), NullableArray(rows.map(\.1.tokens)),
                rows.map(\.1.retried),
                rows.map { $0.1.error ?? "" },
            ])
    }

    /// The target's state after a reading, and what a change of state does.
    static func follow(_ tx: Connection, _ target: ProbeTarget, _ reading: ProbeReading, incidents: ProbeIncidents, at now: Date) throws {
        let state: String =
            switch reading.outcome {
            case .up: "up"
            case .down: "down"
            case .purserError, .maintenance: target.state
            }
        try tx.query(
            """
            UPDATE probe_targets SET last_probe_at = $3, last_error = $4,
                state = $5, state_since = CASE WHEN state = $5 THEN state_since ELSE $3 END
            WHERE tenant_id = $1 AND id = $2
            """, [target.tenant, target.id, now, reading.error.map { String($0.prefix(500)) }, state])
        guard state != target.state else {
            if reading.outcome == .down { try BurnRateAlerts.check(tx, target, at: now) }
            return
        }
        if state == "down" {
            try AuditLog.record(
                AuditEvent(
                    tenant: target.tenant, actor: .system, action: "monitoring.endpoint_down", targetType: "probe_target",
                    targetID: target.id.postgresText, reason: reading.error ?? "failed", at: now), in: tx)
            let incident = try incidents.opened(tx, target: target, reason: reading.error ?? "failed", at: now)
            try tx.query(
                "UPDATE probe_targets SET incident_id = $3 WHERE tenant_id = $1 AND id = $2", [target.tenant, target.id, incident])
            try BurnRateAlerts.check(tx, target, at: now)
        } else if target.state == "down" {
            try AuditLog.record(
                AuditEvent(
                    tenant: target.tenant, actor: .system, action: "monitoring.endpoint_up", targetType: "probe_target",
                    targetID: target.id.postgresText, reason: "answered the probe", at: now), in: tx)
            try incidents.recovered(tx, target: target, at: now)
            try tx.query("UPDATE probe_targets SET incident_id = NULL WHERE tenant_id = $1 AND id = $2", [target.tenant, target.id])
        }
    }
}
