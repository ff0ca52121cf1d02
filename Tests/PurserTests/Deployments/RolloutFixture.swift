// A deployment ready for the reconciler, written the way the approval leaves one (state approved,
// its reconcile job enqueued), and a worker's loop run under the test's clock: each due
// `deployment.reconcile` job is run as the worker would run it, then the clock moves to the next.
import Foundation
import Postgres
@testable import Purser
import TestSupport

struct RolloutFixture {
    let app: TestApp
    let people: People
    let clock: any WallClock
    let worker: Database
    let environment: UUID
    let target: UUID
    let endpoint: UUID
    let model: UUID

    init(
        app: TestApp, people: People, clock: any WallClock, targetKind: String = "sandbox", settings: String = "{}",
        region: String? = nil, endpointURL: String? = nil, credentials: ProviderCredentials? = nil
    ) throws {
        self.app = app
        self.people = people
        self.clock = clock
        worker = Database(url: app.database.url, size: 2, worker: true)
        let database = app.app.database
        let now = clock.now
        let tenant = people.tenant
        let owner = people.id("tenant_admin@\(people.slug).test")
        let environment = UUID.v7(at: now)
        let endpoint = UUID.v7(at: now)
        let model = UUID.v7(at: now)
        let made = try DeploymentTargets(database: database, keyring: TestEnvironment.keyring, clock: clock).create(
            NewTarget(
                name: "\(targetKind) target", kind: targetKind, region: region, endpointURL: endpointURL, credentials: credentials,
                settings: settings),
            tenant: tenant, by: owner, actor: .system)
        try database.inTenant(tenant) { tx in
            try tx.query(
                "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, 'staging', 1, $3)",
                [tenant, environment, now])
            try tx.query(
                """
                INSERT INTO endpoints (tenant_id, id, target_id, environment_id, name, created_at, updated_at)
                VALUES ($1, $2, $3, $4, 'chat', $5, $5)
                """, [tenant, endpoint, made.id, environment, now])
            try tx.query(
                """
                INSERT INTO models (tenant_id, id, name, family, source, licence, owner_id, created_at)
                VALUES ($1, $2, 'mistral-7b-instruct', 'mistral', 'open_weights', 'Apache-2.0', $3, $4)
                """, [tenant, model, owner, now])
        }
        self.environment = environment
        target = made.id
        self.endpoint = endpoint
        self.model = model
    }

    var tenant: UUID { people.tenant }

    /// A version of the model; `defaultGates` as its card brings them.
    func version(_ semver: String, defaultGates: String = "[]") throws -> UUID {
        let id = UUID.v7(at: clock.now)
        try app.app.database.inTenant(tenant) { tx in
            try tx.query(
                """
                INSERT INTO model_versions (tenant_id, id, model_id, version, artifact_uri, digest, format, parameter_count, context_length,
                                            default_gates, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, 'safetensors', 7241732096, 32768, $7::jsonb, $8)
                """,
                [
                    tenant, id, model, semver, "s3://models/mistral-7b/\(semver)/model.tar.gz",
                    "sha256:" + String(repeating: "ab", count: 32),
                    JSONText(defaultGates), clock.now,
                ])
        }
        return id
    }

    /// Marks `version` live on the endpoint, as an earlier rollout would have left it.
    func markLive(_ version: UUID) throws {
        try app.app.database.inTenant(tenant) { tx in
            try tx.query("UPDATE endpoints SET live_version_id = $3 WHERE tenant_id = $1 AND id = $2", [tenant, endpoint, version])
        }
    }

