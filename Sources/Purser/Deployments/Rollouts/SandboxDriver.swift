// The sandbox: a simulated provider inside Purser, for demos and tests, labelled "sandbox" wherever
// it shows. Its endpoints, models and configurations are rows (migration 0022), created by the
// drivers' deterministic names (a repeated call finds what it made), and its operations take
// `operation_seconds` of the World's clock. Its metrics are computed, not sampled: requests at the
// configured rate times each variant's weight since its weight last changed, and the configured
// signals, with failure injection ("the canary's error rate rises to 5 % at step 2") applied by step.
import Foundation
import Postgres

/// deployment_targets.settings of a sandbox target; every key optional.
public struct SandboxSettings: Codable, Sendable, Equatable {
    public var latencyMs: Double = 120
    public var errorRate: Double = 0.002
    public var ttftMs: Double = 300
    public var tokensPerSecond: Double = 45
    public var costPer1kTokens: Double?
    public var requestsPerMinute: Double = 600
    public var operationSeconds: Double = 5
    /// Every call fails as unreachable (a provider outage).
    public var outage = false
    public var fail: [Injection] = []
    /// An OpenAI-compatible base URL (…/v1) answering for the sandbox's endpoints, where they are
    /// probed once live (a local model server in a demo, the probe peer in tests); nil: not probed.
    public var servingURL: String?

    /// From step `step` (1: the first traffic, counting every weight change) the variant gets `value`
    /// for `signal`. `variant` "canary" (the default) is any variant but the endpoint's oldest.
    public struct Injection: Codable, Sendable, Equatable {
        public var variant: String?
        public var step: Int
        public var signal: LLMSignal
        public var value: Double
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case latencyMs = "latency_ms", errorRate = "error_rate", ttftMs = "ttft_ms", tokensPerSecond = "tokens_per_second"
        case costPer1kTokens = "cost_per_1k_tokens", requestsPerMinute = "requests_per_minute"
        case operationSeconds = "operation_seconds", outage, fail
        case servingURL = "serving_url"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latencyMs = try c.decodeIfPresent(Double.self, forKey: .latencyMs) ?? latencyMs
        errorRate = try c.decodeIfPresent(Double.self, forKey: .errorRate) ?? errorRate
        ttftMs = try c.decodeIfPresent(Double.self, forKey: .ttftMs) ?? ttftMs
        tokensPerSecond = try c.decodeIfPresent(Double.self, forKey: .tokensPerSecond) ?? tokensPerSecond
        costPer1kTokens = try c.decodeIfPresent(Double.self, forKey: .costPer1kTokens)
        requestsPerMinute = try c.decodeIfPresent(Double.self, forKey: .requestsPerMinute) ?? requestsPerMinute
        operationSeconds = try c.decodeIfPresent(Double.self, forKey: .operationSeconds) ?? operationSeconds
        outage = try c.decodeIfPresent(Bool.self, forKey: .outage) ?? false
        fail = try c.decodeIfPresent([Injection].self, forKey: .fail) ?? []
        servingURL = try c.decodeIfPresent(String.self, forKey: .servingURL).flatMap { $0.isEmpty ? nil : $0 }
    }
}

public struct SandboxDriver: ProviderDriver {
    public var label: String { "sandbox" }
    public var pollInterval: TimeInterval { max(1, min(5, settings.operationSeconds)) }
    let database: Database
    let tenant: UUID
    let target: UUID
    let settings: SandboxSettings
    let clock: any WallClock

    public init(database: Database, tenant: UUID, target: UUID, settings: SandboxSettings, clock: any WallClock) {
        self.database = database
        self.tenant = tenant
        self.target = target
        self.settings = settings
        self.clock = clock
    }

    struct Variant: Codable, Equatable {
        var name: String
        var weight: Int
        var instances: Int
        var versionID: UUID
        enum CodingKeys: String, CodingKey {
            case name, weight, instances
            case versionID = "version_id"
        }
    }

    private func reachable() throws {
        if settings.outage { throw ProviderError.unavailable("the sandbox provider is simulating an outage") }
    }

