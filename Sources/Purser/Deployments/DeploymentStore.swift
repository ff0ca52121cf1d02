// Filing, reading, deciding and acting on deployments, each change and each denial audited. Filing
// files (or joins) the linked service request in the same transaction; the final approval sets
// `approved` and enqueues the reconciler in the same transaction; actions set the state the state
// machine allows (DeploymentState.swift) and wake the reconciler where it must act.
import Foundation
import struct HTTPServer.FieldError
import Postgres

/// The version an approval or action was based on is no longer current (412, with the current ETag).
public struct DeploymentChanged: DomainError {
    public let current: String
    public var refusal: Refusal { .changedSince }
    public var detail: String? {
        "The deployment changed since you read it (now \(current)); read it again and decide on what it is now."
    }
}

public struct DeploymentStore: Sendable {
    let database: Database
    let clock: any WallClock
    let requests: RequestStore
    /// Purser's public address, for the links in approvers' mail.
    let publicURL: String

    public init(database: Database, clock: any WallClock, requests: RequestStore, publicURL: String) {
        self.database = database
        self.clock = clock
        self.requests = requests
        self.publicURL = publicURL
    }

    // MARK: Reading

    static func load(_ tx: Connection, _ id: UUID, tenant: UUID, lock: Bool = false) throws -> Deployment? {
        try tx.query(
            "SELECT \(Deployment.columns) FROM \(Deployment.joins) WHERE d.tenant_id = $1 AND d.id = $2\(lock ? " FOR UPDATE OF d" : "")",
            [tenant, id]
        ).first.map(Deployment.decode)
    }

    public func find(_ id: UUID, tenant: UUID) throws -> Deployment? {
        try database.inTenant(tenant) { try Self.load($0, id, tenant: tenant) }
    }

    /// A page of the tenant's deployments (nil: every tenant's, for staff), newest first, after `cursor`.
    public func list(tenant: UUID?, state: DeploymentState? = nil, after cursor: UUID? = nil, limit: Int = 50) throws -> [Deployment] {
        let body = { (tx: Connection) throws -> [Deployment] in
            try tx.query(
                """
                SELECT \(Deployment.columns) FROM \(Deployment.joins)
                WHERE ($1::uuid IS NULL OR d.tenant_id = $1) AND ($2::text IS NULL OR d.state = $2)
                  AND ($3::uuid IS NULL OR (d.created_at, d.id) < (SELECT created_at, id FROM deployments WHERE id = $3))
                ORDER BY d.created_at DESC, d.id DESC LIMIT $4
                """, [tenant, state?.rawValue, cursor, limit]
            ).map(Deployment.decode)
        }
        if let tenant { return try database.inTenant(tenant, body) }
        return try database.asStaff(body)
    }

    /// The tenant a deployment belongs to (staff reach across tenants).
    public func tenant(of deployment: UUID) throws -> UUID? {
        try database.asStaff { try $0.query("SELECT tenant_id FROM deployments WHERE id = $1", [deployment]).first?.require(0) }
    }

    static func decisions(_ tx: Connection, tenant: UUID, deployment: UUID) throws -> [ApprovalDecision] {
        try tx.query(
            """
            SELECT a.approver_id, u.name, a.role, a.kind, a.decision, a.deployment_version, a.created_at, a.reason
            FROM deployment_approvals a JOIN users u ON u.id = a.approver_id
            WHERE a.tenant_id = $1 AND a.deployment_id = $2 ORDER BY a.created_at, a.id
            """, [tenant, deployment]
        ).map {
            ApprovalDecision(
                approver: try $0.require(0), name: try $0.require(1), role: try $0.require(2),
                kind: ApprovalDecision.Kind(rawValue: try $0.require(3)) ?? .customer,
                verdict: ApprovalDecision.Verdict(rawValue: try $0.require(4)) ?? .reject, deploymentVersion: try $0.require(5),
                at: try $0.require(6), reason: try $0.require(7))
        }
    }

    /// Where the approvals stand, for the page and the API.
    public struct Approvals: Sendable {
        public let policy: ApprovalPolicy
        public let decisions: [ApprovalDecision]
        public let status: ApprovalStatus
    }

