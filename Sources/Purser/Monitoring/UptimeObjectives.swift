// What an endpoint is promised: availability per calendar month in the tenant's time zone, and
// p95 latency and time-to-first-token objectives. They live in the SLA policy JSON under
// "uptime" ({"availability_percent": 99.5, "p95_latency_ms": 2000, "p95_ttft_ms": 800}), looked up
// tenant → plan → Purser key by key; an endpoint's own objectives (probe_targets) win over them.
import Foundation
import Postgres

public struct UptimeObjectives: Sendable, Equatable, Codable {
    public var availabilityPercent: Double?
    public var p95LatencyMs: Int?
    public var p95TTFTMs: Int?

    enum CodingKeys: String, CodingKey {
        case availabilityPercent = "availability_percent", p95LatencyMs = "p95_latency_ms", p95TTFTMs = "p95_ttft_ms"
    }

    public init(availabilityPercent: Double? = nil, p95LatencyMs: Int? = nil, p95TTFTMs: Int? = nil) {
        self.availabilityPercent = availabilityPercent
        self.p95LatencyMs = p95LatencyMs
        self.p95TTFTMs = p95TTFTMs
    }

    /// Purser's own: 99.5 % a month; latency and TTFT objectives only where a policy sets them.
    public static let standard = UptimeObjectives(availabilityPercent: 99.5)

    /// Each key from `self`, else from `fallback`.
    func over(_ fallback: UptimeObjectives) -> UptimeObjectives {
        UptimeObjectives(
            availabilityPercent: availabilityPercent ?? fallback.availabilityPercent, p95LatencyMs: p95LatencyMs ?? fallback.p95LatencyMs,
            p95TTFTMs: p95TTFTMs ?? fallback.p95TTFTMs)
    }

    /// The tenant's objectives and its time zone: the tenant's SLA policy, then its plan's, then Purser's.
    static func forTenant(_ tx: Connection, tenant: UUID) throws -> (objectives: UptimeObjectives, timeZone: TimeZone) {
        let row = try tx.query(
            """
            SELECT (s.policy -> 'uptime')::text, (p.sla_policy -> 'uptime')::text, t.time_zone
            FROM tenants t JOIN plans p ON p.id = t.plan_id LEFT JOIN sla_policies s ON s.tenant_id = t.id WHERE t.id = $1
            """, [tenant]
        ).first
        func decoded(_ column: Int) -> UptimeObjectives {
            guard let text = try? row?.decode(column, as: String.self) else { return UptimeObjectives() }
            return (try? JSONDecoder().decode(UptimeObjectives.self, from: Data(text.utf8))) ?? UptimeObjectives()
        }
        let zone = (try? row?.decode(2, as: String.self)).flatMap { $0.flatMap(TimeZone.init(identifier:)) } ?? TimeZone(identifier: "UTC")!
        return (decoded(0).over(decoded(1)).over(.standard), zone)
    }

    /// The objectives of one target: its own, over the tenant's.
    static func forTarget(_ target: ProbeTarget, tenant: UptimeObjectives) -> UptimeObjectives {
        UptimeObjectives(
            availabilityPercent: target.availabilityObjective, p95LatencyMs: target.latencyObjectiveMs, p95TTFTMs: target.ttftObjectiveMs
        ).over(tenant)
    }
}
