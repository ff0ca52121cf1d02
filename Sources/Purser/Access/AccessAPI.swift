// /api/v1/access/…: the JSON mirror of the access pages. Policies to ask under, access requests
// (ask, list, read, decide, withdraw) and grants (list, read, revoke, certificate). A token acts for
// its owner: asking needs access:request, deciding access:approve; the handlers then check the
// owner's permissions (with any elevation they hold) as the pages do.
import Foundation
import HTTPServer
import Postgres

enum AccessAPI {
    static let policy = SchemaComponent(
        "AccessPolicy",
        schema: [
            "type": "object",
            "required": [
                "id", "name", "kind", "requester_roles", "max_seconds", "customer_approvals", "provider_approvals", "link_required",
                "business_hours_only", "break_glass_roles", "break_glass_max_seconds", "lapse_seconds",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"],
                "kind": ["type": "string", "enum": ["ssh", "role"]],
                "host_label": ["type": ["string", "null"], "description": "The first of `host_labels` (null for a role policy)."],
                "host_labels": [
                    "type": "array", "items": ["type": "string"],
                    "description": "SSH: hosts carrying any one of these labels (host groups).",
                ],
                "host_source": [
                    "type": "string", "enum": ["tenant", "pool"],
                    "description": "SSH: the tenant's own hosts, or the provider's shared pool (the provider always approves too).",
                ],
                "ssh_login": ["type": ["string", "null"]], "role": ["type": ["string", "null"]],
                "enabled": ["type": "boolean"], "version": ["type": "integer", "description": "The ETag is \"v<version>\"."],
                "archived_at": ["type": ["string", "null"], "format": "date-time"],
                "requester_roles": ["type": "array", "items": ["type": "string"]], "max_seconds": ["type": "integer"],
                "customer_approvals": ["type": "integer"], "provider_approvals": ["type": "integer"],
                "link_required": ["type": "string", "enum": ["none", "request", "incident"]],
                "business_hours_only": ["type": "boolean"], "break_glass_roles": ["type": "array", "items": ["type": "string"]],
                "break_glass_max_seconds": ["type": "integer"], "lapse_seconds": ["type": "integer"],
                "permit_port_forwarding": ["type": "boolean"], "source_addresses": ["type": "array", "items": ["type": "string"]],
                "force_command": ["type": ["string", "null"]],
            ],
        ])
    static let policyPage = SchemaComponent.page("AccessPolicyPage", of: policy, description: "Every policy: `next_cursor` is always null.")