    public func approvals(of deployment: Deployment) throws -> Approvals {
        try database.inTenant(deployment.tenant) { tx in try Self.approvals(tx, deployment, now: clock.now) }
    }

    static func approvals(_ tx: Connection, _ deployment: Deployment, now: Date) throws -> Approvals {
        let policy = try ApprovalPolicies.policy(tx, tenant: deployment.tenant, environment: deployment.environment.id)
        let decisions = try decisions(tx, tenant: deployment.tenant, deployment: deployment.id)
        return Approvals(
            policy: policy, decisions: decisions,
            status: ApprovalRules.evaluate(
                decisions, policy: policy, requester: deployment.requester.id, currentVersion: deployment.rowVersion, now: now))
    }

    /// The rollout's steps and figures, once the reconciler has moved it (nil before).
    public func timeline(of deployment: Deployment) throws -> DeploymentTimeline? {
        try database.inTenant(deployment.tenant) { tx in
            try DeploymentTimeline.view(tx, tenant: deployment.tenant, deployment: deployment.id)
        }
    }

    // MARK: Filing

    /// Files a deployment for `principal` (who holds deployments.request): validated, the linked
    /// request filed or joined, the endpoint found or made, approvers told; all in one transaction.
    public func file(_ new: NewDeployment, tenant: UUID, principal: Principal, actor: AuditActor) throws -> Deployment {
        try principal.require(.deploymentsRequest)
        let plan = try DeploymentRules.plan(new)
        // Gates speak the shared LLM signal vocabulary (LLMGate); the reconciler reads them as written.
        if let gates = new.gates, case let problems = LLMGate.problems(String(decoding: gates.serialized(), as: UTF8.self)),
            !problems.isEmpty
        {
            throw ValidationError(field: "gates", problems.joined(separator: "; "))
        }
        defer { requests.lists?.changed(tenant) }
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            var errors: [FieldError] = []
            let version = try UUID(uuidString: new.modelVersionID).flatMap { try ModelRegistry.version(tx, $0, tenant: tenant) }
            if version == nil {
                errors.append(FieldError(field: "model_version_id", detail: "no model version with this id in this tenant"))
            }
            let environments = try DeploymentTargets.environments(tx, tenant: tenant)
            let environment = environments.first { $0.name == new.environment }
            if environment == nil {
                errors.append(
                    FieldError(
                        field: "environment",
                        detail: "no environment '\(new.environment.prefix(40))'; use one of "
                            + environments.map(\.name).joined(separator: ", ")))
            }
            let targets = try DeploymentTargets.targets(tx, tenant: tenant)
            let target = targets.first { $0.name == new.target }
            if let target, let refusal = target.kind.refusal {
                errors.append(FieldError(field: "target", detail: refusal))
            } else if target == nil {
                errors.append(
                    FieldError(
                        field: "target",
                        detail: "no target '\(new.target.prefix(40))'; use one of " + targets.map(\.name).joined(separator: ", ")))
            }
            if !errors.isEmpty { throw ValidationError(errors) }
            let (modelVersion, env, place) = (version!, environment!, target!)
            let policy = try ApprovalPolicies.policy(tx, tenant: tenant, environment: env.id)
            if let problem = try Self.promotionGate(
                tx, tenant: tenant, version: modelVersion, environment: env, environments: environments, policy: policy, now: now)
            {
                throw ValidationError(field: "environment", problem)
            }
            let request = try linkRequest(
                tx, new, tenant: tenant, version: modelVersion, environment: env, requester: principal.user, actor: actor, now: now)
            let endpointName =
                (new.endpoint ?? "").isEmpty
                ? DeploymentRules.endpointName(for: modelVersion.modelName, environment: env.name) : new.endpoint!
            let endpoint = try Self.endpoint(tx, tenant: tenant, environment: env.id, target: place.id, name: endpointName, now: now)
            let id = UUID.v7(at: now)
            let gates = new.gates.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? modelVersion.defaultGates
            try tx.query(
                """
                INSERT INTO deployments (tenant_id, id, model_version_id, environment_id, target_id, endpoint_id, instance_type,
                    instance_count, gpu_count, strategy, steps, bake_seconds, progress_deadline_seconds, gates, rollback_policy, state,
                    request_id, requested_by, created_at, updated_at, state_changed_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14::jsonb, $15, 'pending_approval',
                    $16, $17, $18, $18, $18)
                """,
                [
                    tenant, id, modelVersion.id, env.id, place.id, endpoint, (new.instanceType ?? "").isEmpty ? nil : new.instanceType,
                    new.instanceCount ?? 1, new.gpuCount, plan.strategy.rawValue, try JSONText(encoding: plan.steps), plan.bakeSeconds,
                    plan.progressDeadlineSeconds, gates, plan.rollbackPolicy, request, principal.user, now,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "deployment.create", targetType: "deployment", targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "model_version": modelVersion.id.postgresText, "version": modelVersion.version, "environment": env.name,
                        "target": place.name, "strategy": plan.strategy.rawValue,
                        "steps": plan.steps.map(String.init).joined(separator: ","),
                        "request": request.postgresText,
                    ]), at: now), in: tx)
            var filed = try Self.load(tx, id, tenant: tenant)!
            let approvals = try Self.approvals(tx, filed, now: now)
            if approvals.status.isSatisfied {
                // A policy that asks for nobody: approved as filed.
                filed = try approve(tx, filed, now: now, actor: actor)
            } else {
                if approvals.status.awaitsCustomer {
                    try DeploymentClock.awaitingApprovers(tx, tenant: tenant, request: request, true, at: now)
                }
                try DeploymentNotices(publicURL: publicURL).approvalNeeded(tx, filed, policy: approvals.policy, at: now)
            }
            return filed
        }
    }

    /// The promotion gate: when an earlier environment exists, the version must have been live there
    /// (and still be) for the policy's time. Nil when it passes; otherwise why not.
    static func promotionGate(
        _ tx: Connection, tenant: UUID, version: ModelVersion, environment: Environment, environments: [Environment],
        policy: ApprovalPolicy, now: Date
    ) throws -> String? {
        guard let previous = environments.last(where: { $0.position < environment.position }) else { return nil }
        let since = try tx.query(
            """
            SELECT min(live_at) FROM deployments
            WHERE tenant_id = $1 AND model_version_id = $2 AND environment_id = $3 AND state = 'live' AND live_at IS NOT NULL
            """, [tenant, version.id, previous.id]
        ).first?.decode(0, as: Date.self)
        let needed = DisplayTime.duration(policy.promotionGate)
        guard let since else {
            return "promotion gate: \(version.modelName) \(version.version) is not live in \(previous.name); "
                + "\(environment.name) takes a version only after it has been live and healthy in \(previous.name)"
                + (policy.promotionGate > 0 ? " for \(needed)" : "")
        }
        let waited = now.timeIntervalSince(since)
        if waited < policy.promotionGate {
            return "promotion gate: \(version.modelName) \(version.version) has been live in \(previous.name) for "
                + "\(DisplayTime.duration(waited)); \(environment.name) takes it after \(needed) there "
                + "(in \(DisplayTime.duration(policy.promotionGate - waited)))"
        }
        return nil
    }

    /// The linked request: the one named (a deployment request of this tenant, still open), or a new one.
    private func linkRequest(
        _ tx: Connection, _ new: NewDeployment, tenant: UUID, version: ModelVersion, environment: Environment, requester: UUID,
        actor: AuditActor, now: Date
    ) throws -> UUID {
        if let reference = new.requestID, !reference.isEmpty {
            let found = try UUID(uuidString: reference).flatMap { id in
                try tx.query("SELECT type, state FROM requests WHERE tenant_id = $1 AND id = $2", [tenant, id]).first.map { row in
                    (id: id, type: try row.require(0, as: String.self), state: try row.require(1, as: String.self))
                }
            }
            guard let found else { throw ValidationError(field: "request_id", "no request with this id in this tenant") }
            if found.type != RequestType.deployment.rawValue {
                throw ValidationError(field: "request_id", "a deployment joins a request of type deployment, not \(found.type)")
            }
            if found.state == RequestState.closed.rawValue || found.state == RequestState.resolved.rawValue {
                throw ValidationError(field: "request_id", "the request is \(found.state): file the deployment on its own")
            }
            return found.id
        }
        let note = (new.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let filed = try requests.create(
            tx,
            NewRequest(
                subject: "Deploy \(version.modelName) \(version.version) to \(environment.name)".prefix(200).description,
                description: note.isEmpty
                    ? "Deployment of \(version.modelName) \(version.version) to \(environment.name) (\(new.strategy))." : note,
                type: RequestType.deployment.rawValue, priority: new.priority ?? RequestPriority.p3.rawValue),
            tenant: tenant, requester: requester, actor: actor, at: now)
        return filed.id
    }

    /// The endpoint of that name in the environment on the target, made when it does not exist yet.
    static func endpoint(_ tx: Connection, tenant: UUID, environment: UUID, target: UUID, name: String, now: Date) throws -> UUID {
        if let id = try tx.query(
            "SELECT id FROM endpoints WHERE tenant_id = $1 AND environment_id = $2 AND target_id = $3 AND name = $4",
            [tenant, environment, target, name]
        ).first?.require(0, as: UUID.self) {
            return id
        }
        let id = UUID.v7(at: now)
        try tx.query(
            """
            INSERT INTO endpoints (tenant_id, id, target_id, environment_id, name, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $6)
            """, [tenant, id, target, environment, name, now])
        return id
    }

    /// Refuses (409, on `field`) taking the deployment's endpoint while another rollout holds it:
    /// one active rollout per endpoint, as the partial unique index deployments_one_active_per_endpoint holds.
    static func requireEndpointFree(_ tx: Connection, _ deployment: Deployment, field: String) throws {
        let states = DeploymentState.allCases.filter(\.isActive).map(\.rawValue)
        if let busy = try tx.query(
            """
            SELECT id FROM deployments WHERE tenant_id = $1 AND endpoint_id = $2 AND id <> $3 AND state = ANY($4::text[]) LIMIT 1
            """, [deployment.tenant, deployment.endpoint.id, deployment.id, states]
        ).first?.require(0, as: UUID.self) {
            throw ValidationError(
                field: field,
                "one active rollout per endpoint: \(deployment.endpoint.name) is being changed by deployment \(busy.postgresText); "
                    + "wait for it to finish or abort it", refusal: .conflict)
        }
    }

    /// Sets `approved` and enqueues the reconciler, in `tx`: refused while another rollout holds the endpoint.
    private func approve(_ tx: Connection, _ deployment: Deployment, now: Date, actor: AuditActor) throws -> Deployment {
        try Self.requireEndpointFree(tx, deployment, field: "endpoint")
        try tx.query(
            """
            UPDATE deployments SET state = 'approved', approved_at = $3, state_changed_at = $3, updated_at = $3, version = version + 1
            WHERE tenant_id = $1 AND id = $2
            """, [deployment.tenant, deployment.id, now])
        try DeploymentJobs.enqueueReconcile(tx, tenant: deployment.tenant, deployment: deployment.id, at: now)
        try AuditLog.record(
            AuditEvent(
                tenant: deployment.tenant, actor: actor, action: "deployment.approved", targetType: "deployment",
                targetID: deployment.id.postgresText, before: try JSONText(encoding: ["state": deployment.state.rawValue]),
                after: try JSONText(encoding: ["state": DeploymentState.approved.rawValue]), at: now), in: tx)
        return try Self.load(tx, deployment.id, tenant: deployment.tenant)!
    }

    // MARK: Deciding

    /// Records `principal`'s decision (a customer's approval or rejection, or the provider's
    /// sign-off) on the deployment as it is at `expected` (an ETag; nil: as it is now). The last
    /// approval the policy needs sets `approved` and enqueues the reconciler. Refusals are audited.
    public func decide(
        _ id: UUID, tenant: UUID, verdict: ApprovalDecision.Verdict, reason: String, expected: String?, principal: Principal,
        actor: AuditActor
    ) throws -> Deployment {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.count > 2000 || reason.contains("\u{0}") { throw ValidationError(field: "reason", "up to 2,000 characters") }
        if verdict == .reject && reason.isEmpty { throw ValidationError(field: "reason", "say why you reject it") }
        // Staff sign off for the provider; a customer's approver approves for the customer. Nobody does both.
        let kind: ApprovalDecision.Kind
        let role: String
        if let customer = principal.tenantRole, principal.can(.deploymentsApprove) {
            (kind, role) = (.customer, customer.rawValue)
        } else if let staff = principal.staffRole, principal.can(.deploymentsSignoff) {
            (kind, role) = (.providerSignoff, staff.rawValue)
        } else {
            throw Forbidden(permission: .deploymentsApprove, user: principal.user, tenant: tenant)
        }
        do {
            return try database.inTenant(tenant) { tx in
                let now = clock.now
                guard let current = try Self.load(tx, id, tenant: tenant, lock: true) else { throw NotFound() }
                // Deciding is a sensitive act: only a person whose second factor is on (a token with
                // approvals:write was made for one; this holds if it was turned off since).
                if try tx.query("SELECT 1 FROM users WHERE id = $1 AND totp_enabled_at IS NOT NULL", [principal.user]).isEmpty {
                    throw ApprovalRefused(
                        rule: .secondFactorMissing,
                        message: "deciding on a deployment needs a second factor: set one up on the account page")
                }
                if let expected, !IfMatch.admits(expected, current: current.etag) { throw DeploymentChanged(current: current.etag) }
                guard current.state == .pendingApproval else {
                    throw ValidationError.transitionRefused(
                        field: "decision", state: current.state.rawValue, allowed: current.state.actions.map(\.rawValue),
                        "\(current.state.labelWithArticle) deployment takes no more decisions")
                }
                let before = try Self.approvals(tx, current, now: now)
                let decision = ApprovalDecision(
                    approver: principal.user, role: role, kind: kind, verdict: verdict, deploymentVersion: current.rowVersion, at: now,
                    reason: reason)
                try ApprovalRules.check(
                    decision, policy: before.policy, requester: current.requester.id, existing: before.decisions,
                    currentVersion: current.rowVersion, now: now)
                try tx.query(
                    """
                    INSERT INTO deployment_approvals (tenant_id, id, deployment_id, deployment_version, approver_id, role, kind, decision,
                                                      reason, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    """,
                    [tenant, UUID.v7(at: now), id, current.rowVersion, principal.user, role, kind.rawValue, verdict.rawValue, reason, now])
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor,
                        action: kind == .providerSignoff ? "deployment.signoff" : "deployment.\(verdict.rawValue)",
                        targetType: "deployment", targetID: id.postgresText,
                        after: try JSONText(encoding: [
                            "decision": verdict.rawValue, "role": role, "kind": kind.rawValue, "reason": reason,
                            "deployment_version": String(current.rowVersion),
                        ]), at: now), in: tx)
                if verdict == .reject {
                    try tx.query(
                        """
                        UPDATE deployments SET state = 'rejected', state_reason = $3, state_changed_at = $4, updated_at = $4,
                               finished_at = $4, version = version + 1
                        WHERE tenant_id = $1 AND id = $2
                        """, [tenant, id, "rejected by \(kind == .customer ? "the customer" : "the provider"): \(reason)", now])
                    try DeploymentClock.ended(tx, tenant: tenant, request: current.requestID, at: now)
                    return try Self.load(tx, id, tenant: tenant)!
                }
                let after = try Self.approvals(tx, current, now: now)
                if after.status.isSatisfied {
                    if before.status.awaitsCustomer {
                        try DeploymentClock.awaitingApprovers(tx, tenant: tenant, request: current.requestID, false, at: now)
                    }
                    return try approve(tx, current, now: now, actor: actor)
                }
                if before.status.awaitsCustomer && !after.status.awaitsCustomer {
                    // Only the provider's sign-off is missing now: that wait counts against the clock.
                    try DeploymentClock.awaitingApprovers(tx, tenant: tenant, request: current.requestID, false, at: now)
                }
                return try Self.load(tx, id, tenant: tenant)!
            }
        } catch let refused as ApprovalRefused {
            auditDenial(id, tenant: tenant, actor: actor, rule: refused.rule.rawValue, detail: refused.message)
            throw refused
        } catch let stale as DeploymentChanged {
            auditDenial(
                id, tenant: tenant, actor: actor, rule: "changed_since", detail: "decided on \(expected ?? ""), now \(stale.current)")
            throw stale
        } catch let refused as ValidationError where refused.fieldErrors.first?.field == "decision" || refused.refusal == .conflict {
            auditDenial(id, tenant: tenant, actor: actor, rule: "state", detail: refused.description)
            throw refused
        }
    }

    /// A refused decision or action, recorded in a transaction of its own (the refused one rolled back).
    func auditDenial(_ id: UUID, tenant: UUID, actor: AuditActor, rule: String, detail: String) {
        _ = try? database.inTenant(tenant) { tx in
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "deployment.denied", targetType: "deployment", targetID: id.postgresText,
                    after: try JSONText(encoding: ["rule": rule, "detail": String(detail.prefix(500))]), at: clock.now), in: tx)
        }
    }

    // MARK: Acting

    /// Pause, resume, abort, promote or roll back: sets the state the state machine allows from the
    /// current one (422 naming `state` and `allowed` otherwise) and wakes the reconciler where it
    /// must act. `expected`: an ETag the change is based on (nil: as it is now).
    public func act(
        _ action: DeploymentAction, on id: UUID, tenant: UUID, expected: String?, reason: String?, principal: Principal,
        actor: AuditActor
    ) throws -> Deployment {
        try principal.require(.deploymentsRequest)
        let note = (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if note.count > 2000 || note.contains("\u{0}") { throw ValidationError(field: "reason", "up to 2,000 characters") }
        do {
            return try database.inTenant(tenant) { tx in
                let now = clock.now
                guard let current = try Self.load(tx, id, tenant: tenant, lock: true) else { throw NotFound() }
                if let expected, !IfMatch.admits(expected, current: current.etag) { throw DeploymentChanged(current: current.etag) }
                guard DeploymentAction.operations.contains(action),
                    let next = action.target(from: current.state, pausedFrom: current.pausedFrom)
                else {
                    let allowed = current.state.actions.filter(DeploymentAction.operations.contains).map(\.rawValue)
                    throw ValidationError.transitionRefused(
                        field: "action", state: current.state.rawValue, allowed: allowed,
                        allowed.isEmpty
                            ? "\(current.state.labelWithArticle) deployment takes no action"
                            : "\(current.state.labelWithArticle) deployment cannot \(action.rawValue); it can: \(allowed.joined(separator: ", "))"
                    )
                }
                // Rolling back a live deployment takes the endpoint again.
                if next.isActive && !current.state.isActive { try Self.requireEndpointFree(tx, current, field: "action") }
                let why = note.isEmpty ? "\(action.rawValue) by a person" : "\(action.rawValue): \(note)"
                try tx.query(
                    """
                    UPDATE deployments SET state = $3, paused_from = $4, abort_requested = abort_requested OR $5, state_reason = $6,
                           state_changed_at = $7, updated_at = $7, version = version + 1,
                           finished_at = CASE WHEN $3 = 'aborted' THEN $7 ELSE finished_at END
                    WHERE tenant_id = $1 AND id = $2
                    """,
                    [
                        tenant, id, next.rawValue, action == .pause ? current.state.rawValue : nil, action == .abort, why, now,
                    ])
                if next == .aborted {
                    try DeploymentClock.ended(tx, tenant: tenant, request: current.requestID, at: now)
                } else if action.wakesReconciler {
                    try DeploymentJobs.enqueueReconcile(tx, tenant: tenant, deployment: id, at: now)
                }
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "deployment.\(action.rawValue)", targetType: "deployment",
                        targetID: id.postgresText, before: try JSONText(encoding: ["state": current.state.rawValue]),
                        after: try JSONText(encoding: ["state": next.rawValue, "reason": note]), at: now), in: tx)
                return try Self.load(tx, id, tenant: tenant)!
            }
        } catch let refused as ValidationError where refused.fieldErrors.first?.field == "action" {
            auditDenial(id, tenant: tenant, actor: actor, rule: "state_machine", detail: refused.description)
            throw refused
        }
    }
}
