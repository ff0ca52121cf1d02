// The `deployment.reconcile` job: drives one deployment through its state machine, one transition
// per run (approved → provisioning → rolling_out step by step → promoting → live; or rolling_back →
// rolled_back / aborted; or failed), and schedules its own next run for the end of a bake or the
// next poll of a slow provider operation, so no worker is ever held waiting. Every provider call is
// idempotent (ProviderDriver), so a run killed anywhere is simply run again. Gates decide each step
// from the driver's readings; the figures are recorded with the decision (rollout_events). A
// provider that stops answering opens the target's breaker and pauses the rollout until it answers
// again; credentials it rejects fail the deployment and the job at once.
import Foundation
import AWSSignature
import Postgres

public enum RolloutReconciler {
    public struct Settings: Sendable {
        public var keyring: Keyring
        public var breaker: Breaker
        public init(keyring: Keyring, coolDown: TimeInterval = 60, threshold: Int = 3) {
            self.keyring = keyring
            breaker = Breaker(threshold: threshold, coolDown: coolDown, table: .providerTargets)
        }
    }

    public static func register(into handlers: inout JobHandlers, settings: Settings) {
        handlers.register(DeploymentJobs.reconcileKind) { context in try run(context, settings: settings) }
    }

    /// What one run decided: nothing to do, wait for a time, or one transition.
    enum Outcome {
        case idle
        case wait(until: Date, progress: RolloutProgress?)
        case move(RolloutEvent, progress: RolloutProgress?, next: Date?, currentStep: Int? = nil, pausedFrom: DeploymentState? = nil)
    }

    static func run(_ context: JobContext, settings: Settings) throws {
        let payload = try context.job.decode(DeploymentJobs.Payload.self)
        let database = context.database
        let now = context.world.now
        guard
            let facts = try database.inTenant(
                payload.tenant, { try RolloutStore.facts($0, tenant: payload.tenant, deployment: payload.deployment) }),
            facts.reconcileJob == context.job.id, !facts.state.isFinished, facts.state != .pendingApproval
        else { return }
        if facts.state == .paused, facts.progress?.outagePaused != true { return }  // a person's pause waits for a person

        let outcome: Outcome
        var serving: ServingAddress?
        do {
            let driver = try ProviderDrivers.driver(for: facts, context: context, keyring: settings.keyring)
            let admitted = try database.inTenant(facts.tenant) {
                try settings.breaker.admits(facts.targetID, tenant: facts.tenant, at: now, in: $0)
            }
            guard admitted else {
                try commit(
                    pauseForOutage(facts, driver: driver.label, detail: "its breaker is open", settings: settings, at: now), facts, context)
                return
            }
            outcome = try decide(facts, driver: driver, at: now)
            // Going live: where the endpoint now answers, for its probe (ProbeRegistration).
            if case .move(let event, _, _, _, _) = outcome, event.to == .live {
                serving = (driver as? any ServingDriver)?.servingAddress(endpoint: facts.providerEndpoint)
            }
            try database.inTenant(facts.tenant) { try settings.breaker.record(success: true, channel: facts.targetID, at: now, in: $0) }
        } catch let error as ProviderError {
            try handle(error, facts, context: context, settings: settings, at: now)
            return
        }
        try commit(outcome, facts, context, serving: serving.map { ($0, settings.keyring) })
    }

    // MARK: Deciding