    static let approval = SchemaComponent(
        "AccessApproval",
        schema: [
            "type": "object", "required": ["approver", "side", "decision", "reason", "created_at"],
            "properties": [
                "approver": RequestsAPI.person.ref, "side": ["type": "string", "enum": ["customer", "provider"]],
                "decision": ["type": "string", "enum": ["approve", "deny"]], "reason": ["type": "string"],
                "created_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let grant = SchemaComponent(
        "AccessGrant", uses: [RequestsAPI.person],
        schema: [
            "type": "object", "required": ["id", "request_id", "holder", "kind", "starts_at", "ends_at", "state", "break_glass"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "request_id": ["type": "string", "format": "uuid"],
                "holder": RequestsAPI.person.ref, "kind": ["type": "string", "enum": ["ssh", "role"]],
                "role": ["type": ["string", "null"]], "host": ["type": ["string", "null"]], "principal": ["type": ["string", "null"]],
                "starts_at": ["type": "string", "format": "date-time"], "ends_at": ["type": "string", "format": "date-time"],
                "state": ["type": "string", "enum": ["active", "expired", "revoked"]],
                "seconds_left": ["type": "integer", "description": "While active: seconds until it ends."],
                "revoked_at": ["type": ["string", "null"], "format": "date-time"], "end_reason": ["type": ["string", "null"]],
                "break_glass": ["type": "boolean"],
                "certificate_options": [
                    "type": "object",
                    "description": .string(
                        "SSH: what the access request narrowed of its policy's certificate options; a null field is as the policy "
                            + "says when the certificate is signed."),
                    "properties": [
                        "permit_port_forwarding": ["type": ["boolean", "null"]],
                        "source_addresses": ["type": ["array", "null"], "items": ["type": "string"]],
                        "force_command": ["type": ["string", "null"]],
                    ],
                ],
                "review_request_id": ["type": ["string", "null"], "format": "uuid"],
                "reviewed_at": ["type": ["string", "null"], "format": "date-time"],
            ],
        ])
    static let grantPage = SchemaComponent.page(
        "AccessGrantPage", of: grant, description: "A page of grants: pass `next_cursor` back as `cursor` for the next; null on the last.")

    static let request = SchemaComponent(
        "AccessRequest", uses: [RequestsAPI.person, approval, grant],
        schema: [
            "type": "object",
            "required": [
                "id", "policy_id", "policy", "requester", "kind", "reason", "duration_seconds", "state", "break_glass", "created_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "policy_id": ["type": "string", "format": "uuid"], "policy": ["type": "string"],
                "requester": RequestsAPI.person.ref, "kind": ["type": "string", "enum": ["ssh", "role"]],
                "role": ["type": ["string", "null"]], "host": ["type": ["string", "null"]], "principal": ["type": ["string", "null"]],
                "reason": ["type": "string"], "duration_seconds": ["type": "integer"],
                "start": ["type": ["string", "null"], "format": "date-time"],
                "linked_request_id": ["type": ["string", "null"], "format": "uuid"],
                "extends_grant_id": ["type": ["string", "null"], "format": "uuid"], "break_glass": ["type": "boolean"],
                "state": ["type": "string", "enum": .array(AccessRequestState.allCases.map { .string($0.rawValue) })],
                "lapse_at": ["type": "string", "format": "date-time"],
                "decided_at": ["type": ["string", "null"], "format": "date-time"],
                "created_at": ["type": "string", "format": "date-time"],
                "approvals": ["type": "array", "items": approval.ref, "description": "On a single access request."],
                "approvals_owed": [
                    "type": "object", "description": "On a single pending access request: approvals each side still owes.",
                    "properties": ["customer": ["type": "integer"], "provider": ["type": "integer"]],
                ],
                "grant": ["anyOf": [grant.ref, ["type": "null"]], "description": "On a single access request."],
            ],
        ])
    static let requestPage = SchemaComponent.page("AccessRequestPage", of: request)

    static let newRequest = SchemaComponent(
        "NewAccessRequest",
        schema: [
            "type": "object", "required": ["policy_id", "reason", "duration_seconds"], "additionalProperties": false,
            "properties": [
                "policy_id": ["type": "string", "format": "uuid"],
                "reason": ["type": "string", "minLength": 1, "maxLength": 2000, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$"],
                "duration_seconds": ["type": "integer", "minimum": 60, "maximum": 2_678_400],
                "start": [
                    "type": "string", "format": "date-time", "description": "A later start; the window opens at approval otherwise.",
                ],
                "host": ["type": "string", "maxLength": 40, "description": "SSH: the host's name."],
                "public_key": ["type": "string", "maxLength": 16384, "description": "SSH: an OpenSSH public key line."],
                "linked_request": ["type": "string", "maxLength": 60, "description": "A service request's id or number (ACME-42)."],
                "extends_grant_id": ["type": "string", "format": "uuid"],
                "break_glass": ["type": "boolean", "description": "Granted at once for designated roles; reviewed afterwards."],
                "permit_port_forwarding": [
                    "type": "boolean", "description": "SSH: false withholds port forwarding the policy permits; true only where it does.",
                ],
                "source_addresses": [
                    "type": "array", "minItems": 1, "maxItems": 32, "items": ["type": "string", "maxLength": 43],
                    "description": "SSH: addresses or CIDR blocks the certificates may be used from, within the policy's.",
                ],
                "force_command": [
                    "type": "string", "minLength": 1, "maxLength": 1000, "pattern": "^[^\\n\\r]*$",
                    "description": "SSH: a command the certificates force, where the policy forces none.",
                ],
            ],
        ])
    static let decision = SchemaComponent(
        "AccessDecisionBody",
        schema: [
            "type": "object", "required": ["decision"], "additionalProperties": false,
            "properties": [
                "decision": ["type": "string", "enum": ["approve", "deny"]],
                "reason": ["type": "string", "maxLength": 2000, "description": "Required to deny."],
            ],
        ])
    static let revocation = SchemaComponent(
        "AccessRevocation",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": ["reason": ["type": "string", "maxLength": 2000]],
        ])
    static let certificateBody = SchemaComponent(
        "CertificateRequest",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": [
                "public_key": ["type": "string", "maxLength": 16384, "description": "Defaults to the key given when asking."]
            ],
        ])
    static let certificate = SchemaComponent(
        "SSHCertificate",
        schema: [
            "type": "object", "required": ["certificate", "principal", "valid_after", "valid_before"],
            "properties": [
                "certificate": ["type": "string", "description": "One OpenSSH line: save it as id_<type>-cert.pub beside the key."],
                "principal": ["type": "string"], "valid_after": ["type": "string", "format": "date-time"],
                "valid_before": ["type": "string", "format": "date-time"],
            ],
        ])

