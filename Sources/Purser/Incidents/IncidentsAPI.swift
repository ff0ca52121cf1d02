// /api/v1/incidents: open, list, read, change and acknowledge incidents, their timelines and
// postmortems. Reads need incidents.read, changes incidents.manage; changes name the version they
// read (If-Match → 412 when stale); a refused move answers 422 with state and allowed.
import Foundation
import HTTPServer
import Postgres

enum IncidentsAPI {
    static let severitySchema: JSONValue = ["type": "string", "enum": .array(IncidentSeverity.allCases.map { .string($0.rawValue) })]
    /// What a client may send: the answer's SEV1–SEV4, or the same in lower case.
    static let severityInputSchema: JSONValue = [
        "type": "string", "description": "SEV1–SEV4, read in any case.",
        "enum": .array(IncidentSeverity.allCases.flatMap { [.string($0.rawValue), .string($0.rawValue.lowercased())] }),
    ]
    static let stateSchema: JSONValue = ["type": "string", "enum": .array(IncidentState.allCases.map { .string($0.rawValue) })]
    static let titleSchema: JSONValue = [
        "type": "string", "minLength": 1, "maxLength": 200,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$",
    ]
    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let nullableTime: JSONValue = ["type": ["string", "null"], "format": "date-time"]

    static let incident = SchemaComponent(
        "Incident", uses: [RequestsAPI.person],
        schema: [
            "type": "object",
            "required": [
                "id", "title", "service", "severity", "state", "source", "request", "commander", "responders", "opened_at",
                "acknowledged_at", "mitigated_at", "resolved_at", "reviewed_at", "escalation_level", "updated_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "title": ["type": "string"], "service": ["type": "string"],
                "severity": severitySchema, "state": stateSchema,
                "source": ["type": "string", "enum": .array(IncidentSource.allCases.map { .string($0.rawValue) })],
                "request": [
                    "type": "object", "description": "The linked service request (type incident): its SLA clocks, replies and notes.",
                    "required": ["id", "number", "state"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"], "number": ["type": "string"],
                        "state": ["type": "string", "enum": .array(RequestState.allCases.map { .string($0.rawValue) })],
                    ],
                ],
                "commander": RequestsAPI.person.nullableRef,
                "responders": ["type": "array", "items": RequestsAPI.person.ref],
                "opened_at": time, "acknowledged_at": nullableTime, "mitigated_at": nullableTime, "resolved_at": nullableTime,
                "reviewed_at": nullableTime,
                "escalation_level": ["type": "integer", "description": "The last escalation level told (0: the first)."],
                "updated_at": time,
            ],
        ])

    static let incidentPage = SchemaComponent.page("IncidentPage", of: incident)

    static let newIncident = SchemaComponent(
        "NewIncident",
        schema: [
            "type": "object", "required": ["title", "severity"], "additionalProperties": false,
            "properties": [
                "title": titleSchema, "severity": severityInputSchema,
                "service": ["type": "string", "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"],
                "description": RequestRules.descriptionSchema,
            ],
        ])