    static func decide(_ facts: RolloutFacts, driver: any ProviderDriver, at now: Date) throws -> Outcome {
        var progress = facts.progress
        progress?.outagePaused = false
        let poll = now.addingTimeInterval(driver.pollInterval)
        switch facts.state {
        case .approved:
            if facts.targetKind == "host_pool" {
                return .move(
                    RolloutEvent(
                        action: "failed", to: .failed, reason: "GPU host pools have no driver yet; deploy to a sandbox or SageMaker target."
                    ),
                    progress: nil, next: nil)
            }
            let plan = stagePlan(facts, step: 0, baseline: facts.liveBaseline)
            try driver.apply(plan)
            let started = RolloutProgress(
                plan: plan, baseline: facts.liveBaseline, stageStartedAt: now, inServiceAt: nil, outagePaused: false)
            return .move(
                RolloutEvent(
                    action: "provision", to: .provisioning, step: 0, weight: facts.steps.first,
                    reason:
                        "Creating \(plan.variants.map { "\($0.name) at \($0.weight) %" }.joined(separator: ", ")) on \(driver.label) endpoint \(facts.providerEndpoint)."
                ),
                progress: started, next: poll, currentStep: 0)
        case .provisioning, .promoting, .rollingOut:
            guard var progress, let plan = progress.plan else {
                return .move(
                    RolloutEvent(action: "rollback", to: .rollingBack, reason: "The rollout's progress was lost; rolling back."),
                    progress: nil, next: now)
            }
            let final = finalPlan(facts)
            if facts.state == .promoting, plan.revision != final.revision {
                // A person promoted before the last step: the new version takes all traffic now.
                try driver.apply(final)
                progress.plan = final
                progress.stageStartedAt = now
                progress.inServiceAt = nil
                return .wait(until: poll, progress: progress)
            }
            if facts.state == .rollingOut, let inService = progress.inServiceAt {
                return try judgeStep(facts, driver: driver, progress: progress, plan: plan, inService: inService, at: now, poll: poll)
            }
            let state = try driver.describe(endpoint: facts.providerEndpoint)
            if state.phase == .inService && state.variants == plan.weights {
                progress.inServiceAt = now
                switch facts.state {
                case .promoting:
                    try driver.collectGarbage(endpoint: facts.providerEndpoint, keeping: plan)
                    return .move(
                        RolloutEvent(action: "live", to: .live, step: facts.currentStep, weight: 100, reason: ""), progress: progress,
                        next: nil)
                default:
                    let weight = facts.steps[min(facts.currentStep, facts.steps.count - 1)]
                    return .move(
                        RolloutEvent(
                            action: "step_started", to: .rollingOut, step: facts.currentStep, weight: weight,
                            reason:
                                "Step \(facts.currentStep + 1) of \(facts.steps.count): \(weight) % of traffic on \(facts.candidate.name); baking \(facts.bakeSeconds) s."
                        ),
                        progress: progress, next: now.addingTimeInterval(TimeInterval(facts.bakeSeconds)), currentStep: facts.currentStep)
                }
            }
            if state.phase == .failed || state.phase == .absent {
                return rollback(
                    facts, progress,
                    reason: "The provider reports the endpoint \(state.phase.rawValue)\(state.reason.map { ": \($0)" } ?? ".")", at: now)
            }
            if now >= progress.stageStartedAt.addingTimeInterval(TimeInterval(facts.deadlineSeconds)) {
                return rollback(
                    facts, progress,
                    reason:
                        "The endpoint was not in service with the planned weights within the progress deadline (\(facts.deadlineSeconds) s); it was \(state.phase.rawValue).",
                    at: now)
            }
            return .wait(until: poll, progress: progress)
        case .rollingBack:
            return try rollBack(facts, driver: driver, progress: progress, at: now, poll: poll)
        case .paused:
            // Paused for an outage, and the provider answered: carry on from where it stopped.
            _ = try driver.describe(endpoint: facts.providerEndpoint)
            if progress?.inServiceAt != nil { progress?.inServiceAt = now }
            progress?.stageStartedAt = now
            let back = facts.pausedFrom ?? .rollingOut
            return .move(
                RolloutEvent(action: "resumed", to: back, reason: "The \(driver.label) provider answers again; the rollout carries on."),
                progress: progress, next: now)
        default:
            return .idle
        }
    }