    static func time(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.string($0)) } ?? .null }
    static func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    static func json(_ policy: AccessPolicy) -> JSONValue {
        [
            "id": .string(policy.id.postgresText), "name": .string(policy.name), "kind": .string(policy.kind.rawValue),
            "host_label": text(policy.hostLabel), "host_labels": .array(policy.hostLabels.map { .string($0) }),
            "host_source": .string(policy.hostSource.rawValue), "ssh_login": text(policy.sshLogin), "role": text(policy.role),
            "enabled": .bool(policy.enabled), "version": .number(Double(policy.version)), "archived_at": time(policy.archivedAt),
            "requester_roles": .array(policy.requesterRoles.sorted().map { .string($0) }),
            "max_seconds": .number(Double(policy.maxSeconds)),
            "customer_approvals": .number(Double(policy.customerApprovals)),
            "provider_approvals": .number(Double(policy.providerApprovals)),
            "link_required": .string(policy.linkRequired.rawValue), "business_hours_only": .bool(policy.businessHoursOnly),
            "break_glass_roles": .array(policy.breakGlassRoles.sorted().map { .string($0) }),
            "break_glass_max_seconds": .number(Double(policy.breakGlassMaxSeconds)), "lapse_seconds": .number(Double(policy.lapseSeconds)),
            "permit_port_forwarding": .bool(policy.permitPortForwarding),
            "source_addresses": .array(policy.sourceAddresses.map { .string($0) }), "force_command": text(policy.forceCommand),
        ]
    }

    static func json(_ grant: AccessGrantRecord, at now: Date) -> JSONValue {
        let state = grant.state(at: now)
        var fields: [(String, JSONValue)] = [
            ("id", .string(grant.id.postgresText)), ("request_id", .string(grant.requestID.postgresText)),
            ("holder", ["id": .string(grant.userID.postgresText), "name": .string(grant.userName)]),
            ("kind", .string(grant.kind.rawValue)), ("role", text(grant.role)), ("host", text(grant.hostName)),
            ("principal", text(grant.principal)), ("starts_at", time(grant.startsAt)), ("ends_at", time(grant.endsAt)),
            ("state", .string(state.rawValue)), ("revoked_at", time(grant.revokedAt)), ("end_reason", text(grant.endReason)),
            ("break_glass", .bool(grant.breakGlass)), ("review_request_id", text(grant.reviewRequestID?.postgresText)),
            (
                "certificate_options",
                [
                    "permit_port_forwarding": grant.options.permitPortForwarding.map { .bool($0) } ?? .null,
                    "source_addresses": grant.options.sourceAddresses.map { .array($0.map { .string($0) }) } ?? .null,
                    "force_command": text(grant.options.forceCommand),
                ]
            ),
            ("reviewed_at", time(grant.reviewedAt)),
        ]
        if state == .active { fields.append(("seconds_left", .number(max(0, grant.endsAt.timeIntervalSince(now)).rounded(.down)))) }
        return .object(fields)
    }

    static func json(_ record: AccessRequestRecord, detail: AccessRequestDetail? = nil, at now: Date) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(record.id.postgresText)), ("policy_id", .string(record.policyID.postgresText)),
            ("policy", .string(record.policyName)),
            ("requester", ["id": .string(record.requesterID.postgresText), "name": .string(record.requesterName)]),
            ("kind", .string(record.kind.rawValue)), ("role", text(record.role)), ("host", text(record.hostName)),
            ("principal", text(record.principal)), ("reason", .string(record.reason)),
            ("duration_seconds", .number(Double(record.durationSeconds))), ("start", time(record.requestedStart)),
            ("linked_request_id", text(record.linkedRequestID?.postgresText)),
            ("extends_grant_id", text(record.extendsGrantID?.postgresText)), ("break_glass", .bool(record.breakGlass)),
            ("state", .string(record.state.rawValue)), ("lapse_at", time(record.lapseAt)), ("decided_at", time(record.decidedAt)),
            ("created_at", time(record.createdAt)),
        ]
        if let detail {
            fields.append(
                (
                    "approvals",
                    .array(
                        detail.approvals.map {
                            [
                                "approver": ["id": .string($0.approverID.postgresText), "name": .string($0.approverName)],
                                "side": .string($0.side.rawValue), "decision": .string($0.approve ? "approve" : "deny"),
                                "reason": .string($0.reason), "created_at": time($0.at),
                            ]
                        })
                ))
            if record.state == .pending {
                fields.append(
                    (
                        "approvals_owed",
                        ["customer": .number(Double(detail.owed.customer)), "provider": .number(Double(detail.owed.provider))]
                    ))
            }
            fields.append(("grant", detail.grant.map { json($0, at: now) } ?? .null))
        }
        return .object(fields)
    }

    static let idParameter = HTTPServer.Operation.Parameter("id", in: .path, description: "The access request's id.")
    static let grantIDParameter = HTTPServer.Operation.Parameter("id", in: .path, description: "The grant's id.")
    static let writes: [HTTPServer.Operation.ResponseDoc] = [
        .problem(400, "Malformed JSON."), .problem(409, "Not possible in the current state (decided, withdrawn, ended)."),
        .problem(422, "Invalid values: the rule broken is named."),
    ]

    /// The access request named in the path, if the caller may see it: their own, or anyone's for
    /// approvers, auditors, admins and staff. Anything else is not found.
    static func visible(_ ctx: APIContext, store: AccessStore) throws -> (UUID, AccessRequestDetail) {
        try ctx.require(.accessRequest)
        let tenant = try ctx.tenant
        guard let detail = try store.detail(try ctx.request.uuidParameter("id"), tenant: tenant),
            detail.request.requesterID == ctx.principal.user || AccessQuery.seesAll(ctx.principal)
        else { throw HTTPError(.notFound) }
        return (tenant, detail)
    }

    static func register(in routes: inout RouteTable, store: AccessStore, grants: AccessGrants, query: AccessQuery) {
        routes.api(
            .get, .accessPolicies, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "listAccessPolicies", summary: "The tenant's access policies: what may be asked for, by whom, for how long.",
                tags: ["access"], parameters: [APIGate.tenantParameter],
                responses: [.init(200, "The policies.", component: policyPage)])
        ) { ctx in
            try ctx.require(.accessRequest)
            return Response.json(["items": .array(try store.policies(tenant: try ctx.tenant).map(json)), "next_cursor": .null])
        }

        routes.api(
            .post, .accessRequests, scope: .accessRequest, tenant: .required, options: .json,
            operation: Operation(
                id: "createAccessRequest", summary: "Ask for access under a policy (or break glass, where the policy allows it).",
                tags: ["access"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newRequest,
                responses: [.init(201, "The access request.", component: request, headers: ["Location"])] + writes)
        ) { ctx in
            try ctx.require(.accessRequest)
            let tenant = try ctx.tenant
            let made = try store.ask(
                try ctx.request.decode(NewAccessRequest.self, fields: NewAccessRequest.fields), tenant: tenant, principal: ctx.principal,
                actor: ctx.actor)
            return Response.json(
                json(made, detail: try store.detail(made.id, tenant: tenant), at: ctx.world.now), status: .created
            ).located(at: APIPath.accessRequest.path(made.id.postgresText))
        }

        routes.api(
            .get, .accessRequests, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "listAccessRequests", summary: "Access requests, newest first: mine, waiting for my decision, or all.",
                tags: ["access"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "view", in: .query, schema: ["type": "string", "enum": ["mine", "waiting", "all"]],
                        description: "`mine` (default), `waiting` (pending, for me to decide) or `all` (approvers, auditors, admins)."),
                    .init(
                        "state", in: .query,
                        schema: ["type": "string", "enum": .array(AccessRequestState.allCases.map { .string($0.rawValue) })],
                        description: "Only this state."),
                    .init(
                        "q", in: .query, schema: ["type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"],
                        description: "Text in the reason, the requester's name, the host, the role or the policy."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50)."),
                    .init("cursor", in: .query, schema: ["type": "string", "maxLength": 100], description: "From `next_cursor`."),
                ],
                responses: [
                    .init(200, "A page of access requests.", component: requestPage),
                    .problem(422, "An unknown view or state, or a cursor this list did not give."),
                ])
        ) { ctx in
            try ctx.require(.accessRequest)
            let params = ctx.request.query
            guard let limit = Int(params["limit"] ?? "50"), (1...100).contains(limit) else {
                throw ValidationError(field: "limit", "choose 1 to 100")
            }
            if let view = params["view"], AccessQuery.View(rawValue: view) == nil {
                throw ValidationError(field: "view", "mine, waiting or all")
            }
            if let state = params["state"], AccessRequestState(rawValue: state) == nil {
                throw ValidationError(field: "state", AccessRequestState.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let page = try query.requests(
                tenant: try ctx.tenant, principal: ctx.principal, view: AccessQuery.View(rawValue: params["view"] ?? "mine") ?? .mine,
                state: params["state"].flatMap(AccessRequestState.init(rawValue:)), text: params["q"], cursor: params["cursor"],
                limit: limit)
            return Response.json([
                "items": .array(page.items.map { json($0, at: ctx.world.now) }), "next_cursor": text(page.next),
            ])
        }

        routes.api(
            .get, .accessRequest, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "getAccessRequest", summary: "One access request with its decisions and grant.", tags: ["access"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The access request.", component: request)])
        ) { ctx in
            let (_, detail) = try visible(ctx, store: store)
            return Response.json(json(detail.request, detail: detail, at: ctx.world.now))
        }

        routes.api(
            .post, .accessRequestApprovals, scope: .accessApprove, tenant: .required, options: .json,
            operation: Operation(
                id: "decideAccessRequest", summary: "Approve or deny (with a reason) an access request.", tags: ["access"],
                parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter], requestComponent: decision,
                responses: [.init(200, "The access request after the decision.", component: request)] + writes)
        ) { ctx in
            guard ctx.principal.can(.accessApprove) || ctx.principal.can(.accessApproveProvider) else {
                try ctx.require(.accessApprove)
                return Response.text("")
            }
            struct Body: Decodable { let decision: String; let reason: String? }
            let body = try ctx.request.decode(Body.self, fields: ["decision", "reason"])
            guard body.decision == "approve" || body.decision == "deny" else {
                throw ValidationError(field: "decision", "approve or deny")
            }
            let tenant = try ctx.tenant
            let id = try ctx.request.uuidParameter("id")
            guard try store.detail(id, tenant: tenant) != nil else { throw HTTPError(.notFound) }
            let detail = try store.decide(
                id, tenant: tenant, approve: body.decision == "approve", reason: body.reason ?? "", principal: ctx.principal,
                actor: ctx.actor)
            return Response.json(json(detail.request, detail: detail, at: ctx.world.now))
        }

        routes.api(
            .post, .accessRequestWithdraw, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "withdrawAccessRequest", summary: "Withdraw my pending access request.", tags: ["access"],
                parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter],
                responses: [.init(200, "The access request, withdrawn.", component: request)] + writes)
        ) { ctx in
            let (tenant, detail) = try visible(ctx, store: store)
            try store.withdraw(detail.request.id, tenant: tenant, principal: ctx.principal, actor: ctx.actor)
            let after = try store.detail(detail.request.id, tenant: tenant)!
            return Response.json(json(after.request, detail: after, at: ctx.world.now))
        }

        routes.api(
            .get, .accessGrants, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "listAccessGrants", summary: "My grants (live and coming first), or every live one in the tenant.", tags: ["access"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "view", in: .query, schema: ["type": "string", "enum": ["mine", "live"]],
                        description: "`mine` (default), or `live`: everyone's live grants (approvers, auditors, admins)."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [
                    .init(200, "A page of grants.", component: grantPage),
                    .problem(422, "An unknown view, a limit out of range, or a cursor this list did not give."),
                ])
        ) { ctx in
            try ctx.require(.accessRequest)
            let now = ctx.world.now
            let view = ctx.request.query["view"] ?? "mine"
            guard view == "mine" || view == "live" else { throw ValidationError(field: "view", "mine or live") }
            let everyone = view == "live"
            if everyone && !AccessQuery.seesAll(ctx.principal) { try ctx.require(.accessApprove) }
            guard let limit = Int(ctx.request.query["limit"] ?? "50"), (1...100).contains(limit) else {
                throw ValidationError(field: "limit", "choose 1 to 100")
            }
            let page = try query.grantPage(
                tenant: try ctx.tenant, user: everyone ? nil : ctx.principal.user, liveOnly: everyone, at: now,
                cursor: ctx.request.query["cursor"], limit: limit)
            return Response.json(["items": .array(page.items.map { json($0, at: now) }), "next_cursor": text(page.next)])
        }

        @Sendable func visibleGrant(_ ctx: APIContext) throws -> (UUID, AccessGrantRecord) {
            try ctx.require(.accessRequest)
            let tenant = try ctx.tenant
            guard let found = try grants.grant(try ctx.request.uuidParameter("id"), tenant: tenant),
                found.userID == ctx.principal.user || AccessQuery.seesAll(ctx.principal)
            else { throw HTTPError(.notFound) }
            return (tenant, found)
        }

        routes.api(
            .get, .accessGrant, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "getAccessGrant", summary: "One grant, with its window and state.", tags: ["access"],
                parameters: [APIGate.tenantParameter, grantIDParameter], responses: [.init(200, "The grant.", component: grant)])
        ) { ctx in
            let (_, found) = try visibleGrant(ctx)
            return Response.json(json(found, at: ctx.world.now))
        }

        routes.api(
            .post, .accessGrantRevoke, scope: .accessRequest, tenant: .required, options: .json,
            operation: Operation(
                id: "revokeAccessGrant",
                summary: "End a grant early (its holder, an approver or an admin); SSH certificates go into the KRL.",
                tags: ["access"], parameters: [APIGate.tenantParameter, grantIDParameter, TokensAPI.idempotencyParameter],
                requestComponent: revocation, responses: [.init(200, "The grant, revoked.", component: grant)] + writes)
        ) { ctx in
            let (tenant, found) = try visibleGrant(ctx)
            struct Body: Decodable { let reason: String? }
            let body = ctx.request.body.isEmpty ? Body(reason: nil) : try ctx.request.decode(Body.self, fields: ["reason"])
            try grants.revoke(found.id, tenant: tenant, reason: body.reason ?? "", principal: ctx.principal, actor: ctx.actor)
            return Response.json(json(try grants.grant(found.id, tenant: tenant)!, at: ctx.world.now))
        }

        routes.api(
            .post, .accessGrantCertificate, scope: .accessRequest, tenant: .required, options: .json,
            operation: Operation(
                id: "signAccessCertificate", summary: "An OpenSSH certificate for my live SSH grant, valid until the grant ends.",
                tags: ["access"], parameters: [APIGate.tenantParameter, grantIDParameter, TokensAPI.idempotencyParameter],
                requestComponent: certificateBody, responses: [.init(200, "The certificate.", component: certificate)] + writes)
        ) { ctx in
            let (tenant, found) = try visibleGrant(ctx)
            struct Body: Decodable { let publicKey: String?; enum CodingKeys: String, CodingKey { case publicKey = "public_key" } }
            let body = ctx.request.body.isEmpty ? Body(publicKey: nil) : try ctx.request.decode(Body.self, fields: ["public_key"])
            let line = try grants.certificate(
                found.id, tenant: tenant, publicKey: body.publicKey, principal: ctx.principal, actor: ctx.actor)
            return Response.json([
                "certificate": .string(line), "principal": text(found.principal), "valid_after": time(found.startsAt),
                "valid_before": time(found.endsAt),
            ])
        }
    }
}
