// /api/v1/access/policies[/{id}]: access policies written through the API, as tenant admins write
// them on the policies page. Made (POST), read (GET), changed field by field against the ETag read
// (PATCH with If-Match) and archived (DELETE: asked under no more, kept for the history). Writing
// needs the scope access:manage and tenant.settings.manage; naming the provider's pool hosts also
// providers.manage. Bad values are problem+json naming each field.
import Foundation
import HTTPServer

enum AccessPolicyAPI {
    /// The fields a body may carry; every one optional in a change, and `kind` only when making.
    static let fields: Set<String> = [
        "name", "kind", "host_labels", "host_source", "ssh_login", "role", "requester_roles", "max_seconds", "customer_approvals",
        "approver_roles", "provider_approvals", "link_required", "business_hours_only", "break_glass_roles", "break_glass_max_seconds",
        "lapse_seconds", "enabled", "permit_port_forwarding", "source_addresses", "force_command",
    ]

    static let roleNames: JSONValue = .array(AccessPolicy.knownRoles.sorted().map { .string($0) })

    static let bodyProperties: [(String, JSONValue)] = [
        ("name", ["type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$"]),
        ("kind", ["type": "string", "enum": ["ssh", "role"], "description": "Set when the policy is made; never changed."]),
        (
            "host_labels",
            [
                "type": "array", "minItems": 1, "maxItems": 20,
                "items": ["type": "string", "pattern": "^[a-z0-9][a-z0-9_.:/-]{0,99}$"],
                "description": "SSH: hosts carrying any one of these labels.",
            ]
        ),
        (
            "host_source",
            [
                "type": "string", "enum": ["tenant", "pool"],
                "description": "SSH: `pool` names the provider's shared pool (needs providers.manage).",
            ]
        ),
        ("ssh_login", ["type": ["string", "null"], "pattern": "^[a-z_][a-z0-9_-]{0,31}$"]),
        ("role", ["type": ["string", "null"], "enum": .array(AccessPolicy.knownRoles.sorted().map { .string($0) } + [.null])]),
        ("requester_roles", ["type": "array", "minItems": 1, "items": ["type": "string", "enum": roleNames]]),
        ("max_seconds", ["type": "integer", "minimum": 60, "maximum": 2_678_400]),
        ("customer_approvals", ["type": "integer", "minimum": 0, "maximum": 5]),
        ("approver_roles", ["type": "array", "items": ["type": "string", "enum": ["viewer", "requester", "approver", "tenant_admin"]]]),
        ("provider_approvals", ["type": "integer", "minimum": 0, "maximum": 5]),
        ("link_required", ["type": "string", "enum": ["none", "request", "incident"]]),
        ("business_hours_only", ["type": "boolean"]),
        ("break_glass_roles", ["type": "array", "items": ["type": "string", "enum": roleNames]]),
        ("break_glass_max_seconds", ["type": "integer", "minimum": 60, "maximum": 86400]),
        ("lapse_seconds", ["type": "integer", "minimum": 60, "maximum": 2_592_000]),
        ("enabled", ["type": "boolean"]),
        ("permit_port_forwarding", ["type": "boolean"]),
        ("source_addresses", ["type": "array", "maxItems": 32, "items": ["type": "string", "maxLength": 43]]),
        ("force_command", ["type": ["string", "null"], "minLength": 1, "maxLength": 1000, "pattern": "^[^\\n\\r\\u0000]*$"]),
    ]

