// /api/v1/deployments: file (Idempotency-Key through the gate), list (keyset), read, decide
// (If-Match, 412 when stale) and act. A decision or action the state machine does not allow is a
// 422 problem naming the current `state` and the `allowed` moves, as service requests answer.
import Foundation
import HTTPServer
import Postgres

enum DeploymentsAPI {
    static let decision = SchemaComponent(
        "DeploymentDecision", uses: [RequestsAPI.person],
        schema: [
            "type": "object", "required": ["approver", "role", "kind", "decision", "deployment_version", "reason", "at", "counts"],
            "properties": [
                "approver": RequestsAPI.person.ref, "role": ["type": "string"],
                "kind": ["type": "string", "enum": ["customer", "provider_signoff"]],
                "decision": ["type": "string", "enum": ["approve", "reject"]], "deployment_version": ["type": "integer"],
                "reason": ["type": "string"], "at": ["type": "string", "format": "date-time"],
                "counts": ["type": "boolean", "description": "Whether it counts towards the policy now."],
                "discounted_because": ["type": "string"],
            ],
        ])

    static let deployment = SchemaComponent(
        "Deployment", uses: [RequestsAPI.person, decision],
        schema: [
            "type": "object",
            "required": [
                "id", "model", "version", "model_version_id", "environment", "target", "target_kind", "endpoint", "strategy", "steps",
                "bake_seconds", "state", "current_step", "request", "requester", "approvals", "created_at", "updated_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "model": ["type": "string"], "version": ["type": "string"],
                "model_version_id": ["type": "string", "format": "uuid"], "environment": ["type": "string"],
                "target": ["type": "string"],
                "target_kind": ["type": "string", "enum": .array(TargetKind.allCases.map { .string($0.rawValue) })],
                "endpoint": ["type": "string"], "instance_type": ["type": ["string", "null"]], "instance_count": ["type": "integer"],
                "gpu_count": ["type": ["integer", "null"]],
                "strategy": ["type": "string", "enum": .array(DeploymentStrategy.allCases.map { .string($0.rawValue) })],
                "steps": ["type": "array", "items": ["type": "integer"]], "bake_seconds": ["type": "integer"],
                "progress_deadline_seconds": ["type": "integer"], "gates": ["type": "array"],
                "rollback_policy": ["type": "string", "enum": ["automatic", "manual"]],
                "state": ["type": "string", "enum": .array(DeploymentState.allCases.map { .string($0.rawValue) })],
                "current_step": ["type": "integer"], "state_reason": ["type": ["string", "null"]],
                "allowed_actions": ["type": "array", "items": ["type": "string"]],
                "request": [
                    "type": "object", "properties": ["id": ["type": "string", "format": "uuid"], "number": ["type": "string"]],
                ],
                "requester": RequestsAPI.person.ref,
                "approvals": [
                    "type": "object",
                    "properties": [
                        "required": ["type": "integer"], "roles": ["type": "array", "items": ["type": "string"]],
                        "provider_signoff": ["type": "boolean"], "missing": ["type": "integer"], "signoff_missing": ["type": "boolean"],
                        "blocked_because": ["type": "array", "items": ["type": "string"]],
                        "decisions": ["type": "array", "items": decision.ref],
                    ],
                ],
                "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
                "approved_at": ["type": ["string", "null"], "format": "date-time"],
                "live_at": ["type": ["string", "null"], "format": "date-time"],
                "finished_at": ["type": ["string", "null"], "format": "date-time"],
            ],
        ])

    static let deploymentPage = SchemaComponent.page("DeploymentPage", of: deployment)

