// /api/v1/requests: file, list, read and change service requests. Reads and writes are the
// tenant's own (row-level security); changes name the version they read (If-Match → 412 when
// stale); POST takes Idempotency-Key through the gate.
import Foundation
import HTTPServer
import Postgres

enum RequestsAPI {
    /// Someone a request names (requester, assignee, a comment's author): the same shape everywhere.
    static let person = SchemaComponent(
        "Person",
        schema: [
            "type": "object", "description": "A person: a requester, an assignee or an author.", "required": ["id", "name"],
            "properties": ["id": ["type": "string", "format": "uuid"], "name": ["type": "string"]],
        ])

    /// The staff group a request is with.
    static let group = SchemaComponent(
        "Group",
        schema: [
            "type": "object", "description": "A staff group requests are routed to.", "required": ["id", "name"],
            "properties": ["id": ["type": "string", "format": "uuid"], "name": ["type": "string"]],
        ])

    static let request = SchemaComponent(
        "Request", uses: [person, group, clock],
        schema: [
            "type": "object",
            "required": [
                "id", "number", "subject", "description", "type", "priority", "state", "requester", "assignee", "group",
                "tags", "escalated", "sla", "created_at", "updated_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "number": ["type": "string", "examples": ["ACME-42"]],
                "subject": ["type": "string"], "description": ["type": "string"],
                "type": ["type": "string", "enum": .array(RequestType.allCases.map { .string($0.rawValue) })],
                "priority": ["type": "string", "enum": .array(RequestPriority.allCases.map { .string($0.rawValue) })],
                "state": ["type": "string", "enum": .array(RequestState.allCases.map { .string($0.rawValue) })],
                "requester": person.ref,
                "assignee": person.nullableRef,
                "group": group.nullableRef,
                "tags": ["type": "array", "items": ["type": "string"]],
                "escalated": ["type": "boolean"],
                "sla": [
                    "type": "object", "description": "The SLA clocks: first_response, resolution and (deployments) deployment.",
                    "additionalProperties": clock.ref,
                ],
                "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let requestPage = SchemaComponent.page("RequestPage", of: request)

    /// The body that files a request.
    static let newRequest = SchemaComponent(
        "NewRequest",
        schema: [
            "type": "object", "required": ["subject", "type", "priority"], "additionalProperties": false,
            "properties": [
                "subject": RequestRules.subjectSchema, "description": RequestRules.descriptionSchema,
                "type": RequestRules.typeSchema, "priority": RequestRules.prioritySchema,
            ],
        ])

    /// The body that changes a request: only the fields sent change.
    static let requestChange = SchemaComponent(
        "RequestChange",
        schema: [
            "type": "object", "additionalProperties": false,
            "properties": [
                "subject": RequestRules.subjectSchema, "priority": RequestRules.prioritySchema,
                "state": ["type": "string", "enum": .array(RequestState.allCases.map { .string($0.rawValue) })],
                "assignee_id": ["type": "string", "format": "uuid"], "group_id": ["type": "string", "format": "uuid"],
                "tags": ["type": "array", "maxItems": 20, "items": ["type": "string", "pattern": "^[a-z0-9_.:-]{1,40}$"]],
            ],
        ])

    static func json(_ request: ServiceRequest) -> JSONValue {
        [
            "id": .string(request.id.postgresText), "number": .string(request.number), "subject": .string(request.subject),
            "description": .string(request.description), "type": .string(request.type), "priority": .string(request.priority),
            "state": .string(request.state),
            "requester": ["id": .string(request.requester.id.postgresText), "name": .string(request.requester.name)],
            "assignee": request.assignee.map { ["id": .string($0.id.postgresText), "name": .string($0.name)] } ?? .null,
            "group": request.group.map { ["id": .string($0.id.postgresText), "name": .string($0.name)] } ?? .null,
            "tags": .array(request.tags.map { .string($0) }), "escalated": .bool(request.escalated), "sla": sla(request.clocks),
            "created_at": .string(RFC3339.string(request.createdAt)), "updated_at": .string(RFC3339.string(request.updatedAt)),
        ]
    }

    static let clock = SchemaComponent(
        "SLAClock",
        schema: [
            "type": "object", "required": ["state", "due_at", "breached", "breached_at", "target_seconds", "business"],
            "properties": [
                "state": ["type": "string", "enum": ["running", "paused", "stopped"]],
                "due_at": ["type": ["string", "null"], "format": "date-time", "description": "When it falls due if it keeps running."],
                "breached": ["type": "boolean"],
                "breached_at": ["type": ["string", "null"], "format": "date-time"],
                "target_seconds": ["type": "number", "description": "The target, in working seconds of its calendar."],
                "used_seconds": ["type": "number", "description": "Working time used when it paused or stopped."],
                "business": ["type": "boolean", "description": "Counts business hours only."],
            ],
        ])

    static func sla(_ clocks: RequestClocks) -> JSONValue {
        .object(
            SLAClockKind.allCases.compactMap { kind in
                guard let clock = clocks[kind] else { return nil }
                var fields: [(String, JSONValue)] = [
                    ("state", .string(clock.state.rawValue)), ("due_at", clock.dueAt.map { .string(RFC3339.string($0)) } ?? .null),
                    ("breached", .bool(clock.breachedAt != nil)),
                    ("breached_at", clock.breachedAt.map { .string(RFC3339.string($0)) } ?? .null),
                    ("target_seconds", .number(clock.clock.target.rounded())), ("business", .bool(clock.isBusiness)),
                ]
                // A running clock's use grows with the calendar; a paused or stopped one's is fixed: what it banked.
                if clock.state != .running { fields.append(("used_seconds", .number(clock.clock.used.rounded()))) }
                return (kind.rawValue, .object(fields))
            })
    }

    static func answer(_ request: ServiceRequest, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(request), status: status)
        response.headers.set("ETag", request.etag)
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter("id", in: .path, description: "The request's id (UUID) or number (ACME-42).")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such request in this tenant."), .problem(429, "Rate limit used up."),
    ]

    static let comment = SchemaComponent(
        "Comment", uses: [person],
        schema: [
            "type": "object", "required": ["id", "author", "body", "internal", "created_at"],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "author": person.ref,
                "body": ["type": "string"], "internal": ["type": "boolean"], "created_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let commentPage = SchemaComponent.page(
        "CommentPage", of: comment, description: "The whole conversation: `next_cursor` is always null.")

    static let newComment = SchemaComponent(
        "NewComment",
        schema: [
            "type": "object", "required": ["body"], "additionalProperties": false,
            "properties": [
                "body": TextSchema.nonBlank(maxLength: 50000),
                "internal": ["type": "boolean"],
            ],
        ])

    static func json(_ comment: RequestComment) -> JSONValue {
        [
            "id": .string(comment.id.postgresText),
            "author": ["id": .string(comment.author.id.postgresText), "name": .string(comment.author.name)],
            "body": .string(comment.body), "internal": .bool(comment.isInternal), "created_at": .string(RFC3339.string(comment.createdAt)),
        ]
    }

    /// The permission and the request named in the path (by id or number; another tenant's is not
    /// found) in the caller's tenant — what every route on one request starts with.
    static func onRequest(
        _ ctx: APIContext, store: RequestStore, permission: Permission,
        _ body: (UUID, ServiceRequest) throws -> Response
    ) throws -> Response {
        try ctx.require(permission)
        let tenant = try ctx.tenant
        guard let found = try store.find(try ctx.request.parameter("id"), tenant: tenant) else { throw HTTPError(.notFound) }
        return try body(tenant, found)
    }

    static let attachment = SchemaComponent(
        "Attachment",
        schema: [
            "type": "object", "required": ["id", "filename", "content_type", "size", "sha256", "uploaded_by", "created_at"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "filename": ["type": "string"], "content_type": ["type": "string"],
                "size": ["type": "integer"], "sha256": ["type": "string"], "uploaded_by": ["type": "string"],
                "created_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let attachmentPage = SchemaComponent.page(
        "AttachmentPage", of: attachment, description: "Every file of the request: `next_cursor` is always null.")

    static func json(_ attachment: RequestAttachment) -> JSONValue {
        [
            "id": .string(attachment.id.postgresText), "filename": .string(attachment.filename),
            "content_type": .string(attachment.contentType), "size": .number(Double(attachment.size)), "sha256": .string(attachment.sha256),
            "uploaded_by": .string(attachment.uploadedBy), "created_at": .string(RFC3339.string(attachment.createdAt)),
        ]
    }

    /// Files: the body is the file itself, its type in Content-Type, its name in `?filename=`.
    static func registerAttachments(in routes: inout RouteTable, store: RequestStore, attachments: RequestAttachments) {
        routes.api(
            .post, .requestAttachments, scope: .requestsWrite, tenant: .required,
            options: RouteOptions(bodyLimit: RequestAttachments.sizeLimit),
            operation: Operation(
                id: "createRequestAttachment", summary: "Attach a file: the body is the file, Content-Type its type, `filename` its name.",
                tags: ["requests"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init(
                        "filename", in: .query, required: true, schema: ["type": "string", "minLength": 1, "maxLength": 200],
                        description: "The file's name."),
                ],
                requestBody: ["type": "string", "format": "binary"], requestContentTypes: RequestAttachments.allowedTypes,
                responses: [
                    .init(201, "The attachment.", component: attachment, headers: ["Location"]), .problem(413, "Over 10 MiB."),
                    .problem(415, "No Content-Type."),
                    .problem(422, "A type not taken, content that is not what the type says, or a bad name."),
                ] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsComment) { tenant, found in
                guard let type = ctx.request.contentType else {
                    throw HTTPError(.unsupportedMediaType, detail: "Send the file's Content-Type.")
                }
                let added = try attachments.add(
                    to: found.id, tenant: tenant, filename: ctx.request.query["filename"] ?? "", contentType: type,
                    data: ctx.request.body, principal: ctx.principal, actor: ctx.actor)
                return Response.json(json(added), status: .created).located(
                    at: APIPath.requestAttachment.path(found.id.postgresText, added.id.postgresText))
            }
        }

        routes.api(
            .get, .requestAttachments, scope: .requestsRead, tenant: .required,
            operation: Operation(
                id: "listRequestAttachments", summary: "The request's files, oldest first.", tags: ["requests"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The files.", component: attachmentPage)] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsRead) { tenant, found in
                .json(["items": .array(try attachments.list(request: found.id, tenant: tenant).map(json)), "next_cursor": .null])
            }
        }

        routes.api(
            .get, .requestAttachment, scope: .requestsRead, tenant: .required,
            operation: Operation(
                id: "getRequestAttachment", summary: "Download a file (Content-Disposition: attachment).", tags: ["requests"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init("attachment", in: .path, schema: ["type": "string", "format": "uuid"], description: "The file's id."),
                ],
                responses: [.init(200, "The file's bytes, as uploaded.")] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsRead) { tenant, found in
                AttachmentResponse.download(
                    try attachments.file(try ctx.request.uuidParameter("attachment"), request: found.id, tenant: tenant))
            }
        }
    }

    static func register(
        in routes: inout RouteTable, store: RequestStore, comments: RequestComments,
        lists: RequestListCache? = nil
    ) {
        routes.api(
            .post, .requests, scope: .requestsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createRequest", summary: "File a service request.", tags: ["requests"],
                parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter],
                requestComponent: newRequest,
                responses: [
                    .init(201, "The request.", component: request, headers: ["Location", "ETag"]),
                    .problem(400, "Malformed JSON."), .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "Invalid values, or an Idempotency-Key reused with another body."),
                ] + common)
        ) { ctx in
            try ctx.require(.requestsCreate)
            let created = try store.create(
                try ctx.request.decode(NewRequest.self, fields: ["subject", "description", "type", "priority"]),
                tenant: try ctx.tenant, requester: ctx.caller.identity.user, actor: ctx.actor)
            return answer(created, status: .created).located(at: APIPath.request.path(created.id.postgresText))
        }

        // Inline first: an answer this node remembers is served on the I/O thread; building one
        // moves to a worker (RequestListCache says when a remembered answer may be served).
        routes.api(
            .get, .requests, scope: .requestsRead, tenant: .required, options: .inlineFirst,
            operation: Operation(
                id: "listRequests", summary: "The tenant's requests, newest first, filtered, a page at a time.", tags: ["requests"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "state", in: .query,
                        schema: ["type": "string", "enum": .array(RequestState.allCases.map { .string($0.rawValue) })],
                        description: "Only this state."),
                    .init(
                        "priority", in: .query,
                        schema: ["type": "string", "enum": .array(RequestPriority.allCases.map { .string($0.rawValue) })],
                        description: "Only this priority."),
                    .init(
                        "type", in: .query, schema: ["type": "string", "enum": .array(RequestType.allCases.map { .string($0.rawValue) })],
                        description: "Only this type."),
                    .init(
                        "assignee", in: .query,
                        schema: [
                            "type": "string",
                            "pattern": "^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
                        ],
                        description: "`me`, `none` (nobody yet), or a staff member's id."),
                    .init(
                        "group", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "Only requests with this staff group."),
                    .init(
                        "q", in: .query, schema: ["type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"],
                        description: "Text in the subject or description."),
                    .init(
                        "breached", in: .query, schema: ["type": "string", "enum": ["true", "false"]],
                        description: "`true`: only requests that missed an SLA target."),
                    .init(
                        "escalated", in: .query, schema: ["type": "string", "enum": ["true", "false"]],
                        description: "`true`: only requests raised to their group's lead after a breach."),
                    .init(
                        "sort", in: .query, schema: ["type": "string", "enum": ["newest", "due"]],
                        description: "`newest` (default) or `due`: soonest SLA due time first, only requests with a running clock."),
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (20)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [
                    .init(200, "A page.", component: requestPage),
                    .problem(400, "A malformed parameter."),
                ] + common)
        ) { ctx in
            try ctx.require(.requestsRead)
            let (request, tenant) = (ctx.request, try ctx.tenant)
            // The filters as the pages read them too (RequestFilter), refused here rather than read as "any".
            let (filter, errors) = RequestFilter.parse(request.query, for: .api, viewer: ctx.caller.identity.user)
            if let first = errors.first {
                throw HTTPError(.badRequest, detail: "\(first.field): \(first.detail)", fieldErrors: errors)
            }
            let limit = filter.limit
            let key = tenant.postgresText + "|" + filter.key
            if let remembered = lists?.answer(key, tenant: tenant) {
                return Response(status: .ok, contentType: "application/json", body: remembered)
            }
            guard request.mayBlock else { throw WouldBlock() }
            let generation = lists?.generation(of: tenant)
            let page = try store.list(tenant: tenant, query: filter.query, limit: limit + 1)
            let items = page.prefix(limit)
            let body = JSONValue.object([
                ("items", .array(items.map(json))),
                ("next_cursor", page.count > limit ? .string(items.last!.id.postgresText) : .null),
            ])
            .serialized()
            if let generation { lists?.keep(body, for: key, tenant: tenant, generation: generation) }
            return Response(status: .ok, contentType: "application/json", body: body)
        }

        routes.api(
            .get, .request, scope: .requestsRead, tenant: .required,
            operation: Operation(
                id: "getRequest", summary: "One request.", tags: ["requests"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The request.", component: request, headers: ["ETag"])] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsRead) { _, found in answer(found) }
        }

        routes.api(
            .patch, .request, scope: .requestsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "updateRequest",
                summary: "Change a request's subject, priority, state, assignee, group or tags; send the ETag you read as If-Match.",
                tags: ["requests"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init("If-Match", in: .header, description: "The ETag of the version the change is based on."),
                ],
                requestComponent: requestChange,
                responses: [
                    .init(200, "The request as changed.", component: request, headers: ["ETag"]),
                    .problem(400, "Malformed JSON."), .problem(412, "The request changed since the given ETag."),
                    .problem(422, "A value or a state change the workflow forbids (the allowed next states are named)."),
                ] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsComment) { tenant, found in
                let change = try ctx.request.decode(
                    RequestStore.Change.self,
                    fields: ["subject", "priority", "state", "assignee_id", "group_id", "tags"])
                return answer(
                    try store.update(
                        found.id, tenant: tenant, change: change, expected: ctx.request.headers["If-Match"],
                        principal: ctx.principal, actor: ctx.actor))
            }
        }

        routes.api(
            .post, .requestComments, scope: .requestsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createRequestComment", summary: "Reply on a request, or (staff) add an internal note customers never see.",
                tags: ["requests"], parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter],
                requestComponent: newComment,
                responses: [
                    .init(201, "The comment.", component: comment), .problem(400, "Malformed JSON."),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "An empty body, or an Idempotency-Key reused with another body."),
                ] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsComment) { tenant, found in
                struct Input: Decodable {
                    let body: String
                    let isInternal: Bool?
                    enum CodingKeys: String, CodingKey { case body, isInternal = "internal" }
                }
                let input = try ctx.request.decode(Input.self, fields: ["body", "internal"])
                let comment = try comments.add(
                    to: found.id, tenant: tenant, body: input.body, isInternal: input.isInternal ?? false,
                    principal: ctx.principal, actor: ctx.actor)
                return .json(json(comment), status: .created)
            }
        }

        routes.api(
            .get, .requestComments, scope: .requestsRead, tenant: .required,
            operation: Operation(
                id: "listRequestComments", summary: "The conversation, oldest first; internal notes only for staff.", tags: ["requests"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The comments.", component: commentPage)] + common)
        ) { ctx in
            try onRequest(ctx, store: store, permission: .requestsRead) { tenant, found in
                let thread = try comments.thread(of: found.id, tenant: tenant, includeInternal: ctx.principal.can(.requestsManage))
                return .json(["items": .array(thread.map(json)), "next_cursor": .null])
            }
        }
    }
}
