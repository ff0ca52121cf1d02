// AWS SageMaker real-time endpoints through their JSON API (awsJson1_1, X-Amz-Target
// SageMaker.<Action>), signed with Signature Version 4, over the World's HTTP. A canary is two
// production variants of one endpoint configuration; traffic moves with
// UpdateEndpointWeightsAndCapacities; promotion and rollback switch the endpoint to a one-variant
// configuration (UpdateEndpoint) and delete what is no longer used. Names come from
// `ProviderNames`, so a repeated call meets "already exists" and carries on.
import AWSSignature
import Foundation
import HTTPClient

/// deployment_targets.settings of a SageMaker target.
public struct SageMakerSettings: Codable, Sendable, Equatable {
    /// The role SageMaker assumes to read the artifact and pull the image.
    public var executionRoleARN: String?
    /// The serving container (e.g. a Hugging Face TGI deep-learning container) for every model.
    public var image: String?

    public init(executionRoleARN: String? = nil, image: String? = nil) {
        self.executionRoleARN = executionRoleARN
        self.image = image
    }

    enum CodingKeys: String, CodingKey {
        case executionRoleARN = "execution_role_arn"
        case image
    }
}

public struct SageMakerDriver: ProviderDriver {
    public var label: String { "sagemaker" }
    /// CreateEndpoint takes minutes; UpdateEndpointWeightsAndCapacities about one.
    public var pollInterval: TimeInterval { 30 }
    let region: String
    /// The API's address: https://api.sagemaker.<region>.amazonaws.com unless the target overrides it.
    let sageMakerURL: String
    let cloudWatchURL: String
    let credentials: AWSCredentials
    let settings: SageMakerSettings
    let world: World

    public init(region: String, endpointURL: String?, credentials: AWSCredentials, settings: SageMakerSettings, world: World) {
        self.region = region
        let base = endpointURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        sageMakerURL = base ?? "https://api.sagemaker.\(region).amazonaws.com"
        cloudWatchURL = base ?? "https://monitoring.\(region).amazonaws.com"
        self.credentials = credentials
        self.settings = settings
        self.world = world
    }

    /// With a target's opened credentials.
    public init(region: String, endpointURL: String?, keys: ProviderCredentials, settings: SageMakerSettings, world: World) {
        self.init(
            region: region, endpointURL: endpointURL,
            credentials: AWSCredentials(
                accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken),
            settings: settings, world: world)
    }

    // MARK: ProviderDriver

    public func apply(_ plan: EndpointPlan) throws {
        guard let role = settings.executionRoleARN else {
            throw ProviderError.refused("the target's settings name no execution_role_arn for SageMaker to assume")
        }
        for variant in plan.variants {
            var container: [String: Any] = ["ModelDataUrl": variant.artifactURI]
            if let image = settings.image { container["Image"] = image }
            try create(
                "CreateModel",
                [
                    "ModelName": ProviderNames.model(endpoint: plan.endpoint, variant: variant.name), "PrimaryContainer": container,
                    "ExecutionRoleArn": role,
                ])
        }
        let configuration = ProviderNames.configuration(endpoint: plan.endpoint, revision: plan.revision)
        try create(
            "CreateEndpointConfig",
            [
                "EndpointConfigName": configuration,
                "ProductionVariants": plan.variants.map {
                    [
                        "VariantName": $0.name, "ModelName": ProviderNames.model(endpoint: plan.endpoint, variant: $0.name),
                        "InitialInstanceCount": $0.instanceCount, "InstanceType": $0.instanceType,
                        "InitialVariantWeight": Double($0.weight),
                    ] as [String: Any]
                },
            ])
        let current = try describeRaw(plan.endpoint)
        if current == nil {
            try create("CreateEndpoint", ["EndpointName": plan.endpoint, "EndpointConfigName": configuration])
        } else if current?["EndpointConfigName"] as? String != configuration {
            _ = try call("UpdateEndpoint", ["EndpointName": plan.endpoint, "EndpointConfigName": configuration])
        }
    }

    public func shiftTraffic(endpoint: String, weights: [String: Int]) throws {
        let state = try describe(endpoint: endpoint)
        guard state.variants != weights else { return }  // already so: a repeated call
        _ = try call(
            "UpdateEndpointWeightsAndCapacities",
            [
                "EndpointName": endpoint,
                "DesiredWeightsAndCapacities": weights.sorted { $0.key < $1.key }.map {
                    ["VariantName": $0.key, "DesiredWeight": Double($0.value)]
                },
            ])
    }

    public func describe(endpoint: String) throws -> EndpointState {
        guard let answer = try describeRaw(endpoint) else { return EndpointState(phase: .absent) }
        var variants: [String: Int] = [:]
        for variant in answer["ProductionVariants"] as? [[String: Any]] ?? [] {
            guard let name = variant["VariantName"] as? String else { continue }
            let weight = (variant["CurrentWeight"] as? NSNumber) ?? (variant["DesiredWeight"] as? NSNumber)
            variants[name] = Self.weight(weight?.doubleValue ?? 0)
        }
        let phase: EndpointState.Phase =
            switch answer["EndpointStatus"] as? String {
            case "InService": .inService
            case "Creating": .creating
            case "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed": .updating
            case "Deleting": .absent
            default: .failed
            }
        return EndpointState(phase: phase, variants: variants, reason: answer["FailureReason"] as? String)
    }

