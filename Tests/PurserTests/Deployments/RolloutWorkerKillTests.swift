// A real `purser work` process SIGKILLed in the middle of a canary on the sandbox: a second worker
// takes the rollout over (after the killed claim's 2 s lease) and finishes it, and the provider
// holds exactly what one clean rollout leaves, each transition recorded once. A process cannot
// share a test's clock: this runs on the live clock with 1 s bakes and polls.
import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct RolloutWorkerKillTests {
    @Test func aKilledWorkerLeavesNoDuplicateProviderResources() throws {
        let app = try TestApp()
        let f = try RolloutFixture(
            app: app, people: try People(app, slug: "killed"), clock: app.app.world.clock,
            settings: #"{"operation_seconds": 1, "requests_per_minute": 60000}"#)
        let old = try f.version("1.0.0")
        try f.markLive(old)
        let new = try f.version("1.1.0")
        let deployment = try f.approved(new, bake: 1, deadline: 120, gates: #"[{"signal": "error_rate", "max": 0.02, "min_requests": 10}]"#)

        func worker() throws -> (ChildProcess, URL) {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-work-\(UUID().uuidString).log")
            let environment = [
                "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": app.database.url,
                "PURSER_METRICS_LISTEN": "off", "PURSER_JOB_LEASE_SECONDS": "2", "PURSER_MASTER_KEY": TestEnvironment.masterKeyText,
            ]
            return (try ChildProcess([TestEnvironment.purserBinary.path, "work"], environment: environment, output: log.path), log)
        }
        let (first, firstLog) = try worker()
        defer { try? FileManager.default.removeItem(at: firstLog) }
        let midway = try waitUntil(30) { try f.events(deployment).contains { $0.action == "step_passed" } }
        #expect(midway, "\((try? String(contentsOf: firstLog, encoding: .utf8)) ?? "")")
        _ = first.stop(signal: SIGKILL)
        let (second, secondLog) = try worker()
        defer { try? FileManager.default.removeItem(at: secondLog) }
        let live = try waitUntil(60) { try ["live", "rolled_back", "failed"].contains(f.state(deployment).state) }
        #expect(try live && f.state(deployment).state == "live", "\((try? String(contentsOf: secondLog, encoding: .utf8)) ?? "")")
        _ = second.stop(signal: SIGTERM)

        let events = try f.events(deployment)
        #expect(
            events.map { $0.action } == [
                "provision", "step_started", "step_passed", "step_started", "step_passed", "step_started", "promote", "live",
            ], "each transition once")
        let endpointName = ProviderNames.endpoint(name: "chat", id: f.endpoint)
        let resources = try f.worker.pool.query(
            "SELECT kind || ' ' || name FROM sandbox_resources WHERE tenant_id = $1 ORDER BY 1", [f.tenant]
        ).map { try $0.require(0, as: String.self) }
        #expect(
            resources == [
                "configuration "
                    + ProviderNames.configuration(
                        endpoint: endpointName, revision: ProviderNames.revision(deployment: deployment, stage: "f")),
                "model " + ProviderNames.model(endpoint: endpointName, variant: ProviderNames.variant(version: new)),
            ])
        let endpoints = try f.worker.pool.query("SELECT count(*) FROM sandbox_endpoints WHERE tenant_id = $1", [f.tenant])[0]
        #expect(try endpoints.require(0, as: Int.self) == 1)
    }
}
