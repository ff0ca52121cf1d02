// p95 latency and time-to-first-token objectives raise alerts, as availability's burn rate does:
// after each recorded batch, every probed target with an objective (its own, else the tenant's
// SLA policy, else its plan's) has its p95 over the last `window` of successful probes compared
// with it, in one query for the batch. A p95 above the objective fires a signal into the incident
// intake (SEV3, service `endpoint:<name>`, so it joins the endpoint's open incident; fingerprint
// `slo-latency:<id>` or `slo-ttft:<id>`, so a breach pages once); a p95 back within resolves it,
// and an incident whose signals have all resolved resolves with them. Fewer than `minimumProbes`
// successful probes in the window decide nothing either way.
import Foundation
import Postgres

enum LatencyAlerts {
    static let window: TimeInterval = 15 * 60
    static let minimumProbes = 5

    enum Objective: String, CaseIterable {
        case latency, ttft

        var column: String { self == .latency ? "latency_breach_at" : "ttft_breach_at" }
        var label: String { self == .latency ? "p95 latency" : "p95 time to first token" }
        var alertname: String { self == .latency ? "LatencyObjectiveBreached" : "TTFTObjectiveBreached" }
        func fingerprint(_ target: UUID) -> String { "slo-\(rawValue):" + target.postgresText }
    }

    /// One target's figures over the window, and its objectives.
    struct Reading {
        var tenant: UUID
        var target: UUID
        var name: String
        var probes: Int
        var p95: [Objective: Int]
        var objective: [Objective: Int]
        var breachSince: [Objective: Date]
    }

    /// The policy value at `uptime.<key>` when it is a number (a malformed policy sets no objective).
    static func policyNumber(_ column: String, _ key: String) -> String {
        "CASE WHEN jsonb_typeof(\(column) -> 'uptime' -> '\(key)') = 'number' THEN (\(column) -> 'uptime' ->> '\(key)')::numeric END"
    }

    static func check(_ tx: Connection, targets: [ProbeTarget], incidents: ProbeIncidents, at now: Date) throws {
        guard !targets.isEmpty else { return }
        let rows = try tx.query(
            """
            WITH batch AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS b(tenant_id, id)),
            objectives AS (
                SELECT p.tenant_id, p.id, p.name, p.latency_breach_at, p.ttft_breach_at,
                       coalesce(p.latency_objective_ms, \(policyNumber("s.policy", "p95_latency_ms")),
                                \(policyNumber("pl.sla_policy", "p95_latency_ms"))) AS latency_objective,
                       coalesce(p.ttft_objective_ms, \(policyNumber("s.policy", "p95_ttft_ms")),
                                \(policyNumber("pl.sla_policy", "p95_ttft_ms"))) AS ttft_objective
                FROM batch b JOIN probe_targets p ON p.tenant_id = b.tenant_id AND p.id = b.id
                JOIN tenants t ON t.id = p.tenant_id JOIN plans pl ON pl.id = t.plan_id
                LEFT JOIN sla_policies s ON s.tenant_id = p.tenant_id)
            SELECT o.tenant_id, o.id, o.name, w.probes::int, w.latency, w.ttft, o.latency_objective::float8, o.ttft_objective::float8,
                   o.latency_breach_at, o.ttft_breach_at
            FROM objectives o CROSS JOIN LATERAL (
                SELECT count(*) AS probes, percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY ttft_ms) AS ttft
                FROM probe_results r
                WHERE r.tenant_id = o.tenant_id AND r.target_id = o.id AND r.outcome = 'up'
                  AND r.at > $3::timestamptz - make_interval(secs => $4) AND r.at <= $3) w
            WHERE o.latency_objective IS NOT NULL OR o.ttft_objective IS NOT NULL
               OR o.latency_breach_at IS NOT NULL OR o.ttft_breach_at IS NOT NULL
            """, [targets.map(\.tenant), targets.map(\.id), now, window])
        for row in rows {
            var reading = Reading(
                tenant: try row.require(0), target: try row.require(1), name: try row.require(2), probes: try row.require(3), p95: [:],
                objective: [:], breachSince: [:])
            (reading.p95[.latency], reading.p95[.ttft]) = (try row.decode(4), try row.decode(5))
            (reading.objective[.latency], reading.objective[.ttft]) = (
                try row.decode(6, as: Double.self).map { Int($0) }, try row.decode(7, as: Double.self).map { Int($0) }
            )
            (reading.breachSince[.latency], reading.breachSince[.ttft]) = (try row.decode(8), try row.decode(9))
            guard let target = targets.first(where: { $0.tenant == reading.tenant && $0.id == reading.target }) else { continue }
            for objective in Objective.allCases {
                try follow(tx, target, reading, objective, incidents: incidents, at: now)
            }
        }
    }

    /// Fires or resolves one objective's signal when the window's p95 crosses it.
    static func follow(
        _ tx: Connection, _ target: ProbeTarget, _ reading: Reading, _ objective: Objective, incidents: ProbeIncidents, at now: Date
    ) throws {
        let since = reading.breachSince[objective]
        let breached: Bool
        if let limit = reading.objective[objective] {
            guard reading.probes >= minimumProbes, let p95 = reading.p95[objective] else { return }
            breached = p95 > limit
        } else {
            breached = false  // the objective was removed: a breach in progress ends
        }
        guard breached != (since != nil) else { return }
        let limit = reading.objective[objective]
        let p95 = reading.p95[objective]
        let figures =
            "\(objective.label) over the last \(Int(window / 60)) min was \(p95.map { "\($0) ms" } ?? "not measured") "
            + "(objective \(limit.map { "\($0) ms" } ?? "removed"); \(reading.probes) successful probes)."
        let signal = IncidentSignal(
            source: .probe, fingerprint: objective.fingerprint(target.id), alertname: objective.alertname,
            service: ProbeIncidents.service(target), severity: .sev3, status: breached ? .firing : .resolved,
            title: "\(target.name): \(objective.label) above its objective", description: figures,
            labels: ["endpoint": target.name, "objective": objective.rawValue], annotations: ["summary": figures],
            startsAt: since ?? now, endsAt: breached ? nil : now)
        // An intake that fails is audited once; the breach is tracked all the same.
        _ = try incidents.isolated(tx, target: target, at: now) {
            try IncidentIntake.receive(
                tx, database: incidents.database, tenant: target.tenant, signals: [signal], reporter: nil, actor: .system, at: now,
                publicURL: incidents.publicURL)
        }
        try tx.query(
            "UPDATE probe_targets SET \(objective.column) = $3 WHERE tenant_id = $1 AND id = $2",
            [target.tenant, target.id, breached ? Optional(now) : nil])
    }
}