    static let newPolicy = SchemaComponent(
        "NewAccessPolicy",
        schema: [
            "type": "object", "required": ["name", "kind", "requester_roles", "max_seconds"], "additionalProperties": false,
            "properties": .object(bodyProperties),
        ])
    static let policyChange = SchemaComponent(
        "AccessPolicyChange",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": .object(bodyProperties.filter { $0.0 != "kind" }),
        ])

    /// A body's fields; a field present as null (ssh_login, role, force_command) clears it.
    struct Body: Decodable {
        var name: String?
        var kind: AccessKind?
        var hostLabels: [String]?
        var hostSource: HostSource?
        var sshLogin: String??
        var role: String??
        var requesterRoles: [String]?
        var maxSeconds: Int?
        var customerApprovals: Int?
        var approverRoles: [String]?
        var providerApprovals: Int?
        var linkRequired: LinkRequirement?
        var businessHoursOnly: Bool?
        var breakGlassRoles: [String]?
        var breakGlassMaxSeconds: Int?
        var lapseSeconds: Int?
        var enabled: Bool?
        var permitPortForwarding: Bool?
        var sourceAddresses: [String]?
        var forceCommand: String??

        enum CodingKeys: String, CodingKey {
            case name, kind, role, enabled
            case hostLabels = "host_labels", hostSource = "host_source", sshLogin = "ssh_login", requesterRoles = "requester_roles"
            case maxSeconds = "max_seconds", customerApprovals = "customer_approvals", approverRoles = "approver_roles"
            case providerApprovals = "provider_approvals", linkRequired = "link_required", businessHoursOnly = "business_hours_only"
            case breakGlassRoles = "break_glass_roles", breakGlassMaxSeconds = "break_glass_max_seconds", lapseSeconds = "lapse_seconds"
            case permitPortForwarding = "permit_port_forwarding", sourceAddresses = "source_addresses", forceCommand = "force_command"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            /// Present (a value or null) or absent.
            func nullable(_ key: CodingKeys) throws -> String?? {
                c.contains(key) ? .some(try c.decodeIfPresent(String.self, forKey: key)) : .none
            }
            name = try c.decodeIfPresent(String.self, forKey: .name)
            kind = try c.decodeIfPresent(AccessKind.self, forKey: .kind)
            hostLabels = try c.decodeIfPresent([String].self, forKey: .hostLabels)
            hostSource = try c.decodeIfPresent(HostSource.self, forKey: .hostSource)
            sshLogin = try nullable(.sshLogin)
            role = try nullable(.role)
            requesterRoles = try c.decodeIfPresent([String].self, forKey: .requesterRoles)
            maxSeconds = try c.decodeIfPresent(Int.self, forKey: .maxSeconds)
            customerApprovals = try c.decodeIfPresent(Int.self, forKey: .customerApprovals)
            approverRoles = try c.decodeIfPresent([String].self, forKey: .approverRoles)
            providerApprovals = try c.decodeIfPresent(Int.self, forKey: .providerApprovals)
            linkRequired = try c.decodeIfPresent(LinkRequirement.self, forKey: .linkRequired)
            businessHoursOnly = try c.decodeIfPresent(Bool.self, forKey: .businessHoursOnly)
            breakGlassRoles = try c.decodeIfPresent([String].self, forKey: .breakGlassRoles)
            breakGlassMaxSeconds = try c.decodeIfPresent(Int.self, forKey: .breakGlassMaxSeconds)
            lapseSeconds = try c.decodeIfPresent(Int.self, forKey: .lapseSeconds)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
            permitPortForwarding = try c.decodeIfPresent(Bool.self, forKey: .permitPortForwarding)
            sourceAddresses = try c.decodeIfPresent([String].self, forKey: .sourceAddresses)
            forceCommand = try nullable(.forceCommand)
        }

        /// `policy` with this body's fields put over it.
        func applied(to policy: AccessPolicy) -> AccessPolicy {
            var p = policy
            if let name { p.name = name.trimmingCharacters(in: .whitespacesAndNewlines) }
            if let hostLabels { p.hostLabels = hostLabels }
            if let hostSource { p.hostSource = hostSource }
            if let sshLogin { p.sshLogin = sshLogin }
            if let role { p.role = role }
            if let requesterRoles { p.requesterRoles = Set(requesterRoles) }
            if let maxSeconds { p.maxSeconds = maxSeconds }
            if let customerApprovals { p.customerApprovals = customerApprovals }
            if let approverRoles { p.approverRoles = Set(approverRoles) }
            if let providerApprovals { p.providerApprovals = providerApprovals }
            if let linkRequired { p.linkRequired = linkRequired }
            if let businessHoursOnly { p.businessHoursOnly = businessHoursOnly }
            if let breakGlassRoles { p.breakGlassRoles = Set(breakGlassRoles) }
            if let breakGlassMaxSeconds { p.breakGlassMaxSeconds = breakGlassMaxSeconds }
            if let lapseSeconds { p.lapseSeconds = lapseSeconds }
            if let enabled { p.enabled = enabled }
            if let permitPortForwarding { p.permitPortForwarding = permitPortForwarding }
            if let sourceAddresses { p.sourceAddresses = sourceAddresses }
            if let forceCommand { p.forceCommand = forceCommand }
            return p
        }
    }

    static func answer(_ policy: AccessPolicy, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(AccessAPI.json(policy), status: status)
        response.headers.set("ETag", policy.etag)
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The access policy's id.")
    static let ifMatch = HTTPServer.Operation.Parameter(
        "If-Match", in: .header, description: "The ETag of the version the change is based on (optional).")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission (a pool policy needs providers.manage)."),
        .problem(404, "No such access policy in this tenant."), .problem(429, "Rate limit used up."),
    ]
    static let writes: [HTTPServer.Operation.ResponseDoc] = [
        .problem(400, "Malformed JSON or an unknown field."), .problem(409, "The policy is archived."),
        .problem(412, "The policy changed since the given ETag."), .problem(422, "Invalid values: each field named."),
    ]

    /// The caller may write policies: tenant.settings.manage (the pool's hosts are checked by the store).
    static func requireWrite(_ ctx: APIContext) throws { try ctx.require(.tenantSettingsManage) }

    /// The page's field names in the rules' messages, as the API's body names them.
    static let apiNames = [
        "max_minutes": "max_seconds", "break_glass_minutes": "break_glass_max_seconds", "lapse_minutes": "lapse_seconds",
        "approvals": "customer_approvals",
    ]

    /// Runs `body`; a refusal of values comes back naming the API's fields.
    static func named<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ValidationError {
            throw ValidationError(error.fieldErrors.map { FieldError(field: apiNames[$0.field] ?? $0.field, detail: $0.detail) })
        }
    }

    static func register(in routes: inout RouteTable, store: AccessStore) {
        routes.api(
            .post, .accessPolicies, scope: .accessManage, tenant: .required, options: .json,
            operation: Operation(
                id: "createAccessPolicy",
                summary: "Add an access policy: who may ask for a login on host groups (the tenant's or the provider's pool) or a role.",
                tags: ["access"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newPolicy,
                responses: [.init(201, "The policy.", component: AccessAPI.policy, headers: ["Location", "ETag"])] + writes + common)
        ) { ctx in
            try requireWrite(ctx)
            let body = try ctx.request.decode(Body.self, fields: fields)
            guard let kind = body.kind else { throw ValidationError(field: "kind", "ssh or role") }
            let base = AccessPolicy(
                id: UUID.v7(at: ctx.world.now), name: "", kind: kind, requesterRoles: [], maxSeconds: 3600)
            let policy = body.applied(to: base)
            let tenant = try ctx.tenant
            try named { try store.save(policy, tenant: tenant, actor: ctx.actor, principal: ctx.principal) }
            return answer(try store.policy(policy.id, tenant: tenant)!, status: .created).located(
                at: APIPath.accessPolicy.path(policy.id.postgresText))
        }

        routes.api(
            .get, .accessPolicy, scope: .accessRequest, tenant: .required,
            operation: Operation(
                id: "getAccessPolicy", summary: "One access policy (archived ones too), with its ETag.", tags: ["access"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The policy.", component: AccessAPI.policy, headers: ["ETag"])] + common)
        ) { ctx in
            try ctx.require(.accessRequest)
            guard let found = try store.policy(try ctx.request.uuidParameter("id"), tenant: try ctx.tenant) else {
                throw HTTPError(.notFound)
            }
            return answer(found)
        }

        routes.api(
            .patch, .accessPolicy, scope: .accessManage, tenant: .required, options: .json,
            operation: Operation(
                id: "updateAccessPolicy", summary: "Change the fields sent (null clears ssh_login, role or force_command).",
                tags: ["access"], parameters: [APIGate.tenantParameter, idParameter, ifMatch], requestComponent: policyChange,
                responses: [.init(200, "The policy as changed.", component: AccessAPI.policy, headers: ["ETag"])] + writes + common)
        ) { ctx in
            try requireWrite(ctx)
            let body = try ctx.request.decode(Body.self, fields: fields.subtracting(["kind"]))
            let (id, tenant) = (try ctx.request.uuidParameter("id"), try ctx.tenant)
            let changed = try named {
                try store.updatePolicy(
                    id, tenant: tenant, ifMatch: ctx.request.headers["If-Match"], principal: ctx.principal, actor: ctx.actor
                ) {
                    body.applied(to: $0)
                }
            }
            return answer(changed)
        }

        routes.api(
            .delete, .accessPolicy, scope: .accessManage, tenant: .required,
            operation: Operation(
                id: "archiveAccessPolicy",
                summary: "Archive an access policy: nobody asks under it any more; its access requests and grants keep it.",
                tags: ["access"], parameters: [APIGate.tenantParameter, idParameter, ifMatch],
                responses: [
                    .init(204, "Archived."), .problem(409, "Already archived."), .problem(412, "The policy changed since the given ETag."),
                ] + common)
        ) { ctx in
            try requireWrite(ctx)
            try store.archivePolicy(
                try ctx.request.uuidParameter("id"), tenant: try ctx.tenant, ifMatch: ctx.request.headers["If-Match"], actor: ctx.actor)
            return Response(status: .noContent)
        }
    }
}
