// The hourly anomaly scan: for each tenant, the spend of each model and each team in the last
// complete hours (from usage_hourly) is judged against the same hour of the previous seven days
// (AnomalyStatistics). An anomalous hour is recorded once (unique per tenant, group and hour) with
// its figures, and only the transaction that recorded it tells the tenant's channels subscribed to
// cost.anomaly and its administrators by e-mail. Two hours are scanned each run, so one missed run
// loses nothing; the unique key keeps a re-scan from telling twice.
import Foundation
import Postgres

public struct CostAnomaly: Sendable {
    public let dimension: String
    public let value: String
    public let hour: Date
    public let verdict: AnomalyStatistics.Verdict
    public let currency: String
}

public enum AnomalyScan {
    public static let kind = "costs.anomaly_scan"
    public static let schedule = Schedule(name: kind, kind: kind, recurrence: .every(seconds: 3600))

    public static func register(into handlers: inout JobHandlers, publicURL: String) {
        handlers.register(kind) { context in
            let tenants = try context.database.pool.transaction { tx in
                try tx.query("SELECT id FROM tenants WHERE status = 'active' ORDER BY id LIMIT 100000")
                    .map { try $0.require(0, as: UUID.self) }
            }
            for tenant in tenants { try scan(context.database, tenant: tenant, now: context.world.now, publicURL: publicURL) }
        }
    }

    /// The start of the hour holding `date` (UTC hours; usage_hourly's grain).
    static func hourStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    /// Judges the last `hours` complete hours of `tenant` at `now`; returns the anomalies newly recorded.
    @discardableResult
    public static func scan(_ database: Database, tenant: UUID, now: Date, publicURL: String, hours: Int = 2) throws -> [CostAnomaly] {
        let current = hourStart(now)
        let judged = (1...hours).map { current.addingTimeInterval(-3600 * Double($0)) }
        // Each judged hour with the same hour of the seven days before it.
        let wanted = judged.flatMap { hour in (0...7).map { hour.addingTimeInterval(-86400 * Double($0)) } }
        return try database.inTenant(tenant) { tx in
            let (_, currency) = try CostReport.settings(tx, tenant: tenant)
            var spend: [String: [Date: Int64]] = [:]
            for row in try tx.query(
                """
                SELECT 'model', model, hour, sum(cost_micros)::bigint FROM usage_hourly
                WHERE tenant_id = $1 AND hour = ANY($2::timestamptz[]) GROUP BY model, hour
                UNION ALL
                SELECT 'team', team, hour, sum(cost_micros)::bigint FROM usage_hourly
                WHERE tenant_id = $1 AND hour = ANY($2::timestamptz[]) AND team <> '' GROUP BY team, hour
                """, [tenant, wanted])
            {
                let key = try row.require(0, as: String.self) + "\u{1F}" + row.require(1, as: String.self)
                spend[key, default: [:]][try row.require(2, as: Date.self)] = try row.require(3)
            }
            var found: [CostAnomaly] = []
            for (key, series) in spend.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                for hour in judged {
                    let history = (1...7).map { series[hour.addingTimeInterval(-86400 * Double($0))] ?? 0 }
                    guard let verdict = AnomalyStatistics.judge(spend: series[hour] ?? 0, history: history), verdict.anomalous else {
                        continue
                    }
                    let inserted = try tx.query(
                        """
                        INSERT INTO cost_anomalies (tenant_id, id, dimension, value, hour, spend_micros, baseline_micros, mad_micros,
                                                    currency, detected_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id
                        """,
                        [tenant, UUID.v7(at: now), parts[0], parts[1], hour, verdict.spend, verdict.baseline, verdict.mad, currency, now])
                    guard !inserted.isEmpty else { continue }
                    let anomaly = CostAnomaly(dimension: parts[0], value: parts[1], hour: hour, verdict: verdict, currency: currency)
                    found.append(anomaly)
                    try tell(tx, tenant: tenant, anomaly: anomaly, now: now, publicURL: publicURL)
                    // An anomaly opens an incident (or joins the open one of its model or team) as an alert does.
                    _ = try IncidentIntake.receive(
                        tx, database: database, tenant: tenant,
                        signals: [
                            IncidentSignal(
                                source: .cost, fingerprint: "cost:\(anomaly.dimension):\(anomaly.value)", alertname: "CostAnomaly",
                                service: "spend \(anomaly.dimension) \(anomaly.value)", severity: .sev3, status: .firing,
                                title: "Spend anomaly: \(anomaly.dimension) \(anomaly.value) at \(verdict.ratio) its usual hour",
                                labels: ["dimension": anomaly.dimension, "value": anomaly.value], startsAt: hour)
                        ], reporter: nil, actor: .system, at: now, publicURL: publicURL)
                }
            }
            return found
        }
    }

    static func tell(_ tx: Connection, tenant: UUID, anomaly: CostAnomaly, now: Date, publicURL: String) throws {
        let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
        let admins = try tx.query("SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'tenant_admin'", [tenant])
            .map { try $0.require(0, as: UUID.self) }
        let verdict = anomaly.verdict
        let money = { (micros: Int64) in Money(micros: micros, currency: anomaly.currency).display }
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: "cost.anomaly",
                subject: "Spend anomaly: \(anomaly.dimension) \(anomaly.value) at \(verdict.ratio) its usual hour",
                text: """
                    \(anomaly.dimension.capitalized) \(anomaly.value) spent \(money(verdict.spend)) in the hour from \
                    \(RFC3339.string(anomaly.hour)); the same hour over the previous 7 days had a median of \(money(verdict.baseline)) \
                    (MAD \(money(verdict.mad))).
                    """,
                url: SiteURL.costs(slug).at("anomalies").absolute(on: publicURL), severity: .warning,
                dedupKey: "anomaly:\(tenant.postgresText):\(anomaly.dimension):\(anomaly.value):\(RFC3339.string(anomaly.hour))"),
            people: admins, at: now)
    }

    /// The tenant's latest anomalies, newest first.
    static func recent(_ tx: Connection, tenant: UUID, limit: Int = 20) throws -> [CostAnomaly] {
        try tx.query(
            """
            SELECT dimension, value, hour, spend_micros, baseline_micros, mad_micros, currency FROM cost_anomalies
            WHERE tenant_id = $1 ORDER BY hour DESC, dimension, value LIMIT \(limit)
            """, [tenant]
        ).map { row in
            CostAnomaly(
                dimension: try row.require(0), value: try row.require(1), hour: try row.require(2),
                verdict: AnomalyStatistics.Verdict(
                    spend: try row.require(3), baseline: try row.require(4), mad: try row.require(5), anomalous: true),
                currency: try row.require(6))
        }
    }
}

/// An anomaly as the costs page lists it.
struct AnomalyView: Encodable, Sendable {
    let dimension: String
    let value: String
    let hour: String
    let spend: String
    let baseline: String
    let mad: String
    let ratio: String

    init(_ anomaly: CostAnomaly) {
        dimension = anomaly.dimension
        value = anomaly.value.isEmpty ? "(none)" : anomaly.value
        hour = DisplayTime.format(anomaly.hour)
        spend = Money(micros: anomaly.verdict.spend, currency: anomaly.currency).display
        baseline = Money(micros: anomaly.verdict.baseline, currency: anomaly.currency).display
        mad = Money(micros: anomaly.verdict.mad, currency: anomaly.currency).display
        ratio = anomaly.verdict.ratio
    }
}
