// Where a live endpoint answers its callers, as its driver knows it once the rollout is live: the
// address Purser's probes use (ProbeRegistration keeps `endpoints.url` and the endpoint's probe
// target in step with it). SageMaker answers through its runtime API under the endpoint's provider
// name; the sandbox answers where its settings' `serving_url` says (an OpenAI-compatible server
// standing in for the simulated endpoint), or nowhere. A driver without an address leaves the
// endpoint unprobed (its page says so).
import Foundation

public struct ServingAddress: Sendable, Equatable {
    /// The probe's URL: an OpenAI base (…/v1) for `openAIChat`, the streaming invocation for `sagemaker`.
    public var url: String
    public var kind: ProbeTarget.Kind

    public init(url: String, kind: ProbeTarget.Kind) {
        self.url = url
        self.kind = kind
    }
}

/// A driver that can say where an endpoint it brought live answers.
protocol ServingDriver {
    func servingAddress(endpoint: String) -> ServingAddress?
}

extension SageMakerDriver: ServingDriver {
    /// SageMaker's runtime (`runtime.sagemaker.<region>`), or the target's endpoint override,
    /// where InvokeEndpointWithResponseStream streams the endpoint's answer.
    func servingAddress(endpoint: String) -> ServingAddress? {
        let api = "https://api.sagemaker.\(region).amazonaws.com"
        let base = sageMakerURL == api ? "https://runtime.sagemaker.\(region).amazonaws.com" : sageMakerURL
        return ServingAddress(url: "\(base)/endpoints/\(endpoint)/invocations-response-stream", kind: .sagemaker)
    }
}

extension SandboxDriver: ServingDriver {
    /// The sandbox simulates its endpoints; when its settings name an OpenAI-compatible server that
    /// answers for them (`serving_url`), that is where they are probed.
    func servingAddress(endpoint: String) -> ServingAddress? {
        settings.servingURL.map { ServingAddress(url: $0, kind: .openAIChat) }
    }
}