    static let newDeployment = SchemaComponent(
        "NewDeployment",
        schema: [
            "type": "object", "required": ["model_version_id", "environment", "target", "strategy"], "additionalProperties": false,
            "properties": [
                "model_version_id": ["type": "string", "format": "uuid"],
                "environment": ["type": "string", "description": "The environment's name (validation, staging, production…)."],
                "target": ["type": "string", "description": "The target's name."],
                "endpoint": ["type": "string", "description": "The endpoint's name; by default the model's, with the environment."],
                "instance_type": ["type": "string"], "instance_count": ["type": "integer", "minimum": 1, "maximum": 100],
                "gpu_count": ["type": "integer", "minimum": 1, "maximum": 64],
                "strategy": ["type": "string", "enum": .array(DeploymentStrategy.allCases.map { .string($0.rawValue) })],
                "steps": [
                    "type": "array", "items": ["type": "integer", "minimum": 1, "maximum": 100],
                    "description": "Canary traffic percentages, rising, ending at 100 (default [10, 50, 100]).",
                ],
                "bake_seconds": ["type": "integer", "minimum": 0, "maximum": 86400],
                "progress_deadline_seconds": ["type": "integer", "minimum": 1, "maximum": 604_800],
                "gates": ["type": "array", "description": "Health gates; by default the model card's."],
                "rollback_policy": ["type": "string", "enum": ["automatic", "manual"]],
                "request_id": [
                    "type": "string", "format": "uuid", "description": "Join this open deployment request instead of filing one.",
                ],
                "priority": RequestRules.prioritySchema,
                "note": ["type": "string", "maxLength": 10000, "description": "The linked request's description."],
            ],
        ])

    static let newDecision = SchemaComponent(
        "NewDeploymentDecision",
        schema: [
            "type": "object", "required": ["decision"], "additionalProperties": false,
            "properties": [
                "decision": ["type": "string", "enum": ["approve", "reject"]],
                "reason": ["type": "string", "maxLength": 2000, "description": "Why; needed to reject."],
            ],
        ])