    /// A step in service: wait for its bake, then let the gates decide.
    static func judgeStep(
        _ facts: RolloutFacts, driver: any ProviderDriver, progress: RolloutProgress, plan: EndpointPlan, inService: Date, at now: Date,
        poll: Date
    ) throws -> Outcome {
        var progress = progress
        let bakeEnd = inService.addingTimeInterval(TimeInterval(facts.bakeSeconds))
        if now < bakeEnd { return .wait(until: bakeEnd, progress: progress) }
        let window = TimeInterval(facts.gates.compactMap(\.windowSeconds).max() ?? max(facts.bakeSeconds, 60))
        let from = max(inService, now.addingTimeInterval(-window))
        let candidate = try driver.health(endpoint: facts.providerEndpoint, variant: facts.candidate.name, from: from, to: now)
        let baseline = try progress.baseline.flatMap { base in
            plan.weights[base.name].map { _ in base }
        }.map { try driver.health(endpoint: facts.providerEndpoint, variant: $0.name, from: from, to: now) }
        let results = facts.gates.map {
            RolloutFigures.GateResult(gate: $0, verdict: $0.judge(candidate), value: candidate.values[$0.signal])
        }
        let figures = RolloutFigures(candidate: candidate, baseline: baseline, gates: results)
        let step = facts.currentStep
        let weight = facts.steps[min(step, facts.steps.count - 1)]
        // Under the manual rollback policy a failed gate pauses the rollout; a person who resumes it
        // rather than rolling back has decided this step, so it passes on their word (recorded).
        let overridden = facts.lastEvent.map { $0.action == "gate_failed" && $0.step == step } ?? false
        if !overridden, let failed = results.first(where: { $0.verdict == .fail }) {
            let reason =
                "Step \(step + 1) (\(weight) %): \(failed.gate.signal.label) was \(failed.value.map(failed.gate.signal.display) ?? "?") "
                + "over \(candidate.requests) requests, beyond the gate \(failed.gate.summary)."
            if facts.rollbackPolicy == "manual" {
                return .move(
                    RolloutEvent(
                        action: "gate_failed", to: .paused, step: step, weight: weight,
                        reason: reason + " Waiting for a person to roll back or resume.",
                        figures: figures, window: (from, now)),
                    progress: progress, next: nil, pausedFrom: .rollingOut)
            }
            return .move(
                RolloutEvent(
                    action: "rollback", to: .rollingBack, step: step, weight: weight, reason: reason + " Rolling back.", figures: figures,
                    window: (from, now)),
                progress: progress, next: now)
        }
        if results.contains(where: { $0.verdict == .undecided }) {
            let needed = facts.gates.map { $0.minRequests ?? LLMGate.defaultMinRequests }.max() ?? LLMGate.defaultMinRequests
            if now >= inService.addingTimeInterval(TimeInterval(facts.deadlineSeconds)) {
                return .move(
                    RolloutEvent(
                        action: "rollback", to: .rollingBack, step: step, weight: weight,
                        reason:
                            "Step \(step + 1) (\(weight) %) could not decide within its progress deadline (\(facts.deadlineSeconds) s): \(candidate.requests) requests in the window, \(needed) needed. Rolling back.",
                        figures: figures, window: (from, now)),
                    progress: progress, next: now)
            }
            return .wait(until: poll, progress: progress)
        }
        let verdicts =
            results.isEmpty
            ? "no gates apply; the bake time passed" : results.map { "\($0.gate.summary): \($0.verdict.rawValue)" }.joined(separator: "; ")
        let passed = verdicts + (overridden ? "; a person resumed the rollout after the gate failed" : "")
        if step >= facts.steps.count - 1 {
            let final = finalPlan(facts)
            try driver.apply(final)
            progress.plan = final
            progress.stageStartedAt = now
            progress.inServiceAt = nil
            return .move(
                RolloutEvent(
                    action: "promote", to: .promoting, step: step, weight: weight,
                    reason: "Step \(step + 1) passed (\(passed)); promoting.", figures: figures, window: (from, now)),
                progress: progress, next: poll)
        }
        let next = stagePlan(facts, step: step + 1, baseline: progress.baseline, revision: plan.revision)
        try driver.shiftTraffic(endpoint: facts.providerEndpoint, weights: next.weights)
        progress.plan = next
        progress.stageStartedAt = now
        progress.inServiceAt = nil
        return .move(
            RolloutEvent(
                action: "step_passed", to: .rollingOut, step: step, weight: weight,
                reason: "Step \(step + 1) passed (\(passed)); shifting to \(facts.steps[step + 1]) %.", figures: figures,
                window: (from, now)),
            progress: progress, next: poll, currentStep: step + 1)
    }

