// /api/v1/runbooks and /api/v1/escalation-policies: what /t/{tenant}/runbooks and
// /t/{tenant}/escalation do, for tokens. Reading needs incidents:read (incidents.read); writing
// incidents:write (incidents.manage), as the pages. A runbook is one per alert name or service
// (a second for the same match is a 409); its ETag follows its last change and a PATCH or DELETE
// may name it (If-Match → 412 when stale). The escalation policy is the tenant's one list of levels,
// replaced whole by a POST.
import Foundation
import HTTPServer
import Postgres

extension Runbooks {
    static func find(_ tx: Connection, tenant: UUID, id: UUID, lock: Bool = false) throws -> Runbook? {
        try tx.query(
            "SELECT \(columns) FROM runbooks WHERE tenant_id = $1 AND id = $2" + (lock ? " FOR UPDATE" : ""), [tenant, id]
        ).first.map(decode)
    }

    /// A runbook's version, for If-Match: when it last changed, to the microsecond.
    static func etag(_ runbook: Runbook) -> String { "\"r\(Int64((runbook.updatedAt.timeIntervalSince1970 * 1_000_000).rounded()))\"" }

    /// Removes the runbook (the incidents that showed it keep their history); audited as the page's removal is.
    static func delete(_ tx: Connection, tenant: UUID, _ runbook: Runbook, actor: AuditActor, at now: Date) throws {
        try tx.query("DELETE FROM runbooks WHERE tenant_id = $1 AND id = $2", [tenant, runbook.id])
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: actor, action: "incident.runbook", targetType: "runbook",
                targetID: "\(runbook.match.rawValue):\(runbook.value)",
                after: try JSONText(encoding: ["title": runbook.title, "removed": "true"]), at: now), in: tx)
    }
}

/// The runbook named by the path changed since the version the caller read (412).
struct RunbookChanged: DomainError {
    var refusal: Refusal { .changedSince }
    var detail: String? { "the runbook changed since that version; read it again" }
}

enum RunbooksAPI {
    static let oneLine: JSONValue = IncidentsAPI.titleSchema
    static let markdown = TextSchema.nonBlank(maxLength: 50000, description: "Markdown, shown on matching incidents.")
    static let matchSchema: JSONValue = ["type": "string", "enum": .array(Runbook.Match.allCases.map { .string($0.rawValue) })]

    static let runbook = SchemaComponent(
        "Runbook",
        schema: [
            "type": "object", "required": ["id", "match", "value", "title", "body", "updated_at"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "match": matchSchema,
                "value": ["type": "string", "description": "The alert name or the service it is for."], "title": ["type": "string"],
                "body": ["type": "string"], "updated_at": IncidentsAPI.time,
            ],
        ])
    static let runbookList = SchemaComponent.page(
        "RunbookPage", of: runbook, description: "Every runbook of the tenant, by match and value: `next_cursor` is always null.")
    static let newRunbook = SchemaComponent(
        "NewRunbook",
        schema: [
            "type": "object", "required": ["match", "value", "title", "body"], "additionalProperties": false,
            "properties": ["match": matchSchema, "value": oneLine, "title": oneLine, "body": markdown],
        ])
    static let runbookChange = SchemaComponent(
        "RunbookChange",
        schema: [
            "type": "object", "additionalProperties": false, "properties": ["title": oneLine, "body": markdown],
        ])

    static let level: JSONValue = [
        "type": "object", "required": ["after_minutes", "people", "channels"], "additionalProperties": false,
        "properties": [
            "after_minutes": [
                "type": "integer", "minimum": 0, "maximum": 1440,
                "description": "Minutes after the level before (1–1440); ignored for the first level, told at once.",
            ],
            "people": [
                "type": "array", "maxItems": 50, "items": ["type": "string", "format": "uuid"],
                "description": "Active members of the tenant, or staff: e-mailed.",
            ],
            "channels": [
                "type": "array", "maxItems": 20, "items": ["type": "string", "format": "uuid"],
                "description": "The tenant's notification channels.",
            ],
        ],
    ]
    static let escalationPolicy = SchemaComponent(
        "EscalationPolicy",
        schema: [
            "type": "object", "required": ["levels", "updated_at"],
            "properties": [
                "levels": ["type": "array", "items": level], "updated_at": IncidentsAPI.nullableTime,
            ],
        ])
    static let escalationInput = SchemaComponent(
        "EscalationPolicyInput",
        schema: [
            "type": "object", "required": ["levels"], "additionalProperties": false,
            "properties": ["levels": ["type": "array", "maxItems": .number(Double(EscalationPolicies.maxLevels)), "items": level]],
        ])

