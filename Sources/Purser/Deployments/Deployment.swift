// A deployment as read: a model version going to an environment on a target, how, and where it
// stands; and the request that files one.
import Foundation
import enum HTTPServer.JSONValue
import Postgres

public struct Deployment: Sendable {
    public let id: UUID
    public let tenant: UUID
    public let tenantSlug: String
    public let tenantName: String
    public let modelVersionID: UUID
    public let modelName: String
    public let version: String
    public let environment: (id: UUID, name: String, position: Int)
    public let target: (id: UUID, name: String, kind: TargetKind)
    public let endpoint: (id: UUID, name: String)
    public let instanceType: String?
    public let instanceCount: Int
    public let gpuCount: Int?
    public let strategy: String
    public let steps: [Int]
    public let bakeSeconds: Int
    public let progressDeadlineSeconds: Int
    /// The health gates, as JSON (LLMSignal thresholds, read by the reconciler).
    public let gates: String
    public let rollbackPolicy: String
    public let state: DeploymentState
    public let currentStep: Int
    public let pausedFrom: DeploymentState?
    public let stateReason: String?
    public let abortRequested: Bool
    /// Counts changes: If-Match, and the version each approval was given for.
    public let rowVersion: Int
    public let requestID: UUID
    public let requestNumber: String
    public let requester: (id: UUID, name: String)
    public let createdAt: Date
    public let updatedAt: Date
    public let approvedAt: Date?
    public let liveAt: Date?
    public let finishedAt: Date?

    public var etag: String { "\"v\(rowVersion)\"" }

    static let columns = """
        d.id, d.tenant_id, t.slug, t.name, d.model_version_id, m.name, v.version, d.environment_id, e.name, e.position,
        d.target_id, g.name, g.kind, d.endpoint_id, p.name, d.instance_type, d.instance_count, d.gpu_count, d.strategy,
        d.steps::text, d.bake_seconds, d.progress_deadline_seconds, d.gates::text, d.rollback_policy, d.state, d.current_step,
        d.paused_from, d.state_reason, d.abort_requested, d.version, d.request_id, t.key, r.number, d.requested_by, u.name,
        d.created_at, d.updated_at, d.approved_at, d.live_at, d.finished_at
        """
    static let joins = """
        deployments d JOIN tenants t ON t.id = d.tenant_id
        JOIN model_versions v ON v.tenant_id = d.tenant_id AND v.id = d.model_version_id
        JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
        JOIN environments e ON e.tenant_id = d.tenant_id AND e.id = d.environment_id
        JOIN deployment_targets g ON g.tenant_id = d.tenant_id AND g.id = d.target_id
        JOIN endpoints p ON p.tenant_id = d.tenant_id AND p.id = d.endpoint_id
        JOIN requests r ON r.tenant_id = d.tenant_id AND r.id = d.request_id
        JOIN users u ON u.id = d.requested_by
        """

    static func decode(_ row: Row) throws -> Deployment {
        let steps = try JSONDecoder().decode([Int].self, from: Data(try row.require(19, as: String.self).utf8))
        return Deployment(
            id: try row.require(0), tenant: try row.require(1), tenantSlug: try row.require(2), tenantName: try row.require(3),
            modelVersionID: try row.require(4), modelName: try row.require(5), version: try row.require(6),
            environment: (try row.require(7), try row.require(8), try row.require(9)),
            target: (try row.require(10), try row.require(11), TargetKind(rawValue: try row.require(12)) ?? .sandbox),
            endpoint: (try row.require(13), try row.require(14)), instanceType: try row.decode(15),
            instanceCount: try row.require(16), gpuCount: try row.decode(17), strategy: try row.require(18), steps: steps,
            bakeSeconds: try row.require(20), progressDeadlineSeconds: try row.require(21), gates: try row.require(22),
            rollbackPolicy: try row.require(23), state: DeploymentState(rawValue: try row.require(24)) ?? .failed,
            currentStep: try row.require(25), pausedFrom: try row.decode(26, as: String.self).flatMap(DeploymentState.init(rawValue:)),
            stateReason: try row.decode(27), abortRequested: try row.require(28), rowVersion: try row.require(29),
            requestID: try row.require(30),
            requestNumber: RequestNumbers.display(key: try row.require(31), number: try row.require(32)),
            requester: (try row.require(33), try row.require(34)), createdAt: try row.require(35), updatedAt: try row.require(36),
            approvedAt: try row.decode(37), liveAt: try row.decode(38), finishedAt: try row.decode(39))
    }
}

/// What files a deployment (the API's body; the page's form fills the same).
public struct NewDeployment: Sendable, Decodable {
    public var modelVersionID: String
    public var environment: String
    public var target: String
    public var endpoint: String?
    public var instanceType: String?
    public var instanceCount: Int?
    public var gpuCount: Int?
    public var strategy: String
    public var steps: [Int]?
    public var bakeSeconds: Int?
    public var progressDeadlineSeconds: Int?
    public var gates: JSONValue?
    public var rollbackPolicy: String?
    /// Attach to this existing deployment request instead of filing a new one.
    public var requestID: String?
    public var priority: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case environment, target, endpoint, strategy, steps, gates, priority, note
        case modelVersionID = "model_version_id"
        case instanceType = "instance_type"
        case instanceCount = "instance_count"
        case gpuCount = "gpu_count"
        case bakeSeconds = "bake_seconds"
        case progressDeadlineSeconds = "progress_deadline_seconds"
        case rollbackPolicy = "rollback_policy"
        case requestID = "request_id"
    }

    public init(
        modelVersionID: String, environment: String, target: String, endpoint: String? = nil, instanceType: String? = nil,
        instanceCount: Int? = nil, gpuCount: Int? = nil, strategy: String, steps: [Int]? = nil, bakeSeconds: Int? = nil,
        progressDeadlineSeconds: Int? = nil, gates: JSONValue? = nil, rollbackPolicy: String? = nil, requestID: String? = nil,
        priority: String? = nil, note: String? = nil
    ) {
        self.modelVersionID = modelVersionID
        self.environment = environment
        self.target = target
        self.endpoint = endpoint
        self.instanceType = instanceType
        self.instanceCount = instanceCount
        self.gpuCount = gpuCount
        self.strategy = strategy
        self.steps = steps
        self.bakeSeconds = bakeSeconds
        self.progressDeadlineSeconds = progressDeadlineSeconds
        self.gates = gates
        self.rollbackPolicy = rollbackPolicy
        self.requestID = requestID
        self.priority = priority
        self.note = note
    }

    static let fields = [
        "model_version_id", "environment", "target", "endpoint", "instance_type", "instance_count", "gpu_count", "strategy", "steps",
        "bake_seconds", "progress_deadline_seconds", "gates", "rollback_policy", "request_id", "priority", "note",
    ]
}