    static let actionBody = SchemaComponent(
        "DeploymentActionBody",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": ["reason": ["type": "string", "maxLength": 2000]],
        ])

    static func json(_ deployment: Deployment, approvals: DeploymentStore.Approvals?) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(deployment.id.postgresText)), ("model", .string(deployment.modelName)),
            ("version", .string(deployment.version)), ("model_version_id", .string(deployment.modelVersionID.postgresText)),
            ("environment", .string(deployment.environment.name)), ("target", .string(deployment.target.name)),
            ("target_kind", .string(deployment.target.kind.rawValue)), ("endpoint", .string(deployment.endpoint.name)),
            ("instance_type", deployment.instanceType.map { .string($0) } ?? .null),
            ("instance_count", .number(Double(deployment.instanceCount))),
            ("gpu_count", deployment.gpuCount.map { .number(Double($0)) } ?? .null), ("strategy", .string(deployment.strategy)),
            ("steps", .array(deployment.steps.map { .number(Double($0)) })), ("bake_seconds", .number(Double(deployment.bakeSeconds))),
            ("progress_deadline_seconds", .number(Double(deployment.progressDeadlineSeconds))),
            ("gates", (try? JSONDecoder().decode(JSONValue.self, from: Data(deployment.gates.utf8))) ?? .array([])),
            ("rollback_policy", .string(deployment.rollbackPolicy)), ("state", .string(deployment.state.rawValue)),
            ("current_step", .number(Double(deployment.currentStep))),
            ("state_reason", deployment.stateReason.map { .string($0) } ?? .null),
            (
                "allowed_actions",
                .array(deployment.state.actions.map { .string($0.rawValue) })
            ),
            ("request", ["id": .string(deployment.requestID.postgresText), "number": .string(deployment.requestNumber)]),
            ("requester", ["id": .string(deployment.requester.id.postgresText), "name": .string(deployment.requester.name)]),
        ]
        if let approvals {
            let discounted = Dictionary(
                approvals.status.discounted.map { ("\($0.decision.approver)\($0.decision.at)", $0.why) }, uniquingKeysWith: { a, _ in a })
            fields.append(
                (
                    "approvals",
                    [
                        "required": .number(Double(approvals.policy.requiredApprovals)),
                        "roles": .array(approvals.policy.countedRoles.map { .string($0.rawValue) }),
                        "provider_signoff": .bool(approvals.policy.providerSignoff),
                        "missing": .number(Double(approvals.status.customerApprovalsMissing)),
                        "signoff_missing": .bool(approvals.status.signoffMissing),
                        "blocked_because": .array(
                            deployment.state == .pendingApproval ? approvals.status.blockers(approvals.policy).map { .string($0) } : []),
                        "decisions": .array(
                            approvals.decisions.map { decision in
                                let why = discounted["\(decision.approver)\(decision.at)"]
                                var entry: [(String, JSONValue)] = [
                                    ("approver", ["id": .string(decision.approver.postgresText), "name": .string(decision.name)]),
                                    ("role", .string(decision.role)), ("kind", .string(decision.kind.rawValue)),
                                    ("decision", .string(decision.verdict.rawValue)),
                                    ("deployment_version", .number(Double(decision.deploymentVersion))),
                                    ("reason", .string(decision.reason)), ("at", .string(RFC3339.string(decision.at))),
                                    ("counts", .bool(decision.verdict == .approve && why == nil)),
                                ]
                                if let why { entry.append(("discounted_because", .string(why))) }
                                return .object(entry)
                            }),
                    ]
                ))
        }
        let time = { (date: Date?) -> JSONValue in date.map { .string(RFC3339.string($0)) } ?? .null }
        fields += [
            ("created_at", time(deployment.createdAt)), ("updated_at", time(deployment.updatedAt)),
            ("approved_at", time(deployment.approvedAt)), ("live_at", time(deployment.liveAt)),
            ("finished_at", time(deployment.finishedAt)),
        ]
        return .object(fields)
    }

    static func answer(_ deployment: Deployment, store: DeploymentStore, status: HTTPStatus = .ok) throws -> Response {
        var response = Response.json(json(deployment, approvals: try store.approvals(of: deployment)), status: status)
        response.headers.set("ETag", deployment.etag)
        return response
    }

    /// `limit` (1–100) and `cursor` (an id) of a list; a malformed one is a 400.
    static func paging(_ request: Request, default limit: Int) throws -> (Int, UUID?) {
        var size = limit
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...100).contains(value) else {
                throw HTTPError(
                    .badRequest, detail: "limit: a number from 1 to 100", fieldErrors: [FieldError(field: "limit", detail: "1–100")])
            }
            size = value
        }
        var cursor: UUID?
        if let text = request.query["cursor"] {
            guard let id = UUID(uuidString: text) else {
                throw HTTPError(
                    .badRequest, detail: "cursor: the next_cursor of the previous page",
                    fieldErrors: [FieldError(field: "cursor", detail: "a UUID")])
            }
            cursor = id
        }
        return (size, cursor)
    }

    static let idParameter = HTTPServer.Operation.Parameter("id", in: .path, description: "The deployment's id.")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such deployment in this tenant."), .problem(429, "Rate limit used up."),
    ]

    static func register(in routes: inout RouteTable, store: DeploymentStore) {
        routes.api(
            .post, .deployments, scope: .deploymentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createDeployment",
                summary: "File a deployment of a model version to an environment and target; files its deployment request too.",
                tags: ["deployments"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter],
                requestComponent: newDeployment,
                responses: [
                    .init(
                        201, "The deployment, waiting for approval (or approved, when its policy asks for nobody).", component: deployment,
                        headers: ["Location", "ETag"]),
                    .problem(400, "Malformed JSON."), .problem(409, "The same Idempotency-Key is still running."),
                    .problem(
                        422,
                        "A rule broken, named in the message: an unknown version, environment or target, an unknown strategy, steps "
                            + "that do not end at 100, a host-pool target, the promotion gate, a request that cannot be joined."),
                ] + common)
        ) { ctx in
            let created = try store.file(
                try ctx.request.decode(NewDeployment.self, fields: Set(NewDeployment.fields)), tenant: try ctx.tenant,
                principal: ctx.principal, actor: ctx.actor)
            return try answer(created, store: store, status: .created).located(at: APIPath.deployment.path(created.id.postgresText))
        }

        routes.api(
            .get, .deployments, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "listDeployments", summary: "The tenant's deployments, newest first, a page at a time.", tags: ["deployments"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "state", in: .query,
                        schema: ["type": "string", "enum": .array(DeploymentState.allCases.map { .string($0.rawValue) })],
                        description: "Only this state."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (20)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: deploymentPage), .problem(400, "A malformed parameter.")] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            let (limit, cursor) = try paging(ctx.request, default: 20)
            var state: DeploymentState?
            if let text = ctx.request.query["state"] {
                guard let known = DeploymentState(rawValue: text) else {
                    throw HTTPError(
                        .badRequest, detail: "state: one of " + DeploymentState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                state = known
            }
            let page = try store.list(tenant: try ctx.tenant, state: state, after: cursor, limit: limit + 1)
            let items = page.prefix(limit)
            return .json([
                "items": .array(items.map { json($0, approvals: nil) }),
                "next_cursor": page.count > limit ? .string(items.last!.id.postgresText) : .null,
            ])
        }

        routes.api(
            .get, .deployment, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "getDeployment", summary: "One deployment with its approvals: who approved, who still must, why it is blocked.",
                tags: ["deployments"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The deployment.", component: deployment, headers: ["ETag"])] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            guard let found = try store.find(try ctx.request.uuidParameter("id"), tenant: try ctx.tenant) else {
                throw HTTPError(.notFound)
            }
            return try answer(found, store: store)
        }

        routes.api(
            .post, .deploymentApprovals, scope: .approvalsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "decideDeployment",
                summary: "Approve or reject (customer approvers), or sign off (the provider's platform engineers); send the ETag you "
                    + "read as If-Match.",
                tags: ["deployments"],
                parameters: [
                    APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter,
                    .init("If-Match", in: .header, description: "The ETag of the deployment version you decide on."),
                ],
                requestComponent: newDecision,
                responses: [
                    .init(200, "The deployment after the decision.", component: deployment, headers: ["ETag"]),
                    .problem(400, "Malformed JSON."), .problem(409, "Already decided, or another rollout holds the endpoint."),
                    .problem(412, "The deployment changed since the given ETag."),
                    .problem(
                        422,
                        "A rule refused it (self-approval, a role the policy does not count, a sign-off not asked for), or the state "
                            + "takes no decisions (`state` and `allowed` members)."),
                ] + common)
        ) { ctx in
            struct Input: Decodable {
                let decision: String
                let reason: String?
            }
            let (tenant, id) = (try ctx.tenant, try ctx.request.uuidParameter("id"))
            // Another tenant's deployment is not found, whatever the body says.
            guard try store.find(id, tenant: tenant) != nil else { throw HTTPError(.notFound) }
            let input = try ctx.request.decode(Input.self, fields: ["decision", "reason"])
            guard let verdict = ApprovalDecision.Verdict(rawValue: input.decision) else {
                throw ValidationError(field: "decision", "approve or reject")
            }
            let decided = try store.decide(
                id, tenant: tenant, verdict: verdict, reason: input.reason ?? "",
                expected: ctx.request.headers["If-Match"], principal: ctx.principal, actor: ctx.actor)
            return try answer(decided, store: store)
        }

        for (action, path) in [
            (DeploymentAction.pause, APIPath.deploymentPause), (.resume, .deploymentResume), (.abort, .deploymentAbort),
            (.promote, .deploymentPromote), (.rollback, .deploymentRollback),
        ] {
            routes.api(
                .post, path, scope: .deploymentsWrite, tenant: .required,
                operation: Operation(
                    id: "\(action.rawValue)Deployment", summary: summary(action), tags: ["deployments"],
                    parameters: [
                        APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter,
                        .init("If-Match", in: .header, description: "Optional: the ETag the action is based on."),
                    ],
                    requestComponent: actionBody,
                    responses: [
                        .init(200, "The deployment after the action.", component: deployment, headers: ["ETag"]),
                        .problem(400, "Malformed JSON."), .problem(409, "Another rollout holds the endpoint."),
                        .problem(412, "The deployment changed since the given ETag."),
                        .problem(422, "The current state does not allow it: the problem's `state` and `allowed` members say what does."),
                    ] + common)
            ) { ctx in
                struct Input: Decodable { let reason: String? }
                let (tenant, id) = (try ctx.tenant, try ctx.request.uuidParameter("id"))
                guard try store.find(id, tenant: tenant) != nil else { throw HTTPError(.notFound) }
                let input = ctx.request.body.isEmpty ? Input(reason: nil) : try ctx.request.decode(Input.self, fields: ["reason"])
                let changed = try store.act(
                    action, on: id, tenant: tenant, expected: ctx.request.headers["If-Match"],
                    reason: input.reason, principal: ctx.principal, actor: ctx.actor)
                return try answer(changed, store: store)
            }
        }
    }

    static func summary(_ action: DeploymentAction) -> String {
        switch action {
        case .pause: "Hold the rollout where it is; the reconciler does nothing until it is resumed."
        case .resume: "Carry on from where the rollout was paused."
        case .abort: "Stop it: before provisioning it simply ends; after, the reconciler removes what was made and it ends aborted."
        case .promote: "Skip the remaining steps: all traffic to the new version now."
        case .rollback: "Roll back to the version that was live before."
        default: action.rawValue
        }
    }

}