    /// An approved deployment of `version` with its linked request and its reconcile job due now.
    func approved(
        _ version: UUID, strategy: String = "canary", steps: [Int] = [10, 50, 100], bake: Int = 300, deadline: Int = 1800,
        gates: String = "[]", rollback: String = "automatic"
    ) throws -> UUID {
        let id = UUID.v7(at: clock.now)
        let requester = people.id("requester@\(people.slug).test")
        let requests = RequestStore(database: app.app.database, clock: clock)
        try app.app.database.inTenant(tenant) { tx in
            let request = try requests.create(
                tx, NewRequest(subject: "Deploy mistral", type: "deployment", priority: "P3"), tenant: tenant, requester: requester,
                actor: .system, at: clock.now)
            try tx.query(
                """
                INSERT INTO deployments (tenant_id, id, model_version_id, environment_id, target_id, endpoint_id, instance_type, instance_count,
                    strategy, steps, bake_seconds, progress_deadline_seconds, gates, rollback_policy, state, request_id, requested_by,
                    created_at, updated_at, approved_at, state_changed_at)
                VALUES ($1, $2, $3, $4, $5, $6, 'ml.g4dn.xlarge', 1, $7, $8::jsonb, $9, $10, $11::jsonb, $12, 'approved', $13, $14,
                        $15, $15, $15, $15)
                """,
                [
                    tenant, id, version, environment, target, endpoint, strategy, try JSONText(encoding: steps), bake, deadline,
                    JSONText(gates),
                    rollback, request.id, requester, clock.now,
                ])
            try DeploymentJobs.enqueueReconcile(tx, tenant: tenant, deployment: id, at: clock.now)
        }
        return id
    }

    func state(_ deployment: UUID) throws -> (state: String, step: Int, reason: String?) {
        let row = try worker.pool.query("SELECT state, current_step, state_reason FROM deployments WHERE id = $1", [deployment])[0]
        return (try row.require(0), try row.require(1), try row.decode(2))
    }

    /// The recorded transitions: (action, to_state, step, figures as text).
    func events(_ deployment: UUID) throws -> [(action: String, to: String, step: Int?, figures: String, reason: String)] {
        try worker.pool.query(
            "SELECT action, to_state, step, figures::text, reason FROM rollout_events WHERE deployment_id = $1 ORDER BY seq", [deployment]
        ).map { (try $0.require(0), try $0.require(1), try $0.decode(2), try $0.require(3), try $0.require(4)) }
    }

    // MARK: A worker under the test's clock

    static let settings = RolloutReconciler.Settings(keyring: TestEnvironment.keyring, coolDown: 60, threshold: 3)

    /// Runs every reconcile job due now, once each, as a worker would (a handler that throws leaves
    /// its job to be retried 10 s later, or dead on `PermanentJobFailure`). Returns the errors thrown.
    @discardableResult
    func runDue(world: World? = nil) throws -> [any Error] {
        let now = clock.now
        let due = try worker.pool.query(
            """
            SELECT id, payload::text, tenant_id, attempts FROM jobs
            WHERE kind = 'deployment.reconcile' AND state IN ('queued', 'failed') AND run_at <= $1 ORDER BY run_at, id
            """, [now])
        var errors: [any Error] = []
        for row in due {
            let id: Int64 = try row.require(0)
            let job = Job(
                id: id, kind: DeploymentJobs.reconcileKind, payload: JSONText(try row.require(1, as: String.self)),
                tenant: try row.decode(2),
                attempt: try row.require(3, as: Int.self) + 1, maxAttempts: 20, timeout: 120)
            do {
                try RolloutReconciler.run(
                    JobContext(job: job, database: worker, world: world ?? app.app.world), settings: Self.settings)
                try worker.pool.query(
                    "UPDATE jobs SET state = 'succeeded', attempts = attempts + 1, finished_at = $2 WHERE id = $1", [id, now])
            } catch {
                errors.append(error)
                let dead = error is PermanentJobFailure
                try worker.pool.query(
                    "UPDATE jobs SET state = $2, attempts = attempts + 1, run_at = $3, last_error = $4 WHERE id = $1",
                    [id, dead ? "dead" : "failed", now.addingTimeInterval(10), "\(error)"])
            }
        }
        return errors
    }

    /// Runs due jobs and moves the clock to the next one until `deployment` reaches `state` (or
    /// nothing is left to run, or `limit` runs pass).
    @discardableResult
    func drive(_ deployment: UUID, until states: Set<String>, limit: Int = 60, world: World? = nil) throws -> String {
        for _ in 0..<limit {
            try runDue(world: world)
            let current = try state(deployment).state
            if states.contains(current) { return current }
            guard
                let next = try worker.pool.query(
                    "SELECT min(run_at) FROM jobs WHERE kind = 'deployment.reconcile' AND state IN ('queued', 'failed')"
                ).first?.decode(0, as: Date.self)
            else { return current }
            if next > clock.now, let settable = clock as? SettableClock { settable.advance(by: next.timeIntervalSince(clock.now)) }
        }
        return try state(deployment).state
    }
}
