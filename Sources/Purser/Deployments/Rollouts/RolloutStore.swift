// What the reconciler reads and writes: the deployment with its version, endpoint and target as
// one `RolloutFacts`, where the rollout stands (rollout_progress), each transition with the figures
// that decided it (rollout_events), and the next run of its job. A transition is written only if the
// deployment is still in the state the run read and the run is still its current job: a person's
// pause or abort in between wins, and a stale job ends quietly.
import Foundation
import Postgres

struct RolloutFacts: Sendable {
    let tenant: UUID
    let id: UUID
    let state: DeploymentState
    let pausedFrom: DeploymentState?
    let abortRequested: Bool
    let currentStep: Int
    let steps: [Int]
    let strategy: String
    let bakeSeconds: Int
    let deadlineSeconds: Int
    let rollbackPolicy: String
    let gates: [LLMGate]
    let reconcileJob: Int64?
    let candidate: VariantPlan
    let endpointID: UUID
    let providerEndpoint: String
    let targetID: UUID
    let targetKind: String
    let targetRegion: String?
    let targetURL: String?
    let targetSettings: String
    let requestedBy: UUID
    let title: String
    let progress: RolloutProgress?
    /// The variant live on the endpoint before this deployment (nil: a first deployment).
    let liveBaseline: VariantPlan?
    /// The last recorded transition's action and step.
    let lastEvent: (action: String, step: Int?)?
}

struct RolloutProgress: Sendable {
    var plan: EndpointPlan?
    var baseline: VariantPlan?
    var stageStartedAt: Date
    var inServiceAt: Date?
    var outagePaused: Bool
}

/// One recorded transition.
struct RolloutEvent: Sendable {
    var action: String
    var to: DeploymentState
    var step: Int?
    var weight: Int?
    var reason: String
    var figures: RolloutFigures?
    var window: (Date, Date)?
}

/// The numbers that decided a step: both variants' readings and each gate's verdict.
struct RolloutFigures: Codable, Sendable {
    struct GateResult: Codable, Sendable {
        let gate: LLMGate
        let verdict: LLMGate.Verdict
        let value: Double?
    }
    let candidate: LLMReading
    let baseline: LLMReading?
    let gates: [GateResult]
}

enum RolloutStore {
    static func facts(_ tx: Connection, tenant: UUID, deployment: UUID) throws -> RolloutFacts? {
        guard
            let row = try tx.query(
                """
                SELECT d.state, d.paused_from, d.abort_requested, d.current_step, d.steps::text, d.strategy, d.bake_seconds,
                       d.progress_deadline_seconds, d.rollback_policy, d.gates::text, d.reconcile_job_id, d.model_version_id,
                       v.artifact_uri, coalesce(d.instance_type, 'ml.g4dn.xlarge'), d.instance_count, coalesce(v.default_gates, '[]')::text,
                       e.id, e.name, e.live_version_id, lv.artifact_uri,
                       t.id, t.kind, t.region, t.endpoint_url, t.settings::text, d.requested_by, m.name || ' ' || v.version
                FROM deployments d
                JOIN model_versions v ON v.tenant_id = d.tenant_id AND v.id = d.model_version_id
                JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
                JOIN endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
                LEFT JOIN model_versions lv ON lv.tenant_id = e.tenant_id AND lv.id = e.live_version_id
                JOIN deployment_targets t ON t.tenant_id = d.tenant_id AND t.id = d.target_id
                WHERE d.tenant_id = $1 AND d.id = $2
                """, [tenant, deployment]
            ).first
        else { return nil }
        let decoder = JSONDecoder()
        let own = (try? decoder.decode([LLMGate].self, from: Data(try row.require(9, as: String.self).utf8))) ?? []
        let defaults = (try? decoder.decode([LLMGate].self, from: Data(try row.require(15, as: String.self).utf8))) ?? []
        let versionID: UUID = try row.require(11)
        let instanceType: String = try row.require(13)
        let instances: Int = try row.require(14)
        let endpointID: UUID = try row.require(16)
        let providerEndpoint = ProviderNames.endpoint(name: try row.require(17), id: endpointID)
        var baseline: VariantPlan?
        if let live: UUID = try row.decode(18), live != versionID {
            baseline = VariantPlan(
                name: ProviderNames.variant(version: live), versionID: live, artifactURI: try row.decode(19) ?? "",
                instanceType: instanceType, instanceCount: instances, weight: 100)
        }
        return RolloutFacts(
            tenant: tenant, id: deployment,
            state: DeploymentState(rawValue: try row.require(0)) ?? .failed,
            pausedFrom: try row.decode(1, as: String.self).flatMap(DeploymentState.init(rawValue:)),
            abortRequested: try row.require(2), currentStep: try row.require(3),
            steps: (try? decoder.decode([Int].self, from: Data(try row.require(4, as: String.self).utf8))) ?? [100],
            strategy: try row.require(5), bakeSeconds: try row.require(6), deadlineSeconds: try row.require(7),
            rollbackPolicy: try row.require(8), gates: LLMGate.effective(own: own, defaults: defaults),
            reconcileJob: try row.decode(10),
            candidate: VariantPlan(
                name: ProviderNames.variant(version: versionID), versionID: versionID, artifactURI: try row.require(12),
                instanceType: instanceType, instanceCount: instances, weight: 0),
            endpointID: endpointID, providerEndpoint: providerEndpoint,
            targetID: try row.require(20), targetKind: try row.require(21), targetRegion: try row.decode(22), targetURL: try row.decode(23),
            targetSettings: try row.require(24), requestedBy: try row.require(25), title: try row.require(26),
            progress: try progress(tx, tenant: tenant, deployment: deployment), liveBaseline: baseline,
            lastEvent: try tx.query(
                "SELECT action, step FROM rollout_events WHERE tenant_id = $1 AND deployment_id = $2 ORDER BY seq DESC LIMIT 1",
                [tenant, deployment]
            ).first.map { (try $0.require(0, as: String.self), try $0.decode(1, as: Int.self)) })
    }

