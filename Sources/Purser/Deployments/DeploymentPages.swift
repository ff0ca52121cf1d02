// A tenant's deployments as pages: the list, the form that files one, a deployment with its
// approvals (who approved, who still must, why it is blocked), the decision and the actions; the
// approval page the approvers' mail links to, which only shows a confirmation on GET; and the
// staff's list across tenants.
import Foundation
import HTTPServer

enum DeploymentPages {
    struct Row: Encodable, Sendable {
        let link: SiteURL
        let tenant: String
        let model: String
        let version: String
        let environment: String
        let target: String
        let strategy: String
        let state: String
        let tone: String
        let requester: String
        let created: String
    }

    static func row(_ deployment: Deployment) -> Row {
        Row(
            link: .deployment(deployment.tenantSlug, id: deployment.id), tenant: deployment.tenantName, model: deployment.modelName,
            version: deployment.version, environment: deployment.environment.name,
            target: deployment.target.name + (deployment.target.kind == .sandbox ? " (sandbox)" : ""), strategy: deployment.strategy,
            state: deployment.state.label, tone: tone(deployment.state), requester: deployment.requester.name,
            created: DisplayTime.format(deployment.createdAt))
    }

    /// The deployment's own gates as people read them ("error rate ≤ 2.00 %; p95 latency ≤ 2500 ms").
    static func gatesText(_ json: String) -> String {
        guard let gates = try? JSONDecoder().decode([LLMGate].self, from: Data(json.utf8)) else { return json }
        return gates.isEmpty
            ? "none (the version's default gates apply)"
            : gates.map(\.summary).joined(separator: "; ") + " (the version's default gates cover the other signals)"
    }

    static func tone(_ state: DeploymentState) -> String {
        switch state {
        case .live: "done"
        case .failed, .rolledBack, .rejected, .aborted, .rollingBack: "late"
        case .pendingApproval, .paused: "warn"
        default: "ok"
        }
    }