    /// A variant's weight as the provider states it, as a whole number the rollout compares. The
    /// answer is the provider's (or whatever stands at the configured endpoint URL): a weight that is
    /// not a finite number, negative or absurdly large reads as 0 or the cap instead of trapping the
    /// conversion and taking the worker down.
    static func weight(_ value: Double) -> Int {
        guard value.isFinite, value > 0 else { return 0 }
        return Int(min(value, 1_000_000).rounded())
    }

    /// Invocations and Invocation5XXErrors (Sum) and ModelLatency (p95, microseconds) of the variant
    /// from CloudWatch GetMetricData. SageMaker measures neither time to first token nor tokens.
    public func health(endpoint: String, variant: String, from: Date, to: Date) throws -> LLMReading {
        let period = max(60, Int((to.timeIntervalSince(from) / 60).rounded(.up)) * 60)
        var form: [(String, String)] = [
            ("Action", "GetMetricData"), ("Version", "2010-08-01"),
            ("StartTime", RFC3339.string(from)), ("EndTime", RFC3339.string(to)),
        ]
        for (index, (id, metric, stat)) in [
            ("inv", "Invocations", "Sum"), ("err", "Invocation5XXErrors", "Sum"), ("lat", "ModelLatency", "p95"),
        ]
        .enumerated() {
            let prefix = "MetricDataQueries.member.\(index + 1)."
            form += [
                (prefix + "Id", id), (prefix + "MetricStat.Metric.Namespace", "AWS/SageMaker"),
                (prefix + "MetricStat.Metric.MetricName", metric),
                (prefix + "MetricStat.Metric.Dimensions.member.1.Name", "EndpointName"),
                (prefix + "MetricStat.Metric.Dimensions.member.1.Value", endpoint),
                (prefix + "MetricStat.Metric.Dimensions.member.2.Name", "VariantName"),
                (prefix + "MetricStat.Metric.Dimensions.member.2.Value", variant),
                (prefix + "MetricStat.Period", String(period)), (prefix + "MetricStat.Stat", stat),
            ]
        }
        let body = form.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let answer = try send(
            url: cloudWatchURL, service: "monitoring",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Array(body.utf8))
        let series = Self.metricValues(answer.text)
        let invocations = series["inv", default: []].reduce(0, +)
        let errors = series["err", default: []].reduce(0, +)
        var values: [LLMSignal: Double] = [:]
        if invocations > 0 { values[.errorRate] = errors / invocations }
        if let latency = series["lat"]?.max() { values[.p95LatencyMs] = latency / 1000 }
        // Finite figures can still add up past any count (1e308 twice is inf): capped, never trapped.
        return LLMReading(requests: Int(invocations.isFinite ? min(invocations, 1e12) : 1e12), values: values)
    }

    public func delete(endpoint: String) throws {
        let configurations = try names("ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", containing: endpoint)
        let models = try names("ListModels", "Models", "ModelName", containing: endpoint)
        try remove("DeleteEndpoint", ["EndpointName": endpoint])
        for name in configurations { try remove("DeleteEndpointConfig", ["EndpointConfigName": name]) }
        for name in models { try remove("DeleteModel", ["ModelName": name]) }
    }

    public func collectGarbage(endpoint: String, keeping: EndpointPlan?) throws {
        let keep = Set(SandboxDriver.kept(endpoint: endpoint, keeping))
        for name in try names("ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", containing: endpoint)
        where !keep.contains(name) {
            try remove("DeleteEndpointConfig", ["EndpointConfigName": name])
        }
        for name in try names("ListModels", "Models", "ModelName", containing: endpoint) where !keep.contains(name) {
            try remove("DeleteModel", ["ModelName": name])
        }
    }

    public func leftovers(endpoint: String, keeping: EndpointPlan?) throws -> [String] {
        let keep = Set(SandboxDriver.kept(endpoint: endpoint, keeping))
        var found =
            try names("ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", containing: endpoint)
            .filter { !keep.contains($0) }.map { "configuration \($0)" }
            + names("ListModels", "Models", "ModelName", containing: endpoint).filter { !keep.contains($0) }.map { "model \($0)" }
        let state = try describe(endpoint: endpoint)
        if state.phase != .absent {
            if keeping == nil { found.append("endpoint \(endpoint)") }
            let names = Set(keeping?.variants.map(\.name) ?? [])
            found += state.variants.keys.sorted().filter { !names.contains($0) }.map { "variant \($0)" }
        }
        return found
    }

    // MARK: Calls

