// A deployment that goes live registers its endpoint for probing by itself, at the address its
// driver serves it at, with the target's API key sealed onto the probe; rolling it back to nothing
// retires the probe, rolling back to an earlier version keeps it. The sandbox's endpoints answer at
// the probe peer (an OpenAI-compatible server that refuses calls without the key).
import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.serialized) struct ProbeRegistrationTests {
    static let clock = SettableClock(Date(timeIntervalSince1970: 1_795_100_000))
    static let policy = DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])

    func tick(_ app: TestApp) throws -> Int {
        try ProbeTick.run(
            database: app.app.database, world: World(clock: Self.clock), keyring: TestEnvironment.keyring, destinations: Self.policy,
            publicURL: "http://purser.test")
    }

    func rollBack(_ f: RolloutFixture, _ deployment: UUID) throws {
        try f.app.app.database.inTenant(f.tenant) { tx in
            try tx.query(
                "UPDATE deployments SET state = 'rolling_back', state_changed_at = $3 WHERE tenant_id = $1 AND id = $2",
                [f.tenant, deployment, Self.clock.now])
            try DeploymentJobs.enqueueReconcile(tx, tenant: f.tenant, deployment: deployment, at: Self.clock.now)
        }
    }

    func probe(_ f: RolloutFixture) throws -> ProbeTarget? {
        try f.app.app.database.inTenant(f.tenant) { try ProbeTarget.list($0, tenant: f.tenant).first { $0.endpointID == f.endpoint } }
    }

    func endpoint(_ f: RolloutFixture) throws -> (url: String?, live: UUID?) {
        let row = try f.worker.pool.query("SELECT url, live_version_id FROM endpoints WHERE id = $1", [f.endpoint])[0]
        return (try row.decode(0), try row.decode(1))
    }

    @Test func aLiveDeploymentIsProbedWithItsKeyAndARollbackRetiresTheProbe() throws {
        let peer = try ProbeTargetPeer()
        try peer.set(ttftMs: 20, gapMs: 5, tokens: 3, key: "sk-serving-key-0042")
        let app = try TestApp(clock: Self.clock)
        let serving = "http://127.0.0.1:\(peer.port)/v1"
        let f = try RolloutFixture(
            app: app, people: try People(app, slug: "probed"), clock: Self.clock,
            settings: #"{"serving_url": "\#(serving)", "operation_seconds": 1}"#,
            credentials: ProviderCredentials(accessKeyID: "", secretAccessKey: "", apiKey: "sk-serving-key-0042"))
        let first = try f.version("1.0.0")
        let one = try f.approved(first, strategy: "direct", steps: [100], bake: 30)
        #expect(try tick(app) == 0, "nothing live, nothing probed")
        #expect(try f.drive(one, until: ["live", "rolled_back", "failed"]) == "live")

        // Live: the endpoint has its address and a probe, due at once, with the key sealed to it.
        #expect(try endpoint(f).url == serving)
        let target = try #require(try probe(f))
        #expect(target.source == .endpoint && target.kind == .openAIChat && target.url == serving && target.enabled)
        #expect(target.name == "staging/sandbox target/chat" && target.model == "mistral-7b-instruct")
        #expect(target.credentialsHint == "…0042" && target.sealedCredentials?.contains("0042") == false)
        let before = peer.requests
        #expect(try tick(app) == 1)
        #expect(peer.requests == before + 1, "the peer refuses a call without the key; one call, no retry, means it was sent")
        #expect(try probe(f)?.state == "up")

        // The live version filed again and rolled back before anything reached the provider: the
        // endpoint still serves it, still probed.
        let unsent = try f.approved(first, strategy: "direct", steps: [100], bake: 30)
        try rollBack(f, unsent)
        #expect(try f.drive(unsent, until: ["rolled_back", "failed"]) == "rolled_back")
        #expect(try endpoint(f) == (serving, first))
        #expect(try probe(f)?.enabled == true)

        // A second version goes live; rolling it back restores the first, still probed.
        let second = try f.version("1.1.0")
        let two = try f.approved(second, strategy: "direct", steps: [100], bake: 30)
        #expect(try f.drive(two, until: ["live", "rolled_back", "failed"]) == "live")
        try rollBack(f, two)
        #expect(try f.drive(two, until: ["rolled_back", "failed"]) == "rolled_back")
        #expect(try endpoint(f) == (serving, first))
        #expect(try probe(f)?.enabled == true)

        // Rolling back the first leaves nothing live: no address, the probe disabled (its history kept).
        let three = try f.approved(first, strategy: "direct", steps: [100], bake: 30)
        #expect(try f.drive(three, until: ["live", "rolled_back", "failed"]) == "live")
        try rollBack(f, three)
        #expect(try f.drive(three, until: ["rolled_back", "failed"]) == "rolled_back")
        let after = try endpoint(f)
        #expect(after.url == nil && after.live == nil)
        #expect(try probe(f)?.enabled == false)
        Self.clock.advance(by: 120)
        #expect(try tick(app) == 0, "a retired probe is not run")
        let audited = try app.database.connect().query(
            "SELECT action FROM audit_events WHERE target_id = $1 ORDER BY sequence", [target.id.postgresText]
        ).map { try $0.require(0, as: String.self) }
        #expect(audited.filter { $0 == "monitoring.target_register" }.count == 3 && audited.last == "monitoring.target_retire")
    }
}