    static func json(_ runbook: Runbook) -> JSONValue {
        [
            "id": .string(runbook.id.postgresText), "match": .string(runbook.match.rawValue), "value": .string(runbook.value),
            "title": .string(runbook.title), "body": .string(runbook.body), "updated_at": .string(RFC3339.string(runbook.updatedAt)),
        ]
    }

    static func answer(_ runbook: Runbook, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(runbook), status: status)
        response.headers.set("ETag", Runbooks.etag(runbook))
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The runbook's id.")
    static let ifMatch = HTTPServer.Operation.Parameter(
        "If-Match", in: .header, description: "The ETag of the version the change is based on (optional).")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such tenant or runbook here."), .problem(429, "Rate limit used up."),
    ]

    struct NewRunbookBody: Decodable {
        let match: String
        let value: String
        let title: String
        let body: String
    }

    struct RunbookChangeBody: Decodable {
        let title: String?
        let body: String?
    }

    struct EscalationBody: Decodable {
        let levels: [EscalationLevel]
    }

    static func register(in routes: inout RouteTable, database: Database) {
        routes.api(
            .get, .runbooks, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "listRunbooks", summary: "The tenant's runbooks (Markdown per alert name or service).", tags: ["incidents"],
                parameters: [APIGate.tenantParameter], responses: [.init(200, "The runbooks.", component: runbookList)] + common)
        ) { ctx in
            try ctx.require(.incidentsRead)
            let tenant = try ctx.tenant
            let all = try database.inTenant(tenant) { try Runbooks.all($0, tenant: tenant) }
            return .json(["items": .array(all.map(json)), "next_cursor": .null])
        }

        routes.api(
            .post, .runbooks, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createRunbook", summary: "Write the runbook for an alert name or a service.", tags: ["incidents"],
                parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newRunbook,
                responses: [
                    .init(201, "The runbook.", component: runbook, headers: ["Location", "ETag"]), .problem(400, "Malformed JSON."),
                    .problem(409, "A runbook for this match is there already (change it), or the same Idempotency-Key is still running."),
                    .problem(422, "Invalid values, or an Idempotency-Key reused with another body."),
                ] + common)
        ) { ctx in
            try ctx.require(.incidentsManage)
            let tenant = try ctx.tenant
            let input = try ctx.request.decode(NewRunbookBody.self, fields: ["match", "value", "title", "body"])
            let made = try database.inTenant(tenant) { tx -> Runbook in
                let value = input.value.trimmingCharacters(in: .whitespacesAndNewlines)
                if try !tx.query(
                    "SELECT 1 FROM runbooks WHERE tenant_id = $1 AND match_kind = $2 AND match_value = $3", [tenant, input.match, value]
                ).isEmpty {
                    throw ValidationError(field: "value", "a runbook for this \(input.match) is there already", refusal: .conflict)
                }
                if input.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    throw ValidationError(field: "body", "write the runbook")
                }
                try Runbooks.save(
                    tx, tenant: tenant, match: input.match, value: value, title: input.title, body: input.body, by: ctx.principal.user,
                    actor: ctx.actor, at: ctx.world.now)
                return try Runbooks.decode(
                    tx.query(
                        "SELECT \(Runbooks.columns) FROM runbooks WHERE tenant_id = $1 AND match_kind = $2 AND match_value = $3",
                        [tenant, input.match, value])[0])
            }
            return answer(made, status: .created).located(at: APIPath.runbook.path(made.id.postgresText))
        }

        routes.api(
            .get, .runbook, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "getRunbook", summary: "One runbook.", tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The runbook.", component: runbook, headers: ["ETag"])] + common)
        ) { ctx in
            try ctx.require(.incidentsRead)
            let tenant = try ctx.tenant, id = try ctx.request.uuidParameter("id")
            guard let found = try database.inTenant(tenant, { try Runbooks.find($0, tenant: tenant, id: id) }) else {
                throw HTTPError(.notFound)
            }
            return answer(found)
        }

        routes.api(
            .patch, .runbook, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "updateRunbook", summary: "Change a runbook's title or text; send the ETag you read as If-Match.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter, ifMatch], requestComponent: runbookChange,
                responses: [
                    .init(200, "The runbook as changed.", component: runbook, headers: ["ETag"]), .problem(400, "Malformed JSON."),
                    .problem(412, "The runbook changed since the given ETag."), .problem(422, "Invalid values."),
                ] + common)
        ) { ctx in
            try ctx.require(.incidentsManage)
            let tenant = try ctx.tenant, id = try ctx.request.uuidParameter("id")
            let change = try ctx.request.decode(RunbookChangeBody.self, fields: ["title", "body"])
            let changed = try database.inTenant(tenant) { tx -> Runbook in
                guard let current = try Runbooks.find(tx, tenant: tenant, id: id, lock: true) else { throw HTTPError(.notFound) }
                if let expected = ctx.request.headers["If-Match"], !IfMatch.admits(expected, current: Runbooks.etag(current)) {
                    throw RunbookChanged()
                }
                let body = change.body ?? current.body
                if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    throw ValidationError(field: "body", "write the runbook, or DELETE it")
                }
                try Runbooks.save(
                    tx, tenant: tenant, match: current.match.rawValue, value: current.value, title: change.title ?? current.title,
                    body: body, by: ctx.principal.user, actor: ctx.actor, at: ctx.world.now)
                return try Runbooks.find(tx, tenant: tenant, id: id)!
            }
            return answer(changed)
        }

        routes.api(
            .delete, .runbook, scope: .incidentsWrite, tenant: .required,
            operation: Operation(
                id: "deleteRunbook", summary: "Remove a runbook.", tags: ["incidents"],
                parameters: [APIGate.tenantParameter, idParameter, ifMatch],
                responses: [.init(204, "Removed."), .problem(412, "The runbook changed since the given ETag.")] + common)
        ) { ctx in
            try ctx.require(.incidentsManage)
            let tenant = try ctx.tenant, id = try ctx.request.uuidParameter("id")
            try database.inTenant(tenant) { tx in
                guard let current = try Runbooks.find(tx, tenant: tenant, id: id, lock: true) else { throw HTTPError(.notFound) }
                if let expected = ctx.request.headers["If-Match"], !IfMatch.admits(expected, current: Runbooks.etag(current)) {
                    throw RunbookChanged()
                }
                try Runbooks.delete(tx, tenant: tenant, current, actor: ctx.actor, at: ctx.world.now)
            }
            return Response(status: .noContent)
        }

        @Sendable func policy(_ tx: Connection, tenant: UUID) throws -> JSONValue {
            let stamp = try tx.query("SELECT updated_at FROM escalation_policies WHERE tenant_id = $1", [tenant]).first?
                .decode(0, as: Date.self)
            let levels = try EscalationPolicies.levels(tx, tenant: tenant)
            return [
                "levels": .array(
                    levels.map {
                        [
                            "after_minutes": .number(Double($0.afterMinutes)),
                            "people": .array($0.people.map { .string($0.postgresText) }),
                            "channels": .array($0.channels.map { .string($0.postgresText) }),
                        ]
                    }),
                "updated_at": stamp.map { .string(RFC3339.string($0)) } ?? .null,
            ]
        }

        routes.api(
            .get, .escalationPolicies, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "getEscalationPolicy",
                summary:
                    "Who is told when an incident opens, and who after how long while nobody acknowledges it (no levels: the tenant's administrators and subscribed channels).",
                tags: ["incidents"], parameters: [APIGate.tenantParameter],
                responses: [.init(200, "The tenant's escalation policy.", component: escalationPolicy)] + common)
        ) { ctx in
            try ctx.require(.incidentsRead)
            let tenant = try ctx.tenant
            return .json(try database.inTenant(tenant) { try policy($0, tenant: tenant) })
        }

        routes.api(
            .post, .escalationPolicies, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "setEscalationPolicy", summary: "Replace the tenant's escalation levels (level 0 is told at once).",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter],
                requestComponent: escalationInput,
                responses: [
                    .init(200, "The escalation policy as saved.", component: escalationPolicy), .problem(400, "Malformed JSON."),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(
                        422,
                        "A wait outside 1–1440 minutes, people who are not members or staff, another tenant's channels, a level telling nobody, or an Idempotency-Key reused with another body."
                    ),
                ] + common)
        ) { ctx in
            try ctx.require(.incidentsManage)
            let tenant = try ctx.tenant
            let input = try ctx.request.decode(EscalationBody.self, fields: ["levels"])
            let saved = try database.inTenant(tenant) { tx in
                try EscalationPolicies.save(
                    tx, tenant: tenant,
                    levels: input.levels.enumerated().map { index, level in
                        EscalationLevel(afterMinutes: index == 0 ? 0 : level.afterMinutes, people: level.people, channels: level.channels)
                    }, by: ctx.principal.user, actor: ctx.actor, at: ctx.world.now)
                return try policy(tx, tenant: tenant)
            }
            return .json(saved)
        }
    }
}