    static func progress(_ tx: Connection, tenant: UUID, deployment: UUID) throws -> RolloutProgress? {
        guard
            let row = try tx.query(
                """
                SELECT plan::text, baseline::text, stage_started_at, in_service_at, outage_paused FROM rollout_progress
                WHERE tenant_id = $1 AND deployment_id = $2
                """, [tenant, deployment]
            ).first
        else { return nil }
        let decoder = JSONDecoder()
        return RolloutProgress(
            plan: try row.decode(0, as: String.self).flatMap { try? decoder.decode(EndpointPlan.self, from: Data($0.utf8)) },
            baseline: try row.decode(1, as: String.self).flatMap { try? decoder.decode(VariantPlan.self, from: Data($0.utf8)) },
            stageStartedAt: try row.require(2), inServiceAt: try row.decode(3), outagePaused: try row.require(4))
    }

    static func saveProgress(_ tx: Connection, _ facts: RolloutFacts, _ progress: RolloutProgress, at now: Date) throws {
        try tx.query(
            """
            INSERT INTO rollout_progress (tenant_id, deployment_id, provider_endpoint, plan, baseline, stage_started_at, in_service_at,
                                          outage_paused, updated_at)
            VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9)
            ON CONFLICT (tenant_id, deployment_id) DO UPDATE SET plan = EXCLUDED.plan, baseline = EXCLUDED.baseline,
                stage_started_at = EXCLUDED.stage_started_at, in_service_at = EXCLUDED.in_service_at,
                outage_paused = EXCLUDED.outage_paused, updated_at = EXCLUDED.updated_at
            """,
            [
                facts.tenant, facts.id, facts.providerEndpoint, try progress.plan.map { try JSONText(encoding: $0) },
                try progress.baseline.map { try JSONText(encoding: $0) }, progress.stageStartedAt, progress.inServiceAt,
                progress.outagePaused, now,
            ])
    }

    /// Locks the deployment and answers whether this run may still change it.
    static func stillCurrent(_ tx: Connection, _ facts: RolloutFacts, job: Int64) throws -> Bool {
        guard
            let row = try tx.query(
                "SELECT state, reconcile_job_id FROM deployments WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [facts.tenant, facts.id]
            ).first
        else { return false }
        return try row.require(0, as: String.self) == facts.state.rawValue && row.decode(1, as: Int64.self) == job
    }

    /// Writes one transition: the deployment's new state, the event with its figures, the audit.
    static func transition(
        _ tx: Connection, _ facts: RolloutFacts, _ event: RolloutEvent, currentStep: Int? = nil, pausedFrom: DeploymentState? = nil,
        at now: Date
    ) throws {
        let finished = event.to.isFinished
        try tx.query(
            """
            UPDATE deployments SET state = $3, current_step = coalesce($4, current_step), state_reason = nullif($5, ''),
                paused_from = $6, version = version + 1, updated_at = $7,
                state_changed_at = CASE WHEN state <> $3 THEN $7 ELSE state_changed_at END,
                live_at = CASE WHEN $3 = 'live' THEN $7 ELSE live_at END,
                finished_at = CASE WHEN $8 THEN $7 ELSE finished_at END,
                reconcile_job_id = CASE WHEN $8 THEN NULL ELSE reconcile_job_id END
            WHERE tenant_id = $1 AND id = $2
            """,
            [facts.tenant, facts.id, event.to.rawValue, currentStep, event.reason, pausedFrom?.rawValue, now, finished])
        try tx.query(
            """
            INSERT INTO rollout_events (tenant_id, deployment_id, seq, at, from_state, to_state, action, step, weight, reason, figures,
                                        window_start, window_end)
            SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12
            FROM rollout_events WHERE tenant_id = $1 AND deployment_id = $2
            """,
            [
                facts.tenant, facts.id, now, facts.state.rawValue, event.to.rawValue, event.action, event.step, event.weight,
                String(event.reason.prefix(2000)), try event.figures.map { try JSONText(encoding: $0) } ?? JSONText("{}"),
                event.window?.0, event.window?.1,
            ])
        try AuditLog.record(
            AuditEvent(
                tenant: facts.tenant, actorKind: .system, actorID: nil, action: "deployment.\(event.action)", targetType: "deployment",
                targetID: facts.id.postgresText, reason: event.reason.isEmpty ? nil : String(event.reason.prefix(500)),
                before: try JSONText(encoding: ["state": facts.state.rawValue]),
                after: try JSONText(encoding: ["state": event.to.rawValue, "step": event.step.map(String.init) ?? ""]), at: now), in: tx)
    }

    /// The deployment's next reconcile run at `at`: a new job (this one is running and ends when
    /// the handler returns), its id kept on the row so older jobs know they are stale.
    static func schedule(_ tx: Connection, _ facts: RolloutFacts, at: Date) throws {
        guard
            let id = try JobQueue.enqueue(
                tx, kind: DeploymentJobs.reconcileKind,
                payload: try JSONText(encoding: DeploymentJobs.Payload(tenant: facts.tenant, deployment: facts.id)),
                options: JobOptions(tenant: facts.tenant, runAt: at, maxAttempts: 20, timeout: 120))
        else { return }
        try tx.query("UPDATE deployments SET reconcile_job_id = $3 WHERE tenant_id = $1 AND id = $2", [facts.tenant, facts.id, id])
    }
}