    static let incidentChange = SchemaComponent(
        "IncidentChange",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": [
                "title": titleSchema, "severity": severityInputSchema, "state": stateSchema,
                "commander_id": [
                    "type": ["string", "null"], "format": "uuid", "description": "null: the incident has no commander any more.",
                ],
                "responders": ["type": "array", "maxItems": 50, "items": ["type": "string", "format": "uuid"]],
            ],
        ])

    static let timelineEntry = SchemaComponent(
        "IncidentTimelineEntry",
        schema: [
            "type": "object", "required": ["at", "kind", "actor", "detail", "internal"],
            "properties": [
                "at": time, "kind": ["type": "string"], "actor": ["type": ["string", "null"]], "detail": ["type": "string"],
                "internal": ["type": "boolean", "description": "An internal note: only staff see these."],
            ],
        ])

    static let timelinePage = SchemaComponent.page(
        "IncidentTimelinePage", of: timelineEntry, description: "The whole timeline, oldest first: `next_cursor` is always null.")

    static let actionItem: JSONValue = [
        "type": "object", "required": ["title", "owner_id", "due_on"], "additionalProperties": false,
        "properties": [
            "id": ["type": "string", "format": "uuid", "description": "An existing item's id keeps it."],
            "title": [
                "type": "string", "minLength": 1, "maxLength": 500,
                "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$",
            ],
            "owner_id": ["type": "string", "format": "uuid"], "due_on": ["type": "string", "format": "date"],
            "done": ["type": "boolean"], "done_at": nullableTime,
        ],
    ]

    static let postmortemText: [(String, JSONValue)] = [
        ("summary", TextSchema.withoutNUL(maxLength: 20000)),
        ("impact", TextSchema.withoutNUL(maxLength: 20000)),
        ("timeline", TextSchema.withoutNUL(maxLength: 20000)),
        ("root_cause", TextSchema.withoutNUL(maxLength: 20000)),
        ("went_well", TextSchema.withoutNUL(maxLength: 20000)),
    ]

    static let postmortem = SchemaComponent(
        "Postmortem",
        schema: [
            "type": "object",
            "required": ["summary", "impact", "timeline", "root_cause", "went_well", "action_items", "complete", "updated_at"],
            "properties": .object(
                postmortemText + [
                    ("action_items", ["type": "array", "items": actionItem]),
                    ("complete", ["type": "boolean", "description": "Summary, impact, timeline and root cause are written."]),
                    ("updated_at", nullableTime),
                ]),
        ])

    static let postmortemInput = SchemaComponent(
        "PostmortemInput",
        schema: [
            "type": "object", "required": ["summary", "impact", "timeline", "root_cause", "went_well"], "additionalProperties": false,
            "properties": .object(postmortemText + [("action_items", ["type": "array", "maxItems": 100, "items": actionItem])]),
        ])

    static let newUpdate = SchemaComponent(
        "NewIncidentUpdate",
        schema: [
            "type": "object", "required": ["body"], "additionalProperties": false,
            "properties": [
                "body": TextSchema.nonBlank(maxLength: 50000),
                "internal": ["type": "boolean", "description": "An internal note (staff only) instead of a customer-visible update."],
            ],
        ])

    static func json(_ incident: Incident) -> JSONValue {
        func stamp(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.string($0)) } ?? .null }
        return [
            "id": .string(incident.id.postgresText), "title": .string(incident.title), "service": .string(incident.service),
            "severity": .string(incident.severity.rawValue), "state": .string(incident.state.rawValue),
            "source": .string(incident.source.rawValue),
            "request": [
                "id": .string(incident.requestID.postgresText), "number": .string(incident.requestNumber),
                "state": .string(incident.requestState),
            ],
            "commander": incident.commander.map { ["id": .string($0.id.postgresText), "name": .string($0.name)] } ?? .null,
            "responders": .array(incident.responders.map { ["id": .string($0.id.postgresText), "name": .string($0.name)] }),
            "opened_at": stamp(incident.openedAt), "acknowledged_at": stamp(incident.acknowledgedAt),
            "mitigated_at": stamp(incident.mitigatedAt), "resolved_at": stamp(incident.resolvedAt),
            "reviewed_at": stamp(incident.reviewedAt),
            "escalation_level": .number(Double(incident.escalationLevel)), "updated_at": stamp(incident.updatedAt),
        ]
    }

    static func json(_ entry: IncidentTimelineEntry) -> JSONValue {
        [
            "at": .string(RFC3339.string(entry.at)), "kind": .string(entry.kind), "actor": entry.actor.map { .string($0) } ?? .null,
            "detail": .string(entry.detail), "internal": .bool(entry.isInternal),
        ]
    }

    static func json(_ postmortem: Postmortem) -> JSONValue {
        [
            "summary": .string(postmortem.summary), "impact": .string(postmortem.impact), "timeline": .string(postmortem.timeline),
            "root_cause": .string(postmortem.rootCause), "went_well": .string(postmortem.wentWell),
            "action_items": .array(
                postmortem.actions.map {
                    [
                        "id": .string($0.id.postgresText), "title": .string($0.title), "owner_id": .string($0.owner.id.postgresText),
                        "due_on": .string($0.dueOn), "done": .bool($0.doneAt != nil),
                        "done_at": $0.doneAt.map { .string(RFC3339.string($0)) } ?? .null,
                    ]
                }),
            "complete": .bool(postmortem.isComplete),
            "updated_at": postmortem.updatedAt.map { .string(RFC3339.string($0)) } ?? .null,
        ]
    }

    static func answer(_ incident: Incident, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(incident), status: status)
        response.headers.set("ETag", incident.etag)
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The incident's id.")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such incident in this tenant."), .problem(429, "Rate limit used up."),
    ]

    /// The permission and the incident named in the path, in the caller's tenant.
    static func onIncident(
        _ ctx: APIContext, store: IncidentStore, permission: Permission, _ body: (UUID, Incident) throws -> Response
    ) throws -> Response {
        try ctx.require(permission)
        let tenant = try ctx.tenant
        guard let id = UUID(uuidString: try ctx.request.parameter("id")), let found = try store.find(id, tenant: tenant) else {
            throw HTTPError(.notFound)
        }
        return try body(tenant, found)
    }

    static func register(in routes: inout RouteTable, store: IncidentStore, database: Database, comments: RequestComments) {
        routes.api(
            .post, .incidents, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createIncident", summary: "Open an incident by hand; its service request (type incident) is filed with it.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter],
                requestComponent: newIncident,
                responses: [
                    .init(201, "The incident.", component: incident, headers: ["Location", "ETag"]),
                    .problem(400, "Malformed JSON."), .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "Invalid values, or an Idempotency-Key reused with another body."),
                ] + common)
        ) { ctx in
            try ctx.require(.incidentsManage)
            let opened = try store.open(
                try ctx.request.decode(NewIncident.self, fields: ["title", "severity", "service", "description"]),
                tenant: try ctx.tenant, principal: ctx.principal, actor: ctx.actor)
            return answer(opened, status: .created).located(at: APIPath.incident.path(opened.id.postgresText))
        }

        routes.api(
            .get, .incidents, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "listIncidents", summary: "The tenant's incidents, newest first, a page at a time.", tags: ["incidents"],
                parameters: [
                    APIGate.tenantParameter,
                    .init("state", in: .query, schema: stateSchema, description: "Only this state."),
                    .init("severity", in: .query, schema: severityInputSchema, description: "Only this severity."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (20)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: incidentPage), .problem(400, "A malformed parameter.")] + common)
        ) { ctx in
            try ctx.require(.incidentsRead)
            let query = ctx.request.query
            let state = query["state"].map { IncidentState(rawValue: $0) }
            let severity = query["severity"].map { IncidentSeverity.parse($0) }
            let limit = query["limit"].map { Int($0) }
            let cursor = query["cursor"].map { UUID(uuidString: $0) }
            if state == .some(nil) { throw HTTPError(.badRequest, detail: "state: use one of the incident states") }
            if severity == .some(nil) { throw HTTPError(.badRequest, detail: "severity: use SEV1, SEV2, SEV3 or SEV4") }
            if cursor == .some(nil) { throw HTTPError(.badRequest, detail: "cursor: pass next_cursor back") }
            guard let size = (limit ?? 20), (1...100).contains(size) else { throw HTTPError(.badRequest, detail: "limit: 1–100") }
            let page = try store.list(
                tenant: try ctx.tenant, states: (state ?? nil).map { [$0] }, severity: severity ?? nil, cursor: cursor ?? nil, limit: size)
            return .json([
                "items": .array(page.items.map { json($0.incident) }), "next_cursor": page.next.map { .string($0.postgresText) } ?? .null,
            ])
        }

        routes.api(
            .get, .incident, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "getIncident", summary: "One incident.", tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The incident.", component: incident, headers: ["ETag"])] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsRead) { _, found in answer(found) }
        }

        routes.api(
            .patch, .incident, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "updateIncident",
                summary: "Change an incident's title, severity, state, commander or responders; send the ETag you read as If-Match.",
                tags: ["incidents"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init("If-Match", in: .header, description: "The ETag of the version the change is based on."),
                ],
                requestComponent: incidentChange,
                responses: [
                    .init(200, "The incident as changed.", component: incident, headers: ["ETag"]),
                    .problem(400, "Malformed JSON."), .problem(412, "The incident changed since the given ETag."),
                    .problem(422, "A value, or a move the workflow forbids (state and allowed name what is possible)."),
                ] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsManage) { tenant, found in
                let change = try ctx.request.decode(
                    IncidentChange.self, fields: ["title", "severity", "state", "commander_id", "responders"])
                return answer(
                    try store.change(
                        found.id, tenant: tenant, change: change, expected: ctx.request.headers["If-Match"], principal: ctx.principal,
                        actor: ctx.actor))
            }
        }

        routes.api(
            .post, .incidentAcknowledge, scope: .incidentsWrite, tenant: .required,
            operation: Operation(
                id: "acknowledgeIncident", summary: "Acknowledge an open incident: escalation stops. Again: no change.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter],
                responses: [
                    .init(200, "The incident.", component: incident, headers: ["ETag"]),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "The incident is resolved or reviewed (state and allowed say what it can do)."),
                ] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsManage) { tenant, found in
                answer(try store.acknowledge(found.id, tenant: tenant, principal: ctx.principal, actor: ctx.actor))
            }
        }

        routes.api(
            .get, .incidentTimeline, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "getIncidentTimeline",
                summary: "State changes, alerts, updates (internal notes for staff), deployments, rollbacks and JIT grants, oldest first.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The timeline.", component: timelinePage)] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsRead) { tenant, found in
                let entries = try database.inTenant(tenant) { tx in
                    try IncidentTimeline.entries(
                        tx, tenant: tenant, incident: found, includeInternal: ctx.principal.can(.requestsManage), now: ctx.world.now)
                }
                return .json(["items": .array(entries.map(json)), "next_cursor": .null])
            }
        }

        routes.api(
            .post, .incidentTimeline, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createIncidentUpdate",
                summary: "Post a customer-visible update, or (staff) an internal note: a reply or note on the linked request.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter],
                requestComponent: newUpdate,
                responses: [
                    .init(201, "The timeline entry.", component: timelineEntry, headers: ["Location"]), .problem(400, "Malformed JSON."),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "An empty body, or an Idempotency-Key reused with another body."),
                ] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsManage) { tenant, found in
                struct Input: Decodable {
                    let body: String
                    let isInternal: Bool?
                    enum CodingKeys: String, CodingKey { case body, isInternal = "internal" }
                }
                let input = try ctx.request.decode(Input.self, fields: ["body", "internal"])
                let comment = try comments.add(
                    to: found.requestID, tenant: tenant, body: input.body, isInternal: input.isInternal ?? false, principal: ctx.principal,
                    actor: ctx.actor)
                // The entry has no address of its own: the timeline it joined.
                return Response.json(
                    json(
                        IncidentTimelineEntry(
                            at: comment.createdAt, kind: comment.isInternal ? "internal_note" : "update", actor: comment.author.name,
                            detail: comment.body, isInternal: comment.isInternal)), status: .created
                ).located(at: APIPath.incidentTimeline.path(found.id.postgresText))
            }
        }

        routes.api(
            .get, .incidentPostmortem, scope: .incidentsRead, tenant: .required,
            operation: Operation(
                id: "getIncidentPostmortem", summary: "The postmortem (empty until written).", tags: ["incidents"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The postmortem.", component: postmortem)] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsRead) { tenant, found in
                .json(
                    json(
                        try database.inTenant(tenant) { tx in try Postmortems.load(tx, tenant: tenant, incident: found.id) } ?? Postmortem()
                    ))
            }
        }

        routes.api(
            .put, .incidentPostmortem, scope: .incidentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "putIncidentPostmortem",
                summary: "Write the postmortem; `action_items` replaces the items (an item's id keeps it and when it was done).",
                tags: ["incidents"], parameters: [APIGate.tenantParameter, idParameter],
                requestComponent: postmortemInput,
                responses: [
                    .init(200, "The postmortem.", component: postmortem), .problem(400, "Malformed JSON."),
                    .problem(422, "Too long, a bad due date, or an owner who is not a member."),
                ] + common)
        ) { ctx in
            try onIncident(ctx, store: store, permission: .incidentsManage) { tenant, found in
                struct Input: Decodable {
                    let text: PostmortemText
                    let actionItems: [PostmortemActionInput]?
                    enum CodingKeys: String, CodingKey { case actionItems = "action_items" }
                    init(from decoder: any Decoder) throws {
                        text = try PostmortemText(from: decoder)
                        actionItems = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(
                            [PostmortemActionInput].self, forKey: .actionItems)
                    }
                }
                let input = try ctx.request.decode(
                    Input.self, fields: ["summary", "impact", "timeline", "root_cause", "went_well", "action_items"])
                let saved = try database.inTenant(tenant) { tx in
                    let now = ctx.world.now
                    if let items = input.actionItems {
                        let problems = try Postmortems.actionProblems(
                            tx, tenant: tenant, incident: found.id, items, prefix: "action_items")
                        if !problems.isEmpty { throw ValidationError(problems) }
                    }
                    try Postmortems.save(
                        tx, tenant: tenant, incident: found.id, text: input.text, by: ctx.principal.user, actor: ctx.actor, at: now)
                    if let items = input.actionItems {
                        try Postmortems.replaceActions(tx, tenant: tenant, incident: found.id, items: items, at: now)
                    }
                    return try Postmortems.load(tx, tenant: tenant, incident: found.id) ?? Postmortem()
                }
                return .json(json(saved))
            }
        }
    }
}
