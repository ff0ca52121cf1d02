// /api/v1/probe-targets: the tenant's probed endpoints with this month's uptime and error budget
// (deployments:read); staff tokens with monitoring:write add URLs to probe and set objectives,
// intervals and probe credentials. /api/v1/maintenance-windows: planned maintenance (a window that
// ends before it starts, or starts in the past, is refused with 422). /api/v1/reports/uptime: the
// uptime report for any period (reports:read).
import Foundation
import HTTPServer
import Postgres

enum MonitoringAPI {
    static let objectives = SchemaComponent(
        "UptimeObjectives",
        schema: [
            "type": "object", "required": ["availability_percent", "p95_latency_ms", "p95_ttft_ms"],
            "properties": [
                "availability_percent": ["type": ["number", "null"], "description": "Per calendar month in the tenant's time zone."],
                "p95_latency_ms": ["type": ["integer", "null"]], "p95_ttft_ms": ["type": ["integer", "null"]],
            ],
        ])

    static let month = SchemaComponent(
        "UptimeMonth",
        schema: [
            "type": "object",
            "required": [
                "uptime_percent", "counted", "up", "down", "purser_errors", "maintenance", "budget_allowed_seconds", "budget_used_seconds",
                "budget_remaining_seconds", "budget_remaining_share",
            ],
            "properties": [
                "uptime_percent": ["type": ["number", "null"]], "counted": ["type": "integer"], "up": ["type": "integer"],
                "down": ["type": "integer", "description": "Failures confirmed by a retry."],
                "purser_errors": ["type": "integer", "description": "Purser's own failures to probe: not counted."],
                "maintenance": ["type": "integer", "description": "Probes in maintenance windows: not counted."],
                "budget_allowed_seconds": ["type": "number"], "budget_used_seconds": ["type": "number"],
                "budget_remaining_seconds": ["type": "number"], "budget_remaining_share": ["type": "number"],
            ],
        ])

    static let target = SchemaComponent(
        "ProbeTarget", uses: [objectives, month],
        schema: [
            "type": "object",
            "required": [
                "id", "name", "source", "kind", "url", "model", "endpoint_id", "interval_seconds", "timeout_ms", "objectives",
                "credentials_hint", "enabled", "state", "state_since", "last_probe_at", "last_error", "month",
                "last_24h",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"],
                "source": ["type": "string", "enum": ["endpoint", "manual"]],
                "kind": ["type": "string", "enum": ["http", "openai_chat", "sagemaker"]], "url": ["type": "string"],
                "model": ["type": "string"], "endpoint_id": ["type": ["string", "null"], "format": "uuid"],
                "interval_seconds": ["type": "integer"], "timeout_ms": ["type": "integer"],
                "objectives": objectives.ref, "credentials_hint": ["type": ["string", "null"]], "enabled": ["type": "boolean"],
                "state": ["type": "string", "enum": ["unknown", "up", "down"]],
                "state_since": ["type": ["string", "null"], "format": "date-time"],
                "last_probe_at": ["type": ["string", "null"], "format": "date-time"], "last_error": ["type": ["string", "null"]],
                "month": month.ref,
                "last_24h": [
                    "type": "object", "additionalProperties": false,
                    "description":
                        "The last 24 hours as LLM signals (error_rate 0–1, p95_latency_ms, p95_ttft_ms); an unmeasured one is absent.",
                    "properties": [
                        "error_rate": ["type": "number"], "p95_latency_ms": ["type": "number"], "p95_ttft_ms": ["type": "number"],
                    ],
                ],
            ],
        ])

    static let targetPage = SchemaComponent.page("ProbeTargetPage", of: target)

    static let fields: [(String, JSONValue)] = [
        ("name", ["type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"]),
        ("url", ["type": "string", "maxLength": 2000]), ("kind", ["type": "string", "enum": ["http", "openai_chat"]]),
        ("model", ["type": "string", "maxLength": 200]),
        ("credentials", ["type": "string", "maxLength": 4096, "description": "A bearer token for the probe; stored sealed, never shown."]),
        ("interval_seconds", ["type": "integer", "minimum": 15, "maximum": 3600]),
        ("timeout_ms", ["type": "integer", "minimum": 500, "maximum": 20000]),
        ("availability_percent", ["type": "number", "minimum": .number(0.001), "maximum": .number(99.999)]),
        ("p95_latency_ms", ["type": "integer", "minimum": 1, "maximum": 600_000]),
        ("p95_ttft_ms", ["type": "integer", "minimum": 1, "maximum": 600_000]),
    ]