    private func describeRaw(_ endpoint: String) throws -> [String: Any]? {
        do {
            return try call("DescribeEndpoint", ["EndpointName": endpoint])
        } catch ProviderError.refused(let message) where Self.isMissing(message) {
            return nil
        }
    }

    /// A create whose resource may exist from an earlier try of the same step.
    private func create(_ action: String, _ input: [String: Any]) throws {
        do {
            _ = try call(action, input)
        } catch ProviderError.refused(let message) where message.localizedCaseInsensitiveContains("already exist") {
        }
    }

    /// A delete whose resource may be gone already.
    private func remove(_ action: String, _ input: [String: Any]) throws {
        do {
            _ = try call(action, input)
        } catch ProviderError.refused(let message) where Self.isMissing(message) {
        }
    }

    static func isMissing(_ message: String) -> Bool {
        message.localizedCaseInsensitiveContains("could not find") || message.localizedCaseInsensitiveContains("does not exist")
    }

    /// Every name a List call gives that contains `text` (following NextToken).
    private func names(_ action: String, _ list: String, _ key: String, containing text: String) throws -> [String] {
        var found: [String] = []
        var token: String?
        repeat {
            var input: [String: Any] = ["NameContains": text, "MaxResults": 100]
            if let token { input["NextToken"] = token }
            let answer = try call(action, input)
            found += (answer[list] as? [[String: Any]] ?? []).compactMap { $0[key] as? String }.filter { $0.hasPrefix(text) }
            token = answer["NextToken"] as? String
        } while token != nil
        return found.sorted()
    }

    func call(_ action: String, _ input: [String: Any]) throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys])
        let answer = try send(
            url: sageMakerURL, service: "sagemaker",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "SageMaker.\(action)")], body: Array(body))
        guard !answer.body.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any] ?? [:]
    }

    /// Signs and sends one POST; a 2xx answer is returned, anything else becomes a `ProviderError`.
    private func send(url: String, service: String, headers: [(String, String)], body: [UInt8]) throws -> ClientResponse {
        let host = Self.host(of: url)
        var request = SignableRequest(
            method: "POST", path: "/", headers: [.init("Host", host)] + headers.map { .init($0.0, $0.1) }, body: body)
        request = SigV4(credentials: credentials, region: region, service: service).signed(request, at: world.now)
        let answer: ClientResponse
        do {
            answer = try world.http.send(
                ClientRequest(method: "POST", url: url + "/", headers: request.headers.map { ($0.name, $0.value) }, body: body),
                options: HTTPClient.Options())
        } catch {
            throw ProviderError.unavailable("\(service) at \(host) could not be reached (\(error))")
        }
        guard !(200..<300).contains(answer.status) else { return answer }
        throw Self.error(status: answer.status, body: answer.text)
    }

    /// The provider's refusal as the reconciler must treat it.
    static func error(status: Int, body: String) -> ProviderError {
        var code = ""
        var message = body
        if let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] {
            code = (object["__type"] as? String ?? "").split(separator: "#").last.map(String.init) ?? ""
            message = object["message"] as? String ?? object["Message"] as? String ?? body
        } else if let xmlCode = tag("Code", in: body) {
            code = xmlCode
            message = tag("Message", in: body) ?? body
        }
        let detail = code.isEmpty ? "HTTP \(status): \(message.prefix(300))" : "\(code): \(message.prefix(300))"
        let credentialCodes = [
            "UnrecognizedClientException", "InvalidSignatureException", "InvalidClientTokenId", "ExpiredTokenException",
            "ExpiredToken", "AccessDeniedException", "AccessDenied", "MissingAuthenticationToken", "SignatureDoesNotMatch",
            "IncompleteSignature", "AuthFailure",
        ]
        if status == 401 || status == 403 || credentialCodes.contains(code) { return .rejectedCredentials(detail) }
        if status >= 500 || status == 429 || code.contains("Throttl") || code == "ServiceUnavailable" { return .unavailable(detail) }
        return .refused(detail)
    }

    // MARK: Pieces

    static func host(of url: String) -> String {
        let rest = url.split(separator: "://", maxSplits: 1).last.map(String.init) ?? url
        return String(rest.prefix { $0 != "/" })
    }

    static func formEncode(_ text: String) -> String {
        SignableRequest(method: "GET", query: [.init(text, "")]).encodedQuery.dropLast().description
    }

    static func tag(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    /// GetMetricData's XML: each result's <Id> and the numbers in its <Values>.
    /// Counts and latencies are never negative nor infinite: a value that is (or nan, which would
    /// make the error rate nan and pass every gate) is left out like an unreadable one.
    static func metricValues(_ xml: String) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for chunk in xml.components(separatedBy: "<Id>").dropFirst() {
            guard let id = chunk.components(separatedBy: "</Id>").first, let values = tag("Values", in: chunk) else { continue }
            out[id] = values.components(separatedBy: "<member>").dropFirst().compactMap {
                Double($0.components(separatedBy: "</member>")[0].trimmingCharacters(in: .whitespaces))
            }
            .filter { $0.isFinite && $0 >= 0 }
        }
        return out
    }
}