    struct ListPage: TemplateModel {
        let tenantName: String
        let rows: [Row]
        let newLink: SiteURL
        let modelsLink: SiteURL
        let policiesLink: SiteURL?
        let canRequest: Bool
        let nextPage: SiteURL?
    }

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        var selected = false
    }

    struct NewPage: TemplateModel {
        let formToken: String
        let createLink: SiteURL
        let modelsLink: SiteURL
        let versions: [Option]
        let environments: [Option]
        let targets: [Option]
        let strategies: [Option]
        let steps: String
        let bakeSeconds: String
        let endpoint: String
        let instanceType: String
        let instanceCount: String
        let note: String
        var errors: [FieldError] = []
    }

    struct DecisionView: Encodable, Sendable {
        let who: String
        let role: String
        let kind: String
        let decision: String
        let reason: String
        let when: String
        let counts: Bool
        let why: String
    }

    struct ShowPage: TemplateModel {
        let formToken: String
        let title: String
        let state: String
        let tone: String
        let stateReason: String?
        let progress: String
        let environment: String
        let target: String
        let sandbox: Bool
        let endpoint: String
        let strategy: String
        let steps: String
        let bake: String
        let capacity: String
        let rollbackPolicy: String
        let gates: String
        let requester: String
        let created: String
        let requestLink: SiteURL
        let requestNumber: String
        let listLink: SiteURL
        let version: String
        let policy: String
        let decisions: [DecisionView]
        let blockers: [String]
        let pending: Bool
        let canDecide: Bool
        let decideAs: String
        let approvalLink: SiteURL
        let actionLink: SiteURL
        let actions: [Option]
        /// The rollout's steps with their figures (the rollouts partial), once it has started.
        let timeline: DeploymentTimeline?
        /// The endpoint's spend this month and over 30 days, for those who may read costs.
        let spend: CostSpendSummary?
        var errors: [FieldError] = []
    }

    struct ConfirmPage: TemplateModel {
        let formToken: String
        let title: String
        let summary: String
        let requester: String
        let policy: String
        let blockers: [String]
        let version: String
        let decideAs: String
        let approvalLink: SiteURL
        let deploymentLink: SiteURL
        let errors: [FieldError]
        /// False when this visitor can make no decision here (the deployment waits no more, or is
        /// their own): the page then says why and shows no form.
        let decidable: Bool
    }

    struct StaffPage: TemplateModel {
        let rows: [Row]
        let pendingLink: SiteURL
        let allLink: SiteURL
        let targetsLink: SiteURL
        let nextPage: SiteURL?
    }

    static func policyText(_ policy: ApprovalPolicy) -> String {
        var text =
            policy.requiredApprovals == 0
            ? "No customer approval needed"
            : "\(policy.requiredApprovals) approval\(policy.requiredApprovals == 1 ? "" : "s") from "
                + policy.countedRoles.map(\.rawValue).joined(separator: " or ")
        if policy.providerSignoff { text += ", and the provider's sign-off" }
        text += policy.resetOnChange ? "; a change resets approvals" : ""
        text += "; approvals count for \(DisplayTime.duration(policy.validity))"
        return text + "."
    }

    /// What the visitor would decide as: a customer approver, or the provider's sign-off; nil when neither.
    static func decideAs(_ principal: Principal) -> String? {
        if principal.tenantRole != nil && principal.can(.deploymentsApprove) { return "approver (\(principal.tenantRole!.rawValue))" }
        if principal.staffRole != nil && principal.can(.deploymentsSignoff) {
            return "provider sign-off (\(principal.staffRole!.rawValue))"
        }
        return nil
    }

    static func register(
        in routes: inout RouteTable, site: Site, store: DeploymentStore, registry: ModelRegistry, targets: DeploymentTargets
    ) {
        routes.tenant(.get, .deployments, permission: .deploymentsRead) { ctx in
            let tenant = ctx.tenant
            let cursor = ctx.request.query["after"].flatMap(UUID.init(uuidString:))
            let page = try store.list(tenant: tenant.id, after: cursor, limit: 51)
            return site.page(
                "deployments/index", title: "Deployments · \(tenant.name)",
                ListPage(
                    tenantName: tenant.name, rows: page.prefix(50).map(row), newLink: .deploymentNew(tenant.slug),
                    modelsLink: .models(tenant.slug),
                    policiesLink: ctx.principal.can(.tenantSettingsManage) ? .deploymentPolicies(tenant.slug) : nil,
                    canRequest: ctx.principal.can(.deploymentsRequest),
                    nextPage: page.count > 50 ? SiteURL.deployments(tenant.slug).adding("after", page[49].id.postgresText) : nil),
                visitor: ctx.visitor, tenant: tenant)
        }

        @Sendable func newForm(_ ctx: TenantContext, form: QueryParameters? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok)
            throws
            -> Response
        {
            let tenant = ctx.tenant
            let value = { (name: String, fallback: String) in form?[name] ?? fallback }
            let versions = try registry.allVersions(tenant: tenant.id)
            let environments = try targets.environments(tenant: tenant.id)
            let places = try targets.targets(tenant: tenant.id)
            return site.page(
                "deployments/new", title: "New deployment",
                NewPage(
                    formToken: ctx.visitor.formToken, createLink: .deployments(tenant.slug), modelsLink: .models(tenant.slug),
                    versions: versions.map {
                        Option(
                            value: $0.id.postgresText, label: "\($0.modelName) \($0.version)",
                            selected: form?["model_version_id"] == $0.id.postgresText)
                    },
                    environments: environments.map {
                        Option(value: $0.name, label: "\($0.position). \($0.name)", selected: form?["environment"] == $0.name)
                    },
                    targets: places.map {
                        Option(
                            value: $0.name, label: "\($0.name) — \($0.kind.label)\($0.kind.refusal == nil ? "" : " (no driver yet)")",
                            selected: form?["target"] == $0.name)
                    },
                    strategies: DeploymentStrategy.allCases.map {
                        Option(
                            value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "),
                            selected: value("strategy", "canary") == $0.rawValue)
                    },
                    steps: value("steps", "10, 50, 100"), bakeSeconds: value("bake_seconds", "15"), endpoint: value("endpoint", ""),
                    instanceType: value("instance_type", ""), instanceCount: value("instance_count", "1"), note: value("note", ""),
                    errors: errors), status: status, visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .deploymentNew, permission: .deploymentsRequest) { ctx in try newForm(ctx) }

        routes.tenant(.post, .deployments, permission: .deploymentsRequest, options: .form) { ctx in
            let form = try ctx.form()
            do {
                var problems: [FieldError] = []
                let number = { (name: String) -> Int? in
                    guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
                    guard let value = Int(text) else {
                        problems.append(FieldError(field: name, detail: "a whole number"))
                        return nil
                    }
                    return value
                }
                let strategy = form["strategy"] ?? ""
                var steps: [Int]?
                if strategy == DeploymentStrategy.canary.rawValue, let text = form["steps"], !text.isEmpty {
                    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "→" }).map {
                        Int($0.trimmingCharacters(in: CharacterSet(charactersIn: "% ")))
                    }
                    if parts.contains(nil) {
                        problems.append(FieldError(field: "steps", detail: "percentages separated by commas, e.g. 10, 50, 100"))
                    } else {
                        steps = parts.map { $0! }
                    }
                }
                let new = NewDeployment(
                    modelVersionID: form["model_version_id"] ?? "", environment: form["environment"] ?? "", target: form["target"] ?? "",
                    endpoint: form["endpoint"], instanceType: form["instance_type"], instanceCount: number("instance_count"),
                    strategy: strategy, steps: steps, bakeSeconds: number("bake_seconds"), note: form["note"])
                if !problems.isEmpty { throw ValidationError(problems) }
                let filed = try store.file(new, tenant: ctx.tenant.id, principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.deployment(ctx.tenant.slug, id: filed.id).path)
            } catch let error as ValidationError {
                return try newForm(ctx, form: form, errors: error.fieldErrors, status: error.status)
            }
        }

        @Sendable func show(_ ctx: TenantContext, errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let tenant = ctx.tenant
            guard let found = try store.find(try ctx.request.uuidParameter("id"), tenant: tenant.id) else { throw HTTPError(.notFound) }
            let approvals = try store.approvals(of: found)
            let discounted = approvals.status.discounted
            let principal = ctx.principal
            let decideAs = decideAs(principal)
            let progress: String
            switch found.state {
            case .rollingOut,
                .paused where found.pausedFrom == .rollingOut:
                let step = min(found.currentStep, max(0, found.steps.count - 1))
                progress = "step \(step + 1) of \(found.steps.count): \(found.steps.isEmpty ? 100 : found.steps[step]) % of traffic"
            default: progress = ""
            }
            return site.page(
                "deployments/show", title: "\(found.modelName) \(found.version) → \(found.environment.name)",
                ShowPage(
                    formToken: ctx.visitor.formToken, title: "\(found.modelName) \(found.version) → \(found.environment.name)",
                    state: found.state.label, tone: tone(found.state), stateReason: found.stateReason, progress: progress,
                    environment: found.environment.name, target: found.target.name, sandbox: found.target.kind == .sandbox,
                    endpoint: found.endpoint.name, strategy: found.strategy.replacingOccurrences(of: "_", with: " "),
                    steps: found.steps.map { "\($0) %" }.joined(separator: " → "),
                    bake: DisplayTime.duration(TimeInterval(found.bakeSeconds)),
                    capacity: "\(found.instanceCount) × \(found.instanceType ?? "default instance")"
                        + (found.gpuCount.map { ", \($0) GPU\($0 == 1 ? "" : "s")" } ?? ""),
                    rollbackPolicy: found.rollbackPolicy, gates: gatesText(found.gates),
                    requester: found.requester.name, created: DisplayTime.format(found.createdAt),
                    requestLink: .request(tenant.slug, number: found.requestNumber), requestNumber: found.requestNumber,
                    listLink: .deployments(tenant.slug), version: found.etag, policy: policyText(approvals.policy),
                    decisions: approvals.decisions.map { decision in
                        let why = discounted.first { $0.decision == decision }?.why
                        return DecisionView(
                            who: decision.name, role: decision.role,
                            kind: decision.kind == .providerSignoff ? "provider sign-off" : "customer",
                            decision: decision.verdict == .approve ? "approved" : "rejected", reason: decision.reason,
                            when: DisplayTime.format(decision.at), counts: decision.verdict == .approve && why == nil, why: why ?? "")
                    },
                    blockers: found.state == .pendingApproval ? approvals.status.blockers(approvals.policy) : [],
                    pending: found.state == .pendingApproval,
                    canDecide: found.state == .pendingApproval && decideAs != nil && found.requester.id != ctx.visitor.user,
                    decideAs: decideAs ?? "", approvalLink: .deploymentApproval(tenant.slug, id: found.id),
                    actionLink: .deploymentAction(tenant.slug, id: found.id),
                    actions: principal.can(.deploymentsRequest)
                        ? found.state.actions.filter(DeploymentAction.operations.contains).map {
                            Option(value: $0.rawValue, label: $0.rawValue.capitalized)
                        } : [],
                    timeline: try store.timeline(of: found),
                    spend: principal.can(.costsRead)
                        ? try CostReportSpend.summary(
                            store.database, tenant: tenant.id, slug: tenant.slug, endpoint: found.endpoint.name, now: ctx.world.now)
                        : nil, errors: errors), status: status, visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .deployment, permission: .deploymentsRead) { ctx in try show(ctx) }

        /// Deciding needs a session that passed a second factor: one without is taken to set it up.
        @Sendable func requireSecondFactor(_ ctx: TenantContext) throws {
            if !ctx.visitor.session.totpEnabled { throw Redirect(to: SitePage.twoFactor.url.path) }
        }

        // The approvers' mail links here: a GET shows what would be decided and asks, never decides.
        routes.tenant(.get, .deploymentApproval, permission: .deploymentsRead) { ctx in
            let tenant = ctx.tenant
            guard let found = try store.find(try ctx.request.uuidParameter("id"), tenant: tenant.id) else { throw HTTPError(.notFound) }
            guard let role = decideAs(ctx.principal) else {
                try ctx.principal.require(.deploymentsApprove)
                throw HTTPError(.notFound)
            }
            try requireSecondFactor(ctx)
            let approvals = try store.approvals(of: found)
            var errors: [FieldError] = []
            if found.state != .pendingApproval {
                errors.append(FieldError(field: "state", detail: "this deployment is \(found.state.label): it takes no more decisions"))
            }
            if found.requester.id == ctx.visitor.user {
                errors.append(FieldError(field: "decision", detail: "you filed this deployment: someone else must approve it"))
            }
            return site.page(
                "deployments/approve", title: "Approve \(found.modelName) \(found.version)?",
                ConfirmPage(
                    formToken: ctx.visitor.formToken, title: "\(found.modelName) \(found.version) → \(found.environment.name)",
                    summary: "\(found.strategy.replacingOccurrences(of: "_", with: " ")) on \(found.target.name)"
                        + (found.target.kind == .sandbox ? " (sandbox)" : "") + ", steps "
                        + found.steps.map { "\($0) %" }.joined(separator: " → ")
                        + ", bake \(DisplayTime.duration(TimeInterval(found.bakeSeconds))) per step",
                    requester: found.requester.name, policy: policyText(approvals.policy),
                    blockers: found.state == .pendingApproval ? approvals.status.blockers(approvals.policy) : [], version: found.etag,
                    decideAs: role,
                    approvalLink: .deploymentApproval(tenant.slug, id: found.id), deploymentLink: .deployment(tenant.slug, id: found.id),
                    errors: errors, decidable: errors.isEmpty), visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.post, .deploymentApproval, permission: .deploymentsRead, options: .form) { ctx in
            let form = try ctx.form()
            try requireSecondFactor(ctx)
            let id = try ctx.request.uuidParameter("id")
            do {
                guard let verdict = ApprovalDecision.Verdict(rawValue: form["decision"] ?? "") else {
                    throw ValidationError(field: "decision", "choose approve or reject")
                }
                _ = try store.decide(
                    id, tenant: ctx.tenant.id, verdict: verdict, reason: form["reason"] ?? "", expected: form["version"],
                    principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.deployment(ctx.tenant.slug, id: id).path)
            } catch let error as ValidationError {
                return try show(ctx, errors: error.fieldErrors, status: error.status)
            } catch let error as ApprovalRefused {
                return try show(ctx, errors: error.fieldErrors, status: error.refusal.status)
            } catch let error as DeploymentChanged {
                return try show(
                    ctx, errors: [FieldError(field: "version", detail: error.detail ?? "changed")], status: .preconditionFailed)
            }
        }

        routes.tenant(.post, .deploymentAction, permission: .deploymentsRequest, options: .form) { ctx in
            let form = try ctx.form()
            let id = try ctx.request.uuidParameter("id")
            do {
                guard let action = DeploymentAction(rawValue: form["action"] ?? ""), DeploymentAction.operations.contains(action) else {
                    throw ValidationError(
                        field: "action", "one of " + DeploymentAction.operations.map(\.rawValue).joined(separator: ", "))
                }
                _ = try store.act(
                    action, on: id, tenant: ctx.tenant.id, expected: form["version"], reason: form["reason"], principal: ctx.principal,
                    actor: ctx.actor)
                return .redirect(to: SiteURL.deployment(ctx.tenant.slug, id: id).path)
            } catch let error as ValidationError {
                return try show(ctx, errors: error.fieldErrors, status: error.status)
            } catch let error as DeploymentChanged {
                return try show(
                    ctx, errors: [FieldError(field: "version", detail: error.detail ?? "changed")], status: .preconditionFailed)
            }
        }

        routes.staff(.get, .staffDeployments, permission: .deploymentsRead) { ctx in
            let state = ctx.request.query["state"].flatMap(DeploymentState.init(rawValue:))
            let cursor = ctx.request.query["after"].flatMap(UUID.init(uuidString:))
            let page = try store.list(tenant: nil, state: state, after: cursor, limit: 51)
            var next: SiteURL?
            if page.count > 50 {
                next = SitePage.staffDeployments.url.adding("state", state?.rawValue).adding("after", page[49].id.postgresText)
            }
            return site.page(
                "deployments/staff", title: "Deployments",
                StaffPage(
                    rows: page.prefix(50).map(row),
                    pendingLink: SitePage.staffDeployments.url.adding("state", DeploymentState.pendingApproval.rawValue),
                    allLink: SitePage.staffDeployments.url, targetsLink: SitePage.staffTargets.url, nextPage: next),
                visitor: ctx.visitor)
        }
    }
}