    public func apply(_ plan: EndpointPlan) throws {
        try reachable()
        let now = clock.now
        let configuration = ProviderNames.configuration(endpoint: plan.endpoint, revision: plan.revision)
        let variants = plan.variants.map { Variant(name: $0.name, weight: $0.weight, instances: $0.instanceCount, versionID: $0.versionID) }
        try database.inTenant(tenant) { tx in
            for variant in plan.variants {
                try insertResource(
                    tx, kind: "model", name: ProviderNames.model(endpoint: plan.endpoint, variant: variant.name), endpoint: plan.endpoint,
                    detail: JSONText(encoding: ["artifact_uri": variant.artifactURI, "instance_type": variant.instanceType]), at: now)
            }
            try insertResource(
                tx, kind: "configuration", name: configuration, endpoint: plan.endpoint, detail: JSONText(encoding: variants), at: now)
            let ready = now.addingTimeInterval(settings.operationSeconds)
            let existing = try tx.query(
                "SELECT configuration FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3 FOR UPDATE",
                [tenant, target, plan.endpoint])
            if existing.isEmpty {
                try tx.query(
                    """
                    INSERT INTO sandbox_endpoints (tenant_id, target_id, name, phase, configuration, variants, step, weights_changed_at, ready_at, created_at)
                    VALUES ($1, $2, $3, 'creating', $4, $5, 1, $6, $7, $6)
                    """, [tenant, target, plan.endpoint, configuration, try JSONText(encoding: variants), now, ready])
            } else if try existing[0].require(0, as: String.self) != configuration {
                // A new configuration: like UpdateEndpoint, the endpoint keeps serving while it updates.
                try tx.query(
                    """
                    UPDATE sandbox_endpoints SET phase = 'updating', configuration = $4, variants = $5, step = step + 1,
                        weights_changed_at = $6, ready_at = $7
                    WHERE tenant_id = $1 AND target_id = $2 AND name = $3
                    """, [tenant, target, plan.endpoint, configuration, try JSONText(encoding: variants), now, ready])
            }
        }
    }

    private func insertResource(_ tx: Connection, kind: String, name: String, endpoint: String, detail: JSONText, at now: Date) throws {
        try tx.query(
            """
            INSERT INTO sandbox_resources (tenant_id, target_id, kind, name, endpoint, detail, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """, [tenant, target, kind, name, endpoint, detail, now])
    }

    public func shiftTraffic(endpoint: String, weights: [String: Int]) throws {
        try reachable()
        let now = clock.now
        try database.inTenant(tenant) { tx in
            let rows = try tx.query(
                "SELECT variants FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3 FOR UPDATE",
                [tenant, target, endpoint])
            guard let row = rows.first else { throw ProviderError.refused("the sandbox has no endpoint \(endpoint)") }
            var variants = try row.require(0, as: JSONText.self).decode([Variant].self)
            guard Set(variants.map(\.name)) == Set(weights.keys) else {
                throw ProviderError.refused(
                    "the sandbox endpoint \(endpoint) has variants \(variants.map(\.name)), not \(weights.keys.sorted())")
            }
            guard variants.contains(where: { weights[$0.name] != $0.weight }) else { return }  // already so: a repeated call
            for index in variants.indices { variants[index].weight = weights[variants[index].name]! }
            try tx.query(
                """
                UPDATE sandbox_endpoints SET phase = 'updating', variants = $4, step = step + 1, weights_changed_at = $5, ready_at = $6
                WHERE tenant_id = $1 AND target_id = $2 AND name = $3
                """,
                [
                    tenant, target, endpoint, try JSONText(encoding: variants), now,
                    now.addingTimeInterval(min(settings.operationSeconds, 1)),
                ])
        }
    }

    public func describe(endpoint: String) throws -> EndpointState {
        try reachable()
        let now = clock.now
        return try database.inTenant(tenant) { tx in
            let rows = try tx.query(
                "SELECT phase, variants, ready_at <= $4 FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3",
                [tenant, target, endpoint, now])
            guard let row = rows.first else { return EndpointState(phase: .absent) }
            let variants = try row.require(1, as: JSONText.self).decode([Variant].self)
            let weights = Dictionary(uniqueKeysWithValues: variants.map { ($0.name, $0.weight) })
            let phase = EndpointState.Phase(rawValue: try row.require(0, as: String.self)) ?? .failed
            if phase != .failed, try row.require(2, as: Bool.self) {
                if phase != .inService {
                    try tx.query(
                        "UPDATE sandbox_endpoints SET phase = 'in_service' WHERE tenant_id = $1 AND target_id = $2 AND name = $3",
                        [tenant, target, endpoint])
                }
                return EndpointState(phase: .inService, variants: weights)
            }
            return EndpointState(phase: phase, variants: weights)
        }
    }

