// Rollouts on the sandbox provider under the test's clock: a canary that goes live and stops the
// deployment clock, a bad version rolled back by the version's default gates with the figures that
// decided, a step that cannot decide by its deadline, and a provider outage that pauses and
// resumes. One TestApp for the suite's tests, one tenant each.
import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.serialized) struct RolloutSandboxTests {
    static let clock = SettableClock(Date(timeIntervalSince1970: 1_795_000_000))
    static let shared = Result { try TestApp(clock: clock) }

    func fixture(_ slug: String, settings: String = "{}") throws -> RolloutFixture {
        let app = try Self.shared.get()
        return try RolloutFixture(app: app, people: try People(app, slug: slug), clock: Self.clock, settings: settings)
    }

    @Test func aCanaryGoesLiveStepByStepAndStopsTheDeploymentClock() throws {
        let f = try fixture("canary")
        let old = try f.version("1.0.0")
        try f.markLive(old)
        let new = try f.version("1.1.0", defaultGates: #"[{"signal": "p95_latency_ms", "max": 800}]"#)
        let deployment = try f.approved(new, gates: #"[{"signal": "error_rate", "max": 0.02}]"#)

        #expect(try f.drive(deployment, until: ["live", "rolled_back", "failed"]) == "live")

        let events = try f.events(deployment)
        #expect(
            events.map(\.action) == [
                "provision", "step_started", "step_passed", "step_started", "step_passed", "step_started", "promote", "live",
            ])
        // Each decision carries the numbers and the verdict of both gates (its own and the card's).
        let decided = events.filter { $0.action == "step_passed" || $0.action == "promote" }
        for event in decided {
            #expect(event.figures.contains(#""error_rate""#) && event.figures.contains(#""p95_latency_ms""#))
            #expect(event.figures.contains(#""verdict": "pass""#))
        }
        let row = try f.worker.pool.query(
            "SELECT live_version_id, variant_weights::text FROM endpoints WHERE id = $1", [f.endpoint])[0]
        #expect(try row.require(0, as: UUID.self) == new)
        #expect(try row.require(1, as: String.self).contains(#""weight": 100"#))
        let live = try f.worker.pool.query(
            "SELECT live_at IS NOT NULL, reconcile_job_id IS NULL, request_id FROM deployments WHERE id = $1", [deployment])[0]
        #expect(try live.require(0, as: Bool.self) && live.require(1, as: Bool.self))
        let request: UUID = try live.require(2)
        let clocks = try f.app.app.database.inTenant(f.tenant) { try RequestSLA.load($0, tenant: f.tenant, request: request) }
        #expect(clocks?.clocks.clocks[.deployment]?.state == .stopped, "reaching live stops the deployment clock")
        // Only the new version's model and the final configuration are left at the provider.
        let resources = try f.worker.pool.query(
            "SELECT kind || ' ' || name FROM sandbox_resources WHERE tenant_id = $1 ORDER BY 1", [f.tenant]
        ).map { try $0.require(0, as: String.self) }
        // The page's timeline: every transition, each decision's figures, a chart of the gated signals.
        let timeline = try #require(
            try f.app.app.database.inTenant(f.tenant) { try DeploymentTimeline.view($0, tenant: f.tenant, deployment: deployment) })
        #expect(timeline.sandbox && timeline.entries.count == 8)
        #expect(timeline.entries[2].figures.map(\.verdict) == ["pass", "pass"])
        #expect(timeline.chart?.contains("<svg") == true && timeline.chart?.contains("Step 3") == true)
        let html = try #require(
            try Templates(folder: TestEnvironment.root.appendingPathComponent("Templates")).render("deployments/timeline", timeline))
        #expect(
            html.contains("<svg") && html.contains("<td>error rate</td><td>0.20 %</td><td>error rate ≤ 2.00 %</td><td>pass</td>"), "\(html)"
        )
        let endpointName = ProviderNames.endpoint(name: "chat", id: f.endpoint)
        let variant = ProviderNames.variant(version: new)
        #expect(
            resources == [
                "configuration "
                    + ProviderNames.configuration(
                        endpoint: endpointName, revision: ProviderNames.revision(deployment: deployment, stage: "f")),
                "model " + ProviderNames.model(endpoint: endpointName, variant: variant),
            ])
    }

    @Test func aBadVersionIsRolledBackByItsCardsDefaultGatesWithTheFigures() throws {
        // The canary's error rate rises to 5 % at step 2; the deployment names no gates of its own.
        let f = try fixture("failing", settings: #"{"fail": [{"step": 2, "signal": "error_rate", "value": 0.05}]}"#)
        let old = try f.version("1.0.0")
        try f.markLive(old)
        let new = try f.version("2.0.0", defaultGates: #"[{"signal": "error_rate", "max": 0.01}]"#)
        let deployment = try f.approved(new)

        #expect(try f.drive(deployment, until: ["live", "rolled_back", "failed"]) == "rolled_back")

        let events = try f.events(deployment)
        #expect(events.map(\.action) == ["provision", "step_started", "step_passed", "step_started", "rollback", "rolled_back"])
        let rollback = try #require(events.first { $0.action == "rollback" })
        #expect(rollback.step == 1)
        #expect(rollback.reason.contains("error rate was 5.00 %"), "\(rollback.reason)")
        #expect(rollback.figures.contains(#""value": 0.05, "verdict": "fail""#), "\(rollback.figures)")
        // The requester is told once, at the end, with the deciding figures.
        let told = try f.worker.pool.query(
            "SELECT subject FROM notification_deliveries WHERE tenant_id = $1 AND event = 'deployment.rolled_back'", [f.tenant])
        #expect(told.count == 1)
        #expect(try told.first?.require(0, as: String.self).contains("was rolled back") == true)
        let endpoint = try f.worker.pool.query("SELECT live_version_id FROM endpoints WHERE id = $1", [f.endpoint])[0]
        #expect(try endpoint.require(0, as: UUID.self) == old, "the old version stays live")
        // The old version serves alone again and nothing of the new one is left.
        let sandbox = try f.worker.pool.query("SELECT variants::text FROM sandbox_endpoints WHERE tenant_id = $1", [f.tenant])[0]
        #expect(try sandbox.require(0, as: String.self).contains(ProviderNames.variant(version: old)))
        #expect(try !sandbox.require(0, as: String.self).contains(ProviderNames.variant(version: new)))
        let leftovers = try f.worker.pool.query(
            "SELECT count(*) FROM sandbox_resources WHERE tenant_id = $1 AND name LIKE '%' || $2",
            [f.tenant, ProviderNames.variant(version: new)])[0]
        #expect(try leftovers.require(0, as: Int.self) == 0)
    }

    @Test func aStepThatCannotDecideByItsDeadlineRollsBackWithTheReason() throws {
        // One request a minute: never the 20 a gate needs.
        let f = try fixture("quiet", settings: #"{"requests_per_minute": 1}"#)
        let new = try f.version("1.0.0")
        let deployment = try f.approved(new, bake: 60, deadline: 600, gates: #"[{"signal": "error_rate", "max": 0.02}]"#)
        #expect(try f.drive(deployment, until: ["live", "rolled_back", "failed"], limit: 200) == "rolled_back")
        let rollback = try #require(try f.events(deployment).first { $0.action == "rollback" })
        #expect(rollback.reason.contains("could not decide within its progress deadline"), "\(rollback.reason)")
        // A first deployment rolled back leaves no endpoint at all.
        #expect(try f.worker.pool.query("SELECT 1 FROM sandbox_endpoints WHERE tenant_id = $1", [f.tenant]).isEmpty)
        #expect(try f.worker.pool.query("SELECT 1 FROM sandbox_resources WHERE tenant_id = $1", [f.tenant]).isEmpty)
    }

    @Test func aProviderOutagePausesTheRolloutAndItResumesWhenTheProviderAnswers() throws {
        let f = try fixture("outage")
        let new = try f.version("1.0.0")
        let deployment = try f.approved(new, steps: [100], bake: 60)
        #expect(try f.drive(deployment, until: ["rolling_out"]) == "rolling_out")
        try f.worker.pool.query("UPDATE deployment_targets SET settings = '{\"outage\": true}' WHERE id = $1", [f.target])
        #expect(try f.drive(deployment, until: ["paused"]) == "paused")
        let paused = try f.state(deployment)
        #expect(paused.reason?.contains("sandbox provider is unavailable") == true, "\(paused.reason ?? "")")
        try f.worker.pool.query("UPDATE deployment_targets SET settings = '{}' WHERE id = $1", [f.target])
        #expect(try f.drive(deployment, until: ["live", "rolled_back", "failed"]) == "live")
        #expect(try f.events(deployment).map(\.action).contains("resumed"))
    }

    @Test func aPersonPromotingBeforeTheLastStepMovesAllTrafficFirst() throws {
        let f = try fixture("promoted")
        let old = try f.version("1.0.0")
        try f.markLive(old)
        let new = try f.version("1.1.0")
        let deployment = try f.approved(new)
        #expect(try f.drive(deployment, until: ["rolling_out"]) == "rolling_out")
        // As the promote action leaves it: promoting, the reconciler woken.
        try f.app.app.database.inTenant(f.tenant) { tx in
            try tx.query("UPDATE deployments SET state = 'promoting', version = version + 1 WHERE id = $1", [deployment])
            try DeploymentJobs.enqueueReconcile(tx, tenant: f.tenant, deployment: deployment, at: Self.clock.now)
        }
        #expect(try f.drive(deployment, until: ["live", "rolled_back", "failed"]) == "live")
        let variants = try f.worker.pool.query("SELECT variants::text FROM sandbox_endpoints WHERE tenant_id = $1", [f.tenant])[0]
        #expect(try variants.require(0, as: String.self).contains(#""weight": 100"#))
        #expect(
            try !variants.require(0, as: String.self).contains(ProviderNames.variant(version: old)), "the old version's variant is gone")
    }

    @Test func underTheManualPolicyAFailedGatePausesAndAPersonsResumePassesTheStep() throws {
        let f = try fixture("manual", settings: #"{"fail": [{"step": 1, "signal": "error_rate", "value": 0.05}]}"#)
        try f.markLive(try f.version("1.0.0"))
        let deployment = try f.approved(
            try f.version("1.1.0"), steps: [50, 100], gates: #"[{"signal": "error_rate", "max": 0.02}]"#, rollback: "manual")
        #expect(try f.drive(deployment, until: ["paused", "rolled_back"]) == "paused")
        #expect(try f.state(deployment).reason?.contains("Waiting for a person") == true)
        // The resume action: back to rolling_out, the reconciler woken.
        try f.app.app.database.inTenant(f.tenant) { tx in
            try tx.query(
                "UPDATE deployments SET state = 'rolling_out', paused_from = NULL, version = version + 1 WHERE id = $1", [deployment])
            try DeploymentJobs.enqueueReconcile(tx, tenant: f.tenant, deployment: deployment, at: Self.clock.now)
        }
        try f.runDue()
        let events = try f.events(deployment)
        #expect(events.last?.action == "step_passed" && events.last?.reason.contains("a person resumed") == true, "\(events.map(\.action))")
    }
}
