// /api/v1/hosts: the GPU host inventory. A tenant's token (or a staff token naming ?tenant=) sees
// and changes that tenant's hosts; a staff token naming no tenant sees every host, the shared pool's
// included, and adds hosts to the pool. Reading needs providers.manage or access.request (people
// who may ask for SSH access see the hosts they may ask for); writing needs providers.manage.
import Foundation
import HTTPServer
import Postgres

enum HostsAPI {
    static let gpu = SchemaComponent(
        "HostGPU",
        schema: [
            "type": "object", "required": ["model", "count", "memory_mib"], "additionalProperties": false,
            "properties": [
                "model": ["type": "string", "minLength": 1, "maxLength": 100, "examples": ["NVIDIA H100 80GB HBM3"]],
                "count": ["type": "integer", "minimum": 1, "maximum": 64],
                "memory_mib": ["type": "integer", "minimum": 1, "maximum": 4_194_304],
            ],
        ])

    static let host = SchemaComponent(
        "Host", uses: [gpu],
        schema: [
            "type": "object",
            "required": [
                "id", "tenant", "name", "address", "ssh_port", "ssh_login", "host_keys", "labels", "gpus", "runtime", "models",
                "state", "principal_purser", "health", "health_at", "health_error", "created_at", "updated_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "tenant": [
                    "type": ["string", "null"], "description": "The tenant's slug; null for a host of the provider's shared pool.",
                ],
                "name": ["type": "string"], "address": ["type": "string"], "ssh_port": ["type": "integer"],
                "ssh_login": ["type": "string", "description": "The login Purser's health and drain commands run as."],
                "host_keys": ["type": "array", "items": ["type": "string"]],
                "labels": ["type": "array", "items": ["type": "string"]],
                "gpus": ["type": "array", "items": gpu.ref],
                "runtime": ["type": "string", "enum": ["vllm", "tgi"]],
                "models": ["type": "array", "items": ["type": "string"]],
                "state": ["type": "string", "enum": ["active", "draining", "down"]],
                "principal_purser": ["type": "string", "description": "Purser's own principal on the host (AuthorizedPrincipalsFile)."],
                "health": [
                    "type": ["object", "null"], "description": "The last reading: gpus, uptime_seconds, disk_total_kib, disk_used_kib.",
                ],
                "health_at": ["type": ["string", "null"], "format": "date-time"],
                "health_error": ["type": ["string", "null"]],
                "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let hostPage = SchemaComponent.page("HostPage", of: host)

    static let fieldSchemas: [(String, JSONValue)] = [
        ("name", ["type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$"]),
        ("address", ["type": "string", "minLength": 1, "maxLength": 253, "description": "A host name or an IP address."]),
        ("ssh_port", ["type": "integer", "minimum": 1, "maximum": 65535]),
        ("ssh_login", ["type": "string", "pattern": "^[a-z_][a-z0-9_-]{0,31}$"]),
        ("host_keys", ["type": "array", "minItems": 1, "maxItems": 8, "items": ["type": "string", "maxLength": 16384]]),
        ("labels", ["type": "array", "maxItems": 20, "items": ["type": "string", "pattern": "^[a-z0-9][a-z0-9_.:/-]{0,99}$"]]),
        ("gpus", ["type": "array", "maxItems": 16, "items": gpu.ref]),
        ("runtime", ["type": "string", "enum": ["vllm", "tgi"]]),
        ("models", ["type": "array", "maxItems": 50, "items": ["type": "string", "maxLength": 200]]),
    ]

    static let newHost = SchemaComponent(
        "NewHost", uses: [gpu],
        schema: [
            "type": "object", "required": ["name", "address", "host_keys", "runtime"], "additionalProperties": false,
            "properties": .object(fieldSchemas),
        ])

    static let hostChange = SchemaComponent(
        "HostChange", uses: [gpu],
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": .object(
                fieldSchemas + [
                    (
                        "state",
                        ["type": "string", "enum": ["active", "draining"], "description": "draining drains the host; active undrains it."]
                    )
                ]),
        ])

