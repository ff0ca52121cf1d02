// What a rollout needs of a provider: an endpoint carrying weighted variants of model versions,
// traffic shifted between them, its state and each variant's health, and everything removed
// again. Every call is safe to repeat: names are derived from the endpoint, version and deployment
// (`ProviderNames`), so a worker killed between a call and its record makes the same call again and
// the provider finds the resource it already made. Calls return at once; slow operations are polled
// through `describe` by a rescheduled job, never waited for. docs/providers.md maps Azure OpenAI
// and Vertex AI onto this shape.
import Foundation

public protocol ProviderDriver: Sendable {
    /// "sandbox" or "sagemaker": shown wherever the driver's work is.
    var label: String { get }

    /// How long to wait before looking again at an operation in progress.
    var pollInterval: TimeInterval { get }

    /// Brings `plan.endpoint` to exactly the plan's variants and weights: creates the endpoint when
    /// absent, otherwise gives it a new configuration named by `plan.revision`.
    func apply(_ plan: EndpointPlan) throws

    /// Changes the weights of variants already on the endpoint (no new capacity).
    func shiftTraffic(endpoint: String, weights: [String: Int]) throws

    /// The endpoint as the provider sees it now (`.absent` once deleted).
    func describe(endpoint: String) throws -> EndpointState

    /// One variant's signals over [from, to).
    func health(endpoint: String, variant: String, from: Date, to: Date) throws -> LLMReading

    /// Deletes the endpoint and every configuration and model made for it.
    func delete(endpoint: String) throws

    /// Deletes the models and configurations made for `endpoint` that `keeping` (variant names
    /// and the current configuration) no longer uses.
    func collectGarbage(endpoint: String, keeping: EndpointPlan?) throws

    /// What is still at the provider for `endpoint` beyond `keeping`: variants holding capacity,
    /// models, configurations. Empty after a clean rollback.
    func leftovers(endpoint: String, keeping: EndpointPlan?) throws -> [String]
}

/// One variant: a model version on its capacity with its share of traffic.
public struct VariantPlan: Codable, Sendable, Equatable {
    public var name: String
    public var versionID: UUID
    public var artifactURI: String
    public var instanceType: String
    public var instanceCount: Int
    /// Percent of traffic, 0…100.
    public var weight: Int

    public init(name: String, versionID: UUID, artifactURI: String, instanceType: String, instanceCount: Int, weight: Int) {
        self.name = name
        self.versionID = versionID
        self.artifactURI = artifactURI
        self.instanceType = instanceType
        self.instanceCount = instanceCount
        self.weight = weight
    }
}

public struct EndpointPlan: Codable, Sendable, Equatable {
    /// The endpoint's name at the provider.
    public var endpoint: String
    /// Names this configuration (and is its client token): the same for every retry of one step.
    public var revision: String
    public var variants: [VariantPlan]

    public init(endpoint: String, revision: String, variants: [VariantPlan]) {
        self.endpoint = endpoint
        self.revision = revision
        self.variants = variants
    }

    public var weights: [String: Int] { Dictionary(uniqueKeysWithValues: variants.map { ($0.name, $0.weight) }) }
}

public struct EndpointState: Sendable, Equatable {
    public enum Phase: String, Sendable { case absent, creating, updating, inService = "in_service", failed }
    public var phase: Phase
    public var variants: [String: Int]
    public var reason: String?

    public init(phase: Phase, variants: [String: Int] = [:], reason: String? = nil) {
        self.phase = phase
        self.variants = variants
        self.reason = reason
    }
}

/// Why a provider call failed, as the reconciler must treat it.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider refused the credentials: no retry will mend it (the job fails permanently).
    case rejectedCredentials(String)
    /// The provider could not be reached or answered 5xx / throttled: retry later; repeated, the
    /// target's breaker opens and rollouts pause.
    case unavailable(String)
    /// The provider refused the request itself (a bad instance type, a quota): the deployment fails.
    case refused(String)

    public var description: String {
        switch self {
        case .rejectedCredentials(let detail): "the provider rejected the credentials: \(detail)"
        case .unavailable(let detail): "the provider is unavailable: \(detail)"
        case .refused(let detail): "the provider refused the request: \(detail)"
        }
    }
}

/// Deterministic provider-side names (letters, digits and hyphens, at most 63 characters: the
/// strictest of SageMaker, Azure and Vertex).
public enum ProviderNames {
    /// The endpoint's name: its Purser name and a piece of its id, so two environments' endpoints of
    /// one name on one account stay apart.
    public static func endpoint(name: String, id: UUID) -> String {
        "\(name.prefix(50))-\(short(id))"
    }

    /// A variant per model version.
    public static func variant(version: UUID) -> String { "v-\(short(version, 12))" }

    /// A model per endpoint and variant.
    public static func model(endpoint: String, variant: String) -> String {
        "\(endpoint.prefix(48))-\(variant)".prefix(63).description
    }

    /// A configuration revision per deployment and stage ("p" provisioning, "f" final, "r" rollback).
    public static func revision(deployment: UUID, stage: String) -> String { "\(short(deployment))-\(stage)" }

    public static func configuration(endpoint: String, revision: String) -> String {
        "\(endpoint.prefix(50))-\(revision)".prefix(63).description
    }

    static func short(_ id: UUID, _ length: Int = 8) -> String {
        String(id.uuidString.lowercased().replacingOccurrences(of: "-", with: "").suffix(length))
    }
}