    /// Rolling back: put the endpoint back as it was (or delete it when there was nothing before),
    /// wait for the provider, then check nothing of this deployment is left there.
    static func rollBack(_ facts: RolloutFacts, driver: any ProviderDriver, progress: RolloutProgress?, at now: Date, poll: Date) throws
        -> Outcome
    {
        let end: DeploymentState = facts.abortRequested ? .aborted : .rolledBack
        guard var progress, progress.plan != nil else {
            return .move(
                RolloutEvent(action: end == .aborted ? "aborted" : "rolled_back", to: end, reason: "Nothing had reached the provider."),
                progress: nil, next: nil)
        }
        let revision = ProviderNames.revision(deployment: facts.id, stage: "r")
        if progress.plan?.revision != revision {
            let plan = EndpointPlan(
                endpoint: facts.providerEndpoint, revision: revision, variants: progress.baseline.map { [withWeight($0, 100)] } ?? [])
            if plan.variants.isEmpty { try driver.delete(endpoint: facts.providerEndpoint) } else { try driver.apply(plan) }
            progress.plan = plan
            progress.stageStartedAt = now
            progress.inServiceAt = nil
            return .wait(until: poll, progress: progress)
        }
        let plan = progress.plan!
        let state = try driver.describe(endpoint: facts.providerEndpoint)
        let keeping: EndpointPlan? = plan.variants.isEmpty ? nil : plan
        let settled = keeping == nil ? state.phase == .absent : state.phase == .inService && state.variants == plan.weights
        if settled {
            try driver.collectGarbage(endpoint: facts.providerEndpoint, keeping: keeping)
            let left = try driver.leftovers(endpoint: facts.providerEndpoint, keeping: keeping)
            if left.isEmpty {
                let what = keeping.map { "the endpoint serves \($0.variants[0].name) again" } ?? "the endpoint is deleted"
                return .move(
                    RolloutEvent(
                        action: end == .aborted ? "aborted" : "rolled_back", to: end,
                        reason:
                            "Rolled back: \(what); the \(driver.label) provider holds no other variant, model, configuration or capacity of it."
                    ),
                    progress: progress, next: nil)
            }
            if now >= progress.stageStartedAt.addingTimeInterval(TimeInterval(facts.deadlineSeconds)) {
                return .move(
                    RolloutEvent(
                        action: "failed", to: .failed,
                        reason: "The rollback left resources at the provider: \(left.joined(separator: ", "))."), progress: progress,
                    next: nil)
            }
        } else if keeping == nil, state.phase == .inService || state.phase == .failed {
            try driver.delete(endpoint: facts.providerEndpoint)
        } else if now >= progress.stageStartedAt.addingTimeInterval(TimeInterval(facts.deadlineSeconds)) {
            return .move(
                RolloutEvent(
                    action: "failed", to: .failed,
                    reason: "The rollback did not finish within the progress deadline; the endpoint is \(state.phase.rawValue)."),
                progress: progress, next: nil)
        }
        return .wait(until: poll, progress: progress)
    }

    static func rollback(_ facts: RolloutFacts, _ progress: RolloutProgress, reason: String, at now: Date) -> Outcome {
        .move(
            RolloutEvent(action: "rollback", to: .rollingBack, step: facts.currentStep, reason: reason + " Rolling back."),
            progress: progress, next: now)
    }

    /// The endpoint's variants at `step`: the candidate at the step's weight beside the version that
    /// was live (canary), all traffic on the candidate with the old one kept warm (blue-green), or
    /// the candidate alone (direct, or a first deployment).
    static func stagePlan(_ facts: RolloutFacts, step: Int, baseline: VariantPlan?, revision: String? = nil) -> EndpointPlan {
        let weight = facts.steps[min(step, facts.steps.count - 1)]
        var variants: [VariantPlan]
        switch (facts.strategy, baseline) {
        case ("canary", let base?): variants = [withWeight(base, 100 - weight), withWeight(facts.candidate, weight)]
        case ("blue_green", let base?): variants = [withWeight(base, 0), withWeight(facts.candidate, 100)]
        default: variants = [withWeight(facts.candidate, 100)]
        }
        return EndpointPlan(
            endpoint: facts.providerEndpoint, revision: revision ?? ProviderNames.revision(deployment: facts.id, stage: "p"),
            variants: variants)
    }

    /// The new version alone, at all traffic.
    static func finalPlan(_ facts: RolloutFacts) -> EndpointPlan {
        EndpointPlan(
            endpoint: facts.providerEndpoint, revision: ProviderNames.revision(deployment: facts.id, stage: "f"),
            variants: [withWeight(facts.candidate, 100)])
    }