    /// The JSON body of a POST or PATCH.
    struct Body: Decodable {
        var name: String?
        var address: String?
        var sshPort: Int?
        var sshLogin: String?
        var hostKeys: [String]?
        var labels: [String]?
        var gpus: [GPUHost.GPU]?
        var runtime: String?
        var models: [String]?
        var state: String?

        enum CodingKeys: String, CodingKey {
            case name, address, labels, gpus, runtime, models, state
            case sshPort = "ssh_port", sshLogin = "ssh_login", hostKeys = "host_keys"
        }

        static let fields: Set<String> = [
            "name", "address", "ssh_port", "ssh_login", "host_keys", "labels", "gpus", "runtime", "models", "state",
        ]

        var input: HostInput {
            var input = HostInput()
            (input.name, input.address, input.sshPort, input.sshLogin) = (name, address, sshPort, sshLogin)
            (input.hostKeys, input.labels, input.gpus, input.runtime, input.models, input.state) = (
                hostKeys, labels, gpus, runtime, models, state
            )
            return input
        }
    }

    static func json(_ host: GPUHost) -> JSONValue {
        let health: JSONValue =
            host.health.map { reading in
                [
                    "gpus": .array(
                        reading.gpus.map {
                            [
                                "name": .string($0.name), "memory_total_mib": .number(Double($0.memoryTotalMiB)),
                                "memory_used_mib": .number(Double($0.memoryUsedMiB)),
                                "utilization_percent": .number(Double($0.utilizationPercent)),
                                "temperature_c": .number(Double($0.temperatureC)),
                            ]
                        }),
                    "uptime_seconds": .number(Double(reading.uptimeSeconds)), "disk_total_kib": .number(Double(reading.diskTotalKiB)),
                    "disk_used_kib": .number(Double(reading.diskUsedKiB)),
                ]
            } ?? .null
        return [
            "id": .string(host.id.postgresText), "tenant": host.tenantSlug.map { .string($0) } ?? .null, "name": .string(host.name),
            "address": .string(host.address), "ssh_port": .number(Double(host.sshPort)), "ssh_login": .string(host.sshLogin),
            "host_keys": .array(host.hostKeys.map { .string($0) }), "labels": .array(host.labels.map { .string($0) }),
            "gpus": .array(
                host.gpus.map {
                    ["model": .string($0.model), "count": .number(Double($0.count)), "memory_mib": .number(Double($0.memoryMiB))]
                }),
            "runtime": .string(host.runtime.rawValue), "models": .array(host.models.map { .string($0) }),
            "state": .string(host.state.rawValue), "principal_purser": .string(SSHPrincipal.purser(hostName: host.name)),
            "health": health, "health_at": host.healthAt.map { .string(RFC3339.string($0)) } ?? .null,
            "health_error": host.healthError.map { .string($0) } ?? .null,
            "created_at": .string(RFC3339.string(host.createdAt)), "updated_at": .string(RFC3339.string(host.updatedAt)),
        ]
    }