    public func health(endpoint: String, variant: String, from: Date, to: Date) throws -> LLMReading {
        try reachable()
        let row = try database.inTenant(tenant) { tx in
            try tx.query(
                "SELECT variants, step, weights_changed_at FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3",
                [tenant, target, endpoint]
            ).first
        }
        guard let row else { return .empty }
        let variants = try row.require(0, as: JSONText.self).decode([Variant].self)
        guard let index = variants.firstIndex(where: { $0.name == variant }) else { return .empty }
        let step = try row.require(1, as: Int.self)
        // Traffic at this weight began when the weights last changed.
        let start = max(from, try row.require(2, as: Date.self))
        let seconds = max(0, to.timeIntervalSince(start))
        let expected = (settings.requestsPerMinute * Double(variants[index].weight) / 100 * seconds / 60).rounded(.down)
        // Settings stored before they were checked may hold any number: never trap converting it.
        let requests = expected.isFinite ? Int(max(0, min(expected, 1e12))) : 0
        var values: [LLMSignal: Double] = [
            .errorRate: settings.errorRate, .p95LatencyMs: settings.latencyMs, .p95TTFTMs: settings.ttftMs,
            .tokensPerSecond: settings.tokensPerSecond,
        ]
        if let cost = settings.costPer1kTokens { values[.costPer1kTokens] = cost }
        for injection in settings.fail where step >= injection.step {
            let matches = injection.variant.map { $0 == variant || ($0 == "canary" && index > 0) } ?? (index > 0)
            if matches { values[injection.signal] = injection.value }
        }
        return LLMReading(requests: requests, values: values)
    }

    public func delete(endpoint: String) throws {
        try reachable()
        try database.inTenant(tenant) { tx in
            try tx.query("DELETE FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3", [tenant, target, endpoint])
            try tx.query(
                "DELETE FROM sandbox_resources WHERE tenant_id = $1 AND target_id = $2 AND endpoint = $3", [tenant, target, endpoint])
        }
    }

    public func collectGarbage(endpoint: String, keeping: EndpointPlan?) throws {
        try reachable()
        let keep = Self.kept(endpoint: endpoint, keeping)
        try database.inTenant(tenant) { tx in
            try tx.query(
                "DELETE FROM sandbox_resources WHERE tenant_id = $1 AND target_id = $2 AND endpoint = $3 AND NOT (name = ANY($4))",
                [tenant, target, endpoint, keep])
        }
    }

    public func leftovers(endpoint: String, keeping: EndpointPlan?) throws -> [String] {
        try reachable()
        let keep = Self.kept(endpoint: endpoint, keeping)
        return try database.inTenant(tenant) { tx in
            var found = try tx.query(
                """
                SELECT kind || ' ' || name FROM sandbox_resources
                WHERE tenant_id = $1 AND target_id = $2 AND endpoint = $3 AND NOT (name = ANY($4)) ORDER BY kind, name
                """, [tenant, target, endpoint, keep]
            ).map { try $0.require(0, as: String.self) }
            if let row = try tx.query(
                "SELECT variants FROM sandbox_endpoints WHERE tenant_id = $1 AND target_id = $2 AND name = $3", [tenant, target, endpoint]
            ).first {
                let names = Set(keeping?.variants.map(\.name) ?? [])
                if keeping == nil { found.append("endpoint \(endpoint)") }
                for variant in try row.require(0, as: JSONText.self).decode([Variant].self) where !names.contains(variant.name) {
                    found.append("variant \(variant.name) (\(variant.instances) instances)")
                }
            }
            return found
        }
    }

    /// The resource names a plan still uses: its configuration and its variants' models.
    static func kept(endpoint: String, _ plan: EndpointPlan?) -> [String] {
        guard let plan else { return [] }
        return [ProviderNames.configuration(endpoint: endpoint, revision: plan.revision)]
            + plan.variants.map { ProviderNames.model(endpoint: endpoint, variant: $0.name) }
    }
}
