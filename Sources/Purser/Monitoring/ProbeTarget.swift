// What Purser probes for a tenant: a live deployment endpoint (kept in step with the deployments'
// `endpoints` table by the tick) or a URL staff added by hand, with how to probe it and its own
// objectives, if any (otherwise the SLA policy's).
import Foundation
import Postgres

public struct ProbeTarget: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// A GET; up when it answers 2xx.
        case http
        /// An OpenAI-compatible streaming chat completion; up when it streams a token and ends.
        case openAIChat = "openai_chat"
        /// An endpoint behind SageMaker's API: a streaming invocation, signed (SageMakerProbe.swift).
        case sagemaker
    }

    public enum Source: String, Sendable, Codable {
        /// A deployment endpoint registered by staff who hold providers.manage.
        case endpoint
        /// A URL a CSE added (monitoring.manage): it must pass the outbound destination checks.
        case manual
    }

    public var tenant: UUID
    public var id: UUID
    public var endpointID: UUID?
    public var source: Source
    public var name: String
    public var url: String
    public var kind: Kind
    public var model: String
    public var sealedCredentials: String?
    public var credentialsHint: String?
    public var intervalSeconds: Int
    public var timeoutMs: Int
    public var availabilityObjective: Double?
    public var latencyObjectiveMs: Int?
    public var ttftObjectiveMs: Int?
    public var enabled: Bool
    public var state: String
    public var stateSince: Date?
    public var lastProbeAt: Date?
    public var lastError: String?
    public var incidentID: UUID?
    public var version: Int

    public var etag: String { "\"v\(version)\"" }

    /// The columns `init(row:)` reads, in order.
    static let columns = """
        tenant_id, id, endpoint_id, source, name, url, kind, model, sealed_credentials, credentials_hint, interval_seconds,
        timeout_ms, availability_objective::float8, latency_objective_ms, ttft_objective_ms, enabled, state, state_since,
        last_probe_at, last_error, incident_id, version
        """
}

extension ProbeTarget {
    init(row: Row) throws {
        self.init(
            tenant: try row.require(0), id: try row.require(1), endpointID: try row.decode(2),
            source: Source(rawValue: try row.require(3)) ?? .manual, name: try row.require(4), url: try row.require(5),
            kind: Kind(rawValue: try row.require(6)) ?? .http, model: try row.require(7), sealedCredentials: try row.decode(8),
            credentialsHint: try row.decode(9), intervalSeconds: try row.require(10), timeoutMs: try row.require(11),
            availabilityObjective: try row.decode(12), latencyObjectiveMs: try row.decode(13), ttftObjectiveMs: try row.decode(14),
            enabled: try row.require(15), state: try row.require(16), stateSince: try row.decode(17), lastProbeAt: try row.decode(18),
            lastError: try row.decode(19), incidentID: try row.decode(20), version: try row.require(21))
    }
}

extension ProbeTarget {
    /// The tenant's targets by name (one, with `only`; the probed ones, with `enabledOnly`), in `tx`.
    static func list(_ tx: Connection, tenant: UUID, only: UUID? = nil, enabledOnly: Bool = false, lock: Bool = false) throws
        -> [ProbeTarget]
    {
        try tx.query(
            """
            SELECT \(columns) FROM probe_targets
            WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id = $2) AND (enabled OR NOT $3::boolean) ORDER BY name LIMIT 1000
            """ + (lock ? " FOR UPDATE" : ""), [tenant, only, enabledOnly]
        ).map(ProbeTarget.init(row:))
    }
}

extension SealedColumn {
    /// A probe target's bearer token or API key, bound to the target.
    static let probeCredentials = SealedColumn(
        table: "probe_targets", column: "sealed_credentials", storage: .text, rowColumns: ["id"]
    ) { "probe-target:" + $0[0] }
}