    static let newTarget = SchemaComponent(
        "NewProbeTarget",
        schema: ["type": "object", "required": ["name", "url"], "additionalProperties": false, "properties": .object(fields)])

    static let targetChange = SchemaComponent(
        "ProbeTargetChange",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": .object(
                fields.map { field in
                    // null removes an objective: the endpoint follows the tenant's objectives again.
                    guard ProbeTargetInput.clearable.contains(field.0), case .object(let schema) = field.1 else { return field }
                    return (field.0, .object(schema.map { $0.0 == "type" ? ("type", .array([$0.1, "null"])) : $0 }))
                } + [("enabled", ["type": "boolean", "description": "false stops probing a URL added by hand."])]),
        ])

    static let window = SchemaComponent(
        "MaintenanceWindow",
        schema: [
            "type": "object", "required": ["id", "target_id", "starts_at", "ends_at", "reason"],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "target_id": ["type": ["string", "null"], "format": "uuid", "description": "null: every endpoint of the tenant."],
                "starts_at": ["type": "string", "format": "date-time"], "ends_at": ["type": "string", "format": "date-time"],
                "reason": ["type": "string"],
            ],
        ])

    static let windowPage = SchemaComponent.page("MaintenanceWindowPage", of: window)

    static let newWindow = SchemaComponent(
        "NewMaintenanceWindow",
        schema: [
            "type": "object", "required": ["starts_at", "ends_at", "reason"], "additionalProperties": false,
            "properties": [
                "target_id": ["type": "string", "format": "uuid"], "starts_at": ["type": "string", "format": "date-time"],
                "ends_at": ["type": "string", "format": "date-time"], "reason": ["type": "string", "minLength": 1, "maxLength": 500],
            ],
        ])

    static let reportRow = SchemaComponent(
        "UptimeReportRow",
        schema: [
            "type": "object",
            "required": [
                "endpoint_id", "name", "probes", "up", "down", "purser_errors", "maintenance", "uptime_percent", "objective_percent", "met",
                "p95_latency_ms", "p95_ttft_ms", "percentiles_exact",
            ],
            "properties": [
                "endpoint_id": ["type": ["string", "null"], "format": "uuid"], "name": ["type": "string"], "probes": ["type": "integer"],
                "up": ["type": "integer"], "down": ["type": "integer"], "purser_errors": ["type": "integer"],
                "maintenance": ["type": "integer"], "uptime_percent": ["type": ["number", "null"]],
                "objective_percent": ["type": ["number", "null"]], "met": ["type": ["boolean", "null"]],
                "p95_latency_ms": ["type": ["integer", "null"]], "p95_ttft_ms": ["type": ["integer", "null"]],
                "percentiles_exact": ["type": "boolean"],
            ],
        ])

    static let report = SchemaComponent(
        "UptimeReport", uses: [reportRow],
        schema: [
            "type": "object", "required": ["from", "to", "time_zone", "items", "total", "rules"],
            "properties": [
                "from": ["type": "string", "format": "date"], "to": ["type": "string", "format": "date"],
                "time_zone": ["type": "string"], "items": ["type": "array", "items": reportRow.ref], "total": reportRow.ref,
                "rules": ["type": "array", "items": ["type": "string"], "description": "How the figures are counted."],
            ],
        ])

    struct Body: Decodable {
        var name: String?
        var url: String?
        var kind: String?
        var model: String?
        var credentials: String?
        var intervalSeconds: Int?
        var timeoutMs: Int?
        var availabilityPercent: Double?
        var p95LatencyMs: Int?
        var p95TTFTMs: Int?
        var enabled: Bool?

        enum CodingKeys: String, CodingKey {
            case name, url, kind, model, credentials, enabled
            case intervalSeconds = "interval_seconds", timeoutMs = "timeout_ms", availabilityPercent = "availability_percent"
            case p95LatencyMs = "p95_latency_ms", p95TTFTMs = "p95_ttft_ms"
        }

        static let fields: Set<String> = Set(MonitoringAPI.fields.map(\.0))

        var input: ProbeTargetInput {
            var input = ProbeTargetInput()
            (input.name, input.url, input.kind, input.model, input.credentials) = (name, url, kind, model, credentials)
            (input.intervalSeconds, input.timeoutMs, input.availabilityPercent) = (intervalSeconds, timeoutMs, availabilityPercent)
            (input.p95LatencyMs, input.p95TTFTMs, input.enabled) = (p95LatencyMs, p95TTFTMs, enabled)
            return input
        }
    }

    struct WindowBody: Decodable {
        var targetID: UUID?
        var startsAt: String
        var endsAt: String
        var reason: String

        enum CodingKeys: String, CodingKey {
            case targetID = "target_id", startsAt = "starts_at", endsAt = "ends_at", reason
        }
    }

    static func time(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.string($0)) } ?? .null }
    static func int(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
    static func number(_ value: Double?) -> JSONValue { value.map { .number(($0 * 10000).rounded() / 10000) } ?? .null }

    static func json(_ status: EndpointStatus) -> JSONValue {
        let target = status.target, counts = status.month, budget = status.budget
        return [
            "id": .string(target.id.postgresText), "name": .string(target.name), "source": .string(target.source.rawValue),
            "kind": .string(target.kind.rawValue), "url": .string(target.url), "model": .string(target.model),
            "endpoint_id": target.endpointID.map { .string($0.postgresText) } ?? .null,
            "interval_seconds": .number(Double(target.intervalSeconds)), "timeout_ms": .number(Double(target.timeoutMs)),
            "objectives": [
                "availability_percent": number(status.objectives.availabilityPercent),
                "p95_latency_ms": int(status.objectives.p95LatencyMs),
                "p95_ttft_ms": int(status.objectives.p95TTFTMs),
            ],
            "credentials_hint": target.credentialsHint.map { .string($0) } ?? .null, "enabled": .bool(target.enabled),
            "state": .string(target.state), "state_since": time(target.stateSince), "last_probe_at": time(target.lastProbeAt),
            "last_error": target.lastError.map { .string($0) } ?? .null,
            "last_24h": .object(status.lastDay.sorted { $0.key < $1.key }.map { ($0.key.rawValue, number($0.value)) }),
            "month": [
                "uptime_percent": number(counts.uptimePercent), "counted": .number(Double(counts.counted)),
                "up": .number(Double(counts.up)),
                "down": .number(Double(counts.down)), "purser_errors": .number(Double(counts.purserErrors)),
                "maintenance": .number(Double(counts.maintenance)), "budget_allowed_seconds": number(budget.allowedSeconds),
                "budget_used_seconds": number(budget.usedSeconds), "budget_remaining_seconds": number(budget.remainingSeconds),
                "budget_remaining_share": number(budget.remainingShare),
            ],
        ]
    }

    static func json(_ row: UptimeReport.Row?, name: String, counts: UptimeCounts) -> JSONValue {
        [
            "endpoint_id": row.map { .string($0.target.id.postgresText) } ?? .null, "name": .string(name),
            "probes": .number(Double(counts.probes)), "up": .number(Double(counts.up)), "down": .number(Double(counts.down)),
            "purser_errors": .number(Double(counts.purserErrors)), "maintenance": .number(Double(counts.maintenance)),
            "uptime_percent": number(counts.uptimePercent), "objective_percent": number(row?.objectivePercent),
            "met": row?.met.map { .bool($0) } ?? .null, "p95_latency_ms": int(counts.latencyP95Ms), "p95_ttft_ms": int(counts.ttftP95Ms),
            "percentiles_exact": .bool(row?.exactPercentiles ?? true),
        ]
    }

    static func json(_ window: MaintenanceWindow) -> JSONValue {
        [
            "id": .string(window.id.postgresText), "target_id": window.target.map { .string($0.postgresText) } ?? .null,
            "starts_at": .string(RFC3339.string(window.startsAt)), "ends_at": .string(RFC3339.string(window.endsAt)),
            "reason": .string(window.reason),
        ]
    }

    static func one(_ database: Database, tenant: UUID, id: UUID, now: Date) throws -> EndpointStatus {
        guard let found = try database.inTenant(tenant, { try EndpointStatus.all($0, tenant: tenant, now: now, only: id).1.first }) else {
            throw NotFound(detail: "no such endpoint here")
        }
        return found
    }

    static func answer(_ status: EndpointStatus, code: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(status), status: code)
        response.headers.set("ETag", status.target.etag)
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The probe target's id.")
    static let limitParameter = HTTPServer.Operation.Parameter(
        "limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50).")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(400, "A malformed parameter or body."), .problem(401, "No valid token."),
        .problem(403, "A missing scope or permission."), .problem(404, "No such tenant or endpoint here."),
        .problem(429, "Rate limit used up."),
    ]

    static func limit(_ query: QueryParameters) throws -> Int {
        guard let text = query["limit"] else { return 50 }
        guard let value = Int(text), (1...100).contains(value) else { throw HTTPError(.badRequest, detail: "limit: 1–100") }
        return value
    }

    static func register(in routes: inout RouteTable, database: Database, targets: ProbeTargets) {
        routes.api(
            .get, .probeTargets, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "listProbeTargets", summary: "The tenant's probed endpoints by name, with this month's uptime and error budget.",
                tags: ["monitoring"],
                parameters: [
                    APIGate.tenantParameter, limitParameter,
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "maxLength": 100],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: targetPage)] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            let limit = try limit(ctx.request.query)
            let cursor = ctx.request.query["cursor"]
            if let cursor, cursor.count > 100 { throw HTTPError(.badRequest, detail: "cursor: pass next_cursor back") }
            let tenant = try ctx.tenant
            let all = try database.inTenant(tenant) { try EndpointStatus.all($0, tenant: tenant, now: ctx.world.clock.now).1 }
            let page = all.filter { cursor == nil || $0.target.name > cursor! }.prefix(limit + 1)
            let items = page.prefix(limit)
            return .json([
                "items": .array(items.map(json)), "next_cursor": page.count > limit ? .string(items.last!.target.name) : .null,
            ])
        }

        routes.api(
            .post, .probeTargets, scope: .monitoringWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createProbeTarget",
                summary:
                    "Probe a URL (checked against Purser's outbound destination rules; a deployment endpoint's target is made by Purser).",
                tags: ["monitoring"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newTarget,
                responses: [
                    .init(201, "The target.", component: target, headers: ["ETag", "Location"]),
                    .problem(409, "An endpoint of this name is probed here."),
                    .problem(422, "A value refused: the URL's destination, the name, the interval, …"),
                ] + common)
        ) { ctx in
            try ctx.require(.monitoringManage)
            let tenant = try ctx.tenant
            let body = try ctx.request.decode(Body.self, fields: Body.fields)
            let made = try targets.create(body.input, tenant: tenant, actor: ctx.actor)
            return answer(try one(database, tenant: tenant, id: made.id, now: ctx.world.clock.now), code: .created).located(
                at: APIPath.probeTarget.path(made.id.postgresText))
        }

        routes.api(
            .get, .probeTarget, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "getProbeTarget", summary: "One probed endpoint, with this month's uptime and error budget.", tags: ["monitoring"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The target.", component: target, headers: ["ETag"])] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            guard let id = UUID(uuidString: try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
            return answer(try one(database, tenant: try ctx.tenant, id: id, now: ctx.world.clock.now))
        }

        routes.api(
            .patch, .probeTarget, scope: .monitoringWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "updateProbeTarget",
                summary:
                    "Set objectives, interval or credentials; a URL added by hand may also change its address or stop (enabled false).",
                tags: ["monitoring"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init("If-Match", in: .header, description: "The ETag of the version the change is based on."),
                ],
                requestComponent: targetChange,
                responses: [
                    .init(200, "The target as changed.", component: target, headers: ["ETag"]),
                    .problem(412, "The target changed since the given ETag."), .problem(422, "A value refused."),
                ] + common)
        ) { ctx in
            try ctx.require(.monitoringManage)
            guard let id = UUID(uuidString: try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
            let tenant = try ctx.tenant
            let body = try ctx.request.decode(Body.self, fields: Body.fields.union(["enabled"]))
            var input = body.input
            // An objective sent as null is removed (decoding reads null as absent).
            let sent = (try? JSONSerialization.jsonObject(with: Data(ctx.request.body))) as? [String: Any] ?? [:]
            input.clearing = ProbeTargetInput.clearable.filter { sent[$0] is NSNull }
            _ = try targets.update(id, input, tenant: tenant, ifMatch: ctx.request.headers["If-Match"], actor: ctx.actor)
            return answer(try one(database, tenant: tenant, id: id, now: ctx.world.clock.now))
        }

        routes.api(
            .get, .maintenanceWindows, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "listMaintenanceWindows", summary: "Maintenance windows that end after now minus 30 days, by start.",
                tags: ["monitoring"],
                parameters: [
                    APIGate.tenantParameter, limitParameter,
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: windowPage)] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            let limit = try limit(ctx.request.query)
            let cursor = try ctx.request.query["cursor"].map {
                guard let id = UUID(uuidString: $0) else { throw HTTPError(.badRequest, detail: "cursor: pass next_cursor back") }
                return id
            }
            let tenant = try ctx.tenant, now = ctx.world.clock.now
            let all = try database.inTenant(tenant) {
                try MaintenanceWindows.list(
                    $0, tenant: tenant, from: now.addingTimeInterval(-30 * 86400), to: now.addingTimeInterval(3650 * 86400))
            }
            let after = cursor.flatMap { id in all.firstIndex { $0.id == id }.map { $0 + 1 } } ?? 0
            let page = all.dropFirst(after).prefix(limit + 1)
            let items = page.prefix(limit)
            return .json([
                "items": .array(items.map(json)), "next_cursor": page.count > limit ? .string(items.last!.id.postgresText) : .null,
            ])
        }

        routes.api(
            .post, .maintenanceWindows, scope: .monitoringWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createMaintenanceWindow",
                summary: "Plan maintenance ahead: probes inside it are not counted toward uptime, and its time leaves the month's budget.",
                tags: ["monitoring"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newWindow,
                responses: [
                    .init(201, "The window.", component: window, headers: ["Location"]),
                    .problem(422, "The window ends before it starts, starts in the past, lasts over 7 days, or names no endpoint here."),
                ] + common)
        ) { ctx in
            try ctx.require(.monitoringManage)
            let body = try ctx.request.decode(WindowBody.self, fields: ["target_id", "starts_at", "ends_at", "reason"])
            let made = try MaintenanceWindows.create(
                database, tenant: try ctx.tenant, target: body.targetID, startsAt: RFC3339.date(body.startsAt),
                endsAt: RFC3339.date(body.endsAt), reason: body.reason, actor: ctx.actor, at: ctx.world.clock.now)
            return Response.json(json(made), status: .created).located(at: APIPath.maintenanceWindow.path(made.id.postgresText))
        }

        routes.api(
            .get, .maintenanceWindow, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "getMaintenanceWindow", summary: "One maintenance window.", tags: ["monitoring"],
                parameters: [
                    APIGate.tenantParameter,
                    .init("id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The window's id."),
                ],
                responses: [.init(200, "The window.", component: window)] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            guard let id = UUID(uuidString: try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
            let tenant = try ctx.tenant
            guard let found = try database.inTenant(tenant, { try MaintenanceWindows.find($0, tenant: tenant, id: id) }) else {
                throw HTTPError(.notFound)
            }
            return .json(json(found))
        }

        routes.api(
            .get, .uptimeReport, scope: .reportsRead, tenant: .required,
            operation: Operation(
                id: "getUptimeReport",
                summary: "Uptime per endpoint and for the tenant over any period (days in the tenant's time zone), beside the objectives.",
                tags: ["reports"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "from", in: .query, schema: ["type": "string", "format": "date"],
                        description: "First day; by default the first day of the last day's month."),
                    .init(
                        "to", in: .query, schema: ["type": "string", "format": "date"],
                        description: "Last day, inclusive; today by default."),
                    .init("endpoint", in: .query, schema: ["type": "string", "format": "uuid"], description: "Only this endpoint."),
                    ReadYourWrites.parameter,
                ],
                responses: [.init(200, "The report.", component: report), .problem(422, "A bad date or period.")] + common)
        ) { ctx in
            try ctx.require(.reportsRead)
            let tenant = try ctx.tenant
            let report = try database.reading(for: ctx.request, at: ctx.world.clock.now) {
                try UptimeReport.compute($0, tenant: tenant, parameters: ctx.request.query, now: ctx.world.clock.now)
            }
            return .json([
                "from": .string(report.fromDay), "to": .string(report.toDay), "time_zone": .string(report.zone.identifier),
                "items": .array(report.rows.map { json($0, name: $0.target.name, counts: $0.counts) }),
                "total": json(nil, name: "(tenant)", counts: report.total), "rules": .array(EndpointStatus.rules.map { .string($0) }),
            ])
        }
    }
}
