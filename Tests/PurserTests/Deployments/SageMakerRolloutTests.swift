// The SageMaker driver end to end against moto (an AWS emulator from PyPI) on loopback: a first
// canary goes live, a second is aborted mid-way and rolled back, and nothing of it is left at the
// provider; credentials the provider rejects fail the deployment at once, without retries.
// moto accepts any signature (the SigV4 vectors check signing), answers CreateEndpoint InService
// at once, and serves GetMetricData with no data (so these deployments gate on nothing).
// moto 5.2.5 has no UpdateEndpoint: `UpdateEndpointReplay` answers it as AWS's API reference
// documents (HTTP 200, {"EndpointArn": …}) and carries the change to moto by deleting the endpoint
// and creating it again with the new configuration, which is what UpdateEndpoint ends in.
import Foundation
@testable import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// World.http for these tests: moto, with UpdateEndpoint replayed as documented.
struct UpdateEndpointReplay: OutboundHTTP {
    let calls = Locked([String]())

    func send(_ request: ClientRequest, options: HTTPClient.Options) throws -> ClientResponse {
        let target = request.headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? "monitoring"
        calls.withLock { $0.append(target) }
        guard target == "SageMaker.UpdateEndpoint" else { return try LiveHTTP().send(request, options: options) }
        let input = try JSONSerialization.jsonObject(with: Data(request.body ?? [])) as! [String: String]
        let name = input["EndpointName"]!
        for (action, body) in [
            ("DeleteEndpoint", ["EndpointName": name]),
            ("CreateEndpoint", ["EndpointName": name, "EndpointConfigName": input["EndpointConfigName"]!]),
        ] {
            var forwarded = request
            forwarded.headers = request.headers.map { $0.name.lowercased() == "x-amz-target" ? ($0.name, "SageMaker.\(action)") : $0 }
            forwarded.body = Array(try JSONSerialization.data(withJSONObject: body))
            let answer = try LiveHTTP().send(forwarded, options: options)
            guard answer.status == 200 else { return answer }
        }
        return ClientResponse(
            status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")],
            body: Array(#"{"EndpointArn":"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/\#(name)"}"#.utf8))
    }
}

@Suite(.serialized) struct SageMakerRolloutTests {
    static let clock = SettableClock(Date(timeIntervalSince1970: 1_795_000_000))
    static let shared = Result { try TestApp(clock: clock) }
    static let settings =
        #"{"execution_role_arn": "arn:aws:iam::123456789012:role/purser-sagemaker", "image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4-tgi2.4-gpu-py311-cu124-ubuntu22.04"}"#

    func fixture(_ slug: String, moto: MotoPeer) throws -> RolloutFixture {
        let app = try Self.shared.get()
        return try RolloutFixture(
            app: app, people: try People(app, slug: slug), clock: Self.clock, targetKind: "sagemaker", settings: Self.settings,
            region: "eu-west-1", endpointURL: moto.url,
            credentials: ProviderCredentials(accessKeyID: "AKIAPURSERTEST000001", secretAccessKey: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"))
    }

    /// What moto holds: model and configuration names, and the endpoint's variants.
    func inventory(_ moto: MotoPeer, _ world: World) throws -> (models: [String], configurations: [String], variants: [String]) {
        let driver = SageMakerDriver(
            region: "eu-west-1", endpointURL: moto.url,
            keys: ProviderCredentials(accessKeyID: "AKIAPURSERTEST000001", secretAccessKey: "x"), settings: SageMakerSettings(),
            world: world)
        let models = (try driver.call("ListModels", ["MaxResults": 100])["Models"] as? [[String: Any]] ?? []).compactMap {
            $0["ModelName"] as? String
        }
        let configurations = (try driver.call("ListEndpointConfigs", ["MaxResults": 100])["EndpointConfigs"] as? [[String: Any]] ?? [])
            .compactMap { $0["EndpointConfigName"] as? String }
        let endpoints = (try driver.call("ListEndpoints", ["MaxResults": 100])["Endpoints"] as? [[String: Any]] ?? []).compactMap {
            $0["EndpointName"] as? String
        }
        let variants = try endpoints.flatMap { try driver.describe(endpoint: $0).variants.keys.sorted() }
        return (models.sorted(), configurations.sorted(), variants)
    }

    @Test func aCanaryGoesLiveThenAnAbortedOneLeavesNothingBehind() throws {
        let moto = try MotoPeer()
        let http = UpdateEndpointReplay()
        let world = World(clock: Self.clock, http: http)
        let f = try fixture("aws", moto: moto)
        let first = try f.version("1.0.0")
        let one = try f.approved(first, steps: [50, 100], bake: 120)
        #expect(
            try f.drive(one, until: ["live", "rolled_back", "failed"], world: world) == "live",
            "\(String(describing: try? f.events(one).map(\.reason)))")
        let endpoint = ProviderNames.endpoint(name: "chat", id: f.endpoint)
        let v1 = ProviderNames.variant(version: first)
        var held = try inventory(moto, world)
        #expect(held.variants == [v1])
        #expect(held.models == [ProviderNames.model(endpoint: endpoint, variant: v1)])
        #expect(
            held.configurations == [
                ProviderNames.configuration(endpoint: endpoint, revision: ProviderNames.revision(deployment: one, stage: "f"))
            ])
        // Live: the endpoint is probed through SageMaker's runtime at the target's address (moto here).
        let owner = try f.app.database.connect()
        func probe() throws -> (url: String, kind: String, enabled: Bool)? {
            try owner.query("SELECT url, kind, enabled FROM probe_targets WHERE endpoint_id = $1", [f.endpoint]).first.map {
                (try $0.require(0), try $0.require(1), try $0.require(2))
            }
        }
        let base = moto.url.hasSuffix("/") ? String(moto.url.dropLast()) : moto.url
        let runtime = base + "/endpoints/\(endpoint)/invocations-response-stream"
        #expect(try probe()?.url == runtime && probe()?.kind == "sagemaker" && probe()?.enabled == true)
        #expect(try owner.query("SELECT url FROM endpoints WHERE id = $1", [f.endpoint])[0].decode(0, as: String.self) == runtime)

        // The second version reaches its second step, then a person aborts.
        let second = try f.version("1.1.0")
        let two = try f.approved(second, steps: [50, 100], bake: 120)
        #expect(try f.drive(two, until: ["rolling_out"], world: world) == "rolling_out")
        try f.runDue(world: world)
        Self.clock.advance(by: 120)
        try f.runDue(world: world)
        #expect(try f.state(two).step == 1, "\(String(describing: try? f.events(two).map(\.action)))")
        try f.worker.pool.query(
            "UPDATE deployments SET state = 'rolling_back', abort_requested = true, version = version + 1 WHERE id = $1", [two])
        #expect(
            try f.drive(two, until: ["aborted", "rolled_back", "failed"], world: world) == "aborted",
            "\(String(describing: try? f.state(two)))")
        held = try inventory(moto, world)
        #expect(held.variants == [v1], "the endpoint serves the first version alone again")
        #expect(held.models == [ProviderNames.model(endpoint: endpoint, variant: v1)], "the aborted version's model is deleted")
        #expect(held.configurations.count == 1 && held.configurations[0].hasSuffix("-r"), "\(held.configurations)")
        #expect(try probe()?.enabled == true, "the first version still serves: still probed")
        let calls = http.calls.withLock { $0 }
        for action in [
            "CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint", "UpdateEndpointWeightsAndCapacities",
            "DescribeEndpoint", "DeleteEndpointConfig", "DeleteModel",
        ] {
            #expect(calls.contains("SageMaker.\(action)"), "\(action) was called")
        }
        #expect(calls.contains("monitoring"), "health came from CloudWatch GetMetricData")
    }

    @Test func aFirstDeploymentRolledBackDeletesTheEndpointAndEverythingMadeForIt() throws {
        let moto = try MotoPeer()
        let http = UpdateEndpointReplay()
        let world = World(clock: Self.clock, http: http)
        let f = try fixture("awsfirst", moto: moto)
        let deployment = try f.approved(try f.version("1.0.0"), steps: [100], bake: 120)
        #expect(try f.drive(deployment, until: ["rolling_out"], world: world) == "rolling_out")
        #expect(try inventory(moto, world).models.count == 1)
        try f.worker.pool.query("UPDATE deployments SET state = 'rolling_back', version = version + 1 WHERE id = $1", [deployment])
        #expect(try f.drive(deployment, until: ["rolled_back", "failed"], world: world) == "rolled_back")
        let held = try inventory(moto, world)
        #expect(held.models.isEmpty && held.configurations.isEmpty && held.variants.isEmpty, "\(held)")
        let probes = try f.app.database.connect().query("SELECT count(*)::int FROM probe_targets WHERE endpoint_id = $1", [f.endpoint])
        #expect(try probes[0].require(0, as: Int.self) == 0, "never live, never probed")
        #expect(http.calls.withLock { $0 }.contains("SageMaker.DeleteEndpoint"))
    }

    @Test func credentialsTheProviderRejectsFailTheDeploymentWithoutRetrying() throws {
        let moto = try MotoPeer(checkCredentials: true)
        let world = World(clock: Self.clock, http: LiveHTTP())
        let f = try fixture("badkeys", moto: moto)
        let deployment = try f.approved(try f.version("1.0.0"), steps: [100])
        let errors = try f.runDue(world: world)
        #expect(errors.count == 1 && errors[0] is PermanentJobFailure, "\(errors)")
        let state = try f.state(deployment)
        #expect(state.state == "failed")
        #expect(state.reason?.contains("rejected the target's credentials") == true, "\(state.reason ?? "")")
        let job = try f.worker.pool.query("SELECT state FROM jobs WHERE kind = 'deployment.reconcile' ORDER BY id DESC LIMIT 1")[0]
        #expect(try job.require(0, as: String.self) == "dead")
    }
}