    static func withWeight(_ variant: VariantPlan, _ weight: Int) -> VariantPlan {
        var copy = variant
        copy.weight = weight
        return copy
    }

    // MARK: Failures

    static func handle(_ error: ProviderError, _ facts: RolloutFacts, context: JobContext, settings: Settings, at now: Date) throws {
        switch error {
        case .unavailable(let detail):
            let open = try context.database.inTenant(facts.tenant) { tx -> Bool in
                try settings.breaker.record(success: false, channel: facts.targetID, at: now, in: tx)
                return try !settings.breaker.admits(facts.targetID, tenant: facts.tenant, at: now, in: tx)
            }
            // Until the breaker opens, the queue's backoff retries this run.
            guard open else { throw error }
            try commit(pauseForOutage(facts, driver: facts.targetKind, detail: detail, settings: settings, at: now), facts, context)
        case .rejectedCredentials(let detail):
            try commit(
                .move(
                    RolloutEvent(
                        action: "failed", to: .failed,
                        reason:
                            "The \(facts.targetKind) provider rejected the target's credentials (\(detail)); fix them and file the deployment again."
                    ),
                    progress: facts.progress, next: nil), facts, context)
            throw PermanentJobFailure("deployment \(facts.id.postgresText): \(error)")
        case .refused(let detail):
            if facts.state == .rollingBack || facts.state == .paused {
                try commit(
                    .move(
                        RolloutEvent(action: "failed", to: .failed, reason: "The provider refused the rollback: \(detail)"),
                        progress: facts.progress, next: nil),
                    facts, context)
            } else {
                try commit(
                    .move(
                        RolloutEvent(
                            action: "rollback", to: .rollingBack, step: facts.currentStep,
                            reason: "The provider refused: \(detail). Rolling back."),
                        progress: facts.progress, next: now),
                    facts, context)
            }
        }
    }

    /// A provider outage: a rollout in provisioning, rolling out or promoting is paused (the
    /// reconciler resumes it when a trial call succeeds); any other state just waits.
    static func pauseForOutage(_ facts: RolloutFacts, driver: String, detail: String, settings: Settings, at now: Date) -> Outcome {
        let retry = now.addingTimeInterval(settings.breaker.coolDown)
        var progress = facts.progress
        guard [.provisioning, .rollingOut, .promoting].contains(facts.state) else { return .wait(until: retry, progress: progress) }
        progress?.outagePaused = true
        return .move(
            RolloutEvent(
                action: "paused_outage", to: .paused, step: facts.currentStep,
                reason: "Paused: the \(driver) provider is unavailable (\(detail)). The rollout resumes by itself when it answers again."),
            progress: progress, next: retry, pausedFrom: facts.state)
    }

    // MARK: Writing

    static func commit(_ outcome: Outcome, _ facts: RolloutFacts, _ context: JobContext, serving: (ServingAddress, Keyring)? = nil) throws {
        let now = context.world.now
        try context.database.inTenant(facts.tenant) { tx in
            guard try RolloutStore.stillCurrent(tx, facts, job: context.job.id) else { return }
            switch outcome {
            case .idle:
                return
            case .wait(let until, let progress):
                if let progress { try RolloutStore.saveProgress(tx, facts, progress, at: now) }
                try RolloutStore.schedule(tx, facts, at: until)
            case .move(let event, let progress, let next, let currentStep, let pausedFrom):
                if let progress { try RolloutStore.saveProgress(tx, facts, progress, at: now) }
                try RolloutStore.transition(tx, facts, event, currentStep: currentStep, pausedFrom: pausedFrom, at: now)
                if let next { try RolloutStore.schedule(tx, facts, at: next) }
                try finish(tx, facts, event, progress: progress, at: now)
                if event.to == .live, let (address, keyring) = serving {
                    try ProbeRegistration.wentLive(
                        tx, tenant: facts.tenant, endpoint: facts.endpointID, address: address, keyring: keyring, at: now)
                } else if event.to == .rolledBack || event.to == .aborted, let reached = progress ?? facts.progress, reached.plan != nil {
                    // Only a rollback that reached the provider changed what the endpoint serves.
                    try ProbeRegistration.rolledBack(
                        tx, tenant: facts.tenant, endpoint: facts.endpointID, version: facts.candidate.versionID,
                        restored: reached.baseline?.versionID, at: now)
                }
            }
        }
    }