    static func answer(_ host: GPUHost, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(host), status: status)
        response.headers.set("ETag", host.etag)
        return response
    }

    /// Whose hosts the call reaches: the tenant it names, or (a staff token naming none) all.
    static func reach(_ ctx: APIContext) throws -> HostStore.Reach {
        if let tenant = ctx.caller.tenant { return .tenant(tenant) }
        guard ctx.caller.identity.staffRole != nil else { throw HTTPError(.notFound) }
        return .staff
    }

    static func requireRead(_ ctx: APIContext) throws {
        if !ctx.principal.can(.accessRequest) { try ctx.require(.providersManage) }
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The host's id.")
    static let tenantParameter = HTTPServer.Operation.Parameter(
        "tenant", in: .query,
        description:
            "The tenant's slug. A customer token's own tenant is implied; a staff token naming none reaches every host, the shared pool's included."
    )
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such host here."), .problem(429, "Rate limit used up."),
    ]

    static func register(in routes: inout RouteTable, store: HostStore) {
        routes.api(
            .get, .hosts, scope: .hostsRead,
            operation: Operation(
                id: "listHosts", summary: "GPU hosts by tenant and name.", tags: ["hosts"],
                parameters: [
                    tenantParameter,
                    .init(
                        "pool", in: .query, schema: ["type": "string", "enum": ["true", "false"]],
                        description: "`true`: only the shared pool's (staff)."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "pattern": "^[a-z0-9-]{0,40}/[a-z0-9-]{1,40}$"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: hostPage), .problem(400, "A malformed parameter.")] + common)
        ) { ctx in
            try requireRead(ctx)
            let reach = try reach(ctx)
            let query = ctx.request.query
            var limit = 50
            if let text = query["limit"] {
                guard let value = Int(text), (1...100).contains(value) else { throw HTTPError(.badRequest, detail: "limit: 1–100") }
                limit = value
            }
            // A tenant's caller sees no pool hosts, so asking for only those finds none.
            if let pool = query["pool"], pool != "true" && pool != "false" { throw HTTPError(.badRequest, detail: "pool: true or false") }
            let poolOnly = query["pool"] == "true"
            if poolOnly && reach != .staff { return .json(["items": [], "next_cursor": .null]) }
            // The tenant's slug (empty for the pool), '/', and the host's name, as next_cursor gave it.
            let cursor = query["cursor"]
            if let cursor, cursor.range(of: "^[a-z0-9-]{0,40}/[a-z0-9-]{1,40}\\z", options: .regularExpression) == nil {
                throw HTTPError(.badRequest, detail: "cursor: not a cursor this list gave")
            }
            let page = try store.list(reach, after: cursor, limit: limit + 1, poolOnly: poolOnly)
            let items = page.prefix(limit)
            return .json([
                "items": .array(items.map(json)),
                "next_cursor": page.count > limit ? .string(HostStore.cursor(after: items.last!)) : .null,
            ])
        }

        routes.api(
            .post, .hosts, scope: .hostsWrite, options: .json,
            operation: Operation(
                id: "createHost", summary: "Add a GPU host to the tenant named (a staff token naming none: to the shared pool).",
                tags: ["hosts"], parameters: [tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newHost,
                responses: [
                    .init(201, "The host.", component: host, headers: ["ETag", "Location"]), .problem(400, "Malformed JSON."),
                    .problem(409, "A host of this name exists here."),
                    .problem(422, "A value refused: the address is not a host name or IP, a host key is not OpenSSH, …"),
                ] + common)
        ) { ctx in
            try ctx.require(.providersManage)
            let tenant: UUID?
            switch try reach(ctx) {
            case .tenant(let id): tenant = id
            case .staff: tenant = nil
            }
            let body = try ctx.request.decode(Body.self, fields: Body.fields.subtracting(["state"]))
            let created = try store.create(body.input, tenant: tenant, actor: ctx.actor)
            return answer(created, status: .created).located(at: APIPath.host.path(created.id.postgresText))
        }

        routes.api(
            .get, .host, scope: .hostsRead,
            operation: Operation(
                id: "getHost", summary: "One GPU host, with its last health reading.", tags: ["hosts"],
                parameters: [tenantParameter, idParameter],
                responses: [.init(200, "The host.", component: host, headers: ["ETag"])] + common)
        ) { ctx in
            try requireRead(ctx)
            return answer(try store.find(try ctx.request.uuidParameter("id"), try reach(ctx)))
        }

        routes.api(
            .patch, .host, scope: .hostsWrite, options: .json,
            operation: Operation(
                id: "updateHost",
                summary: "Change a host; `state` draining drains it and active undrains it (the hosts.drain job tells the host).",
                tags: ["hosts"],
                parameters: [
                    tenantParameter, idParameter,
                    .init("If-Match", in: .header, description: "The ETag of the version the change is based on."),
                ],
                requestComponent: hostChange,
                responses: [
                    .init(200, "The host as changed.", component: host, headers: ["ETag"]), .problem(400, "Malformed JSON."),
                    .problem(409, "A host of this name exists here."), .problem(412, "The host changed since the given ETag."),
                    .problem(422, "A value refused."),
                ] + common)
        ) { ctx in
            try ctx.require(.providersManage)
            let id = try ctx.request.uuidParameter("id")
            let body = try ctx.request.decode(Body.self, fields: Body.fields)
            return answer(
                try store.update(id, body.input, reach: try reach(ctx), ifMatch: ctx.request.headers["If-Match"], actor: ctx.actor))
        }
    }
}