    /// What reaching an end changes beyond the deployment: the endpoint's live version and the
    /// deployment clock (live), and who is told.
    static func finish(_ tx: Connection, _ facts: RolloutFacts, _ event: RolloutEvent, progress: RolloutProgress?, at now: Date) throws {
        switch event.to {
        case .live:
            let weights = (progress?.plan?.variants ?? [withWeight(facts.candidate, 100)]).map {
                ["version_id": $0.versionID.postgresText, "variant": $0.name, "weight": String($0.weight)]
            }
            try tx.query(
                """
                UPDATE endpoints SET live_version_id = $3, variant_weights = (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'version_id', w->>'version_id', 'variant', w->>'variant', 'weight', (w->>'weight')::int)), '[]')
                    FROM jsonb_array_elements($4::jsonb) w), updated_at = $5
                WHERE tenant_id = $1 AND id = $2
                """, [facts.tenant, facts.endpointID, facts.candidate.versionID, try JSONText(encoding: weights), now])
            try DeploymentClock.reachedLive(tx, tenant: facts.tenant, deployment: facts.id, at: now)
            try tell(
                tx, facts, event: "deployment.finished", subject: "\(facts.title) is live",
                text: "\(facts.title) is live on \(facts.providerEndpoint).", at: now)
        case .rolledBack, .aborted:
            // Told once, at the end, with what decided the rollback (a gate's figures, a deadline, a person).
            let decided =
                try tx.query(
                    """
                    SELECT reason FROM rollout_events WHERE tenant_id = $1 AND deployment_id = $2 AND action = 'rollback'
                    ORDER BY seq DESC LIMIT 1
                    """, [facts.tenant, facts.id]
                ).first?.require(0, as: String.self)
                ?? (event.to == .aborted ? "A person aborted the rollout." : "A person rolled it back.")
            try tell(
                tx, facts, event: "deployment.rolled_back",
                subject: "\(facts.title) was \(event.to == .aborted ? "aborted" : "rolled back")", text: decided + "\n\n" + event.reason,
                severity: .warning, at: now)
        case .failed:
            try tell(
                tx, facts, event: "deployment.finished", subject: "\(facts.title) failed", text: event.reason, severity: .error, at: now)
        default:
            return
        }
    }

    static func tell(
        _ tx: Connection, _ facts: RolloutFacts, event: String, subject: String, text: String,
        severity: NotificationMessage.Severity = .info, at now: Date
    ) throws {
        _ = try Outbox.notify(
            tx, tenant: facts.tenant,
            message: NotificationMessage(
                event: event, subject: subject, text: text, severity: severity,
                dedupKey: "\(event):\(facts.id.postgresText):\(now.timeIntervalSince1970)"),
            people: [facts.requestedBy], at: now)
    }
}

/// The driver for a deployment's target.
enum ProviderDrivers {
    static func driver(for facts: RolloutFacts, context: JobContext, keyring: Keyring) throws -> any ProviderDriver {
        let settings = Data(facts.targetSettings.utf8)
        switch facts.targetKind {
        case "sandbox":
            return SandboxDriver(
                database: context.database, tenant: facts.tenant, target: facts.targetID,
                settings: (try? JSONDecoder().decode(SandboxSettings.self, from: settings)) ?? SandboxSettings(), clock: context.world.clock
            )
        case "sagemaker":
            guard let region = facts.targetRegion,
                let keys = try context.database.inTenant(
                    facts.tenant, { try DeploymentTargets.credentials($0, target: facts.targetID, keyring: keyring) })
            else { throw ProviderError.rejectedCredentials("the target has no region or credentials") }
            return SageMakerDriver(
                region: region, endpointURL: facts.targetURL,
                credentials: AWSCredentials(
                    accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken),
                settings: (try? JSONDecoder().decode(SageMakerSettings.self, from: settings)) ?? SageMakerSettings(), world: context.world)
        default:
            throw ProviderError.refused("GPU host pools have no driver yet; deploy to a sandbox or SageMaker target")
        }
    }
}
