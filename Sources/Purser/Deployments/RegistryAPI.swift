// /api/v1/models and /api/v1/catalogue/models: the tenant's models and their versions, and the
// provider's catalogue, which any valid token reads without naming a tenant.
import Foundation
import HTTPServer
import Postgres

enum RegistryAPI {
    static let catalogueModel = SchemaComponent(
        "CatalogueModel",
        schema: [
            "type": "object",
            "required": ["id", "name", "family", "publisher", "open_weights", "licence", "parameter_count", "context_length", "card"],
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "family": ["type": "string"], "publisher": ["type": "string"],
                "open_weights": ["type": "boolean"], "licence": ["type": "string"], "parameter_count": ["type": "integer"],
                "context_length": ["type": "integer"], "card": ["type": "string", "description": "Markdown."],
            ],
        ])

    static let cataloguePage = SchemaComponent.page(
        "CatalogueModelPage", of: catalogueModel, description: "The whole catalogue: `next_cursor` is always null.")

    static let model = SchemaComponent(
        "Model",
        schema: [
            "type": "object", "required": ["id", "name", "family", "source", "licence", "owner", "catalogue_id", "created_at"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"], "family": ["type": "string"],
                "source": ["type": "string", "enum": .array(NewModel.sources.map { .string($0) })], "licence": ["type": "string"],
                "owner": ["anyOf": [RequestsAPI.person.ref, ["type": "null"]]],
                "catalogue_id": ["type": ["string", "null"]], "created_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let modelPage = SchemaComponent.page("ModelPage", of: model)

    static let newModel = SchemaComponent(
        "NewModel",
        schema: [
            "type": "object", "required": ["name", "family", "source", "licence"], "additionalProperties": false,
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 100],
                "family": ["type": "string", "minLength": 1, "maxLength": 100],
                "source": ["type": "string", "enum": .array(NewModel.sources.map { .string($0) })],
                "licence": ["type": "string", "minLength": 1, "maxLength": 100],
                "catalogue_id": ["type": "string", "description": "The catalogue entry this model is (its default gates come along)."],
            ],
        ])

    static let modelVersion = SchemaComponent(
        "ModelVersion",
        schema: [
            "type": "object",
            "required": [
                "id", "model_id", "version", "artifact_uri", "digest", "format", "parameter_count", "context_length", "card",
                "created_by", "created_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "model_id": ["type": "string", "format": "uuid"],
                "version": ["type": "string"], "artifact_uri": ["type": "string"], "digest": ["type": "string"],
                "format": ["type": "string", "enum": .array(NewModelVersion.formats.map { .string($0) })],
                "parameter_count": ["type": "integer"], "context_length": ["type": "integer"],
                "card": ["type": "string", "description": "Markdown."], "created_by": ["type": ["string", "null"]],
                "created_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let versionPage = SchemaComponent.page(
        "ModelVersionPage", of: modelVersion, description: "Every version, newest first: `next_cursor` is always null.")

    static let newVersion = SchemaComponent(
        "NewModelVersion",
        schema: [
            "type": "object", "required": ["version", "artifact_uri", "digest", "format", "parameter_count", "context_length"],
            "additionalProperties": false,
            "properties": [
                "version": ["type": "string", "description": "Semantic version, e.g. 1.2.0."],
                "artifact_uri": ["type": "string", "maxLength": 2000], "digest": ["type": "string", "pattern": "^sha256:[0-9a-f]{64}$"],
                "format": ["type": "string", "enum": .array(NewModelVersion.formats.map { .string($0) })],
                "parameter_count": ["type": "integer", "minimum": 1, "maximum": 100_000_000_000_000],
                "context_length": ["type": "integer", "minimum": 1, "maximum": 100_000_000],
                "card": ["type": "string", "maxLength": 50000, "description": "The model card, Markdown."],
            ],
        ])

    static func json(_ entry: CatalogueModel) -> JSONValue {
        [
            "id": .string(entry.id), "name": .string(entry.name), "family": .string(entry.family), "publisher": .string(entry.publisher),
            "open_weights": .bool(entry.openWeights), "licence": .string(entry.licence),
            "parameter_count": .number(Double(entry.parameterCount)), "context_length": .number(Double(entry.contextLength)),
            "card": .string(entry.card),
        ]
    }

    static func json(_ model: RegisteredModel) -> JSONValue {
        [
            "id": .string(model.id.postgresText), "name": .string(model.name), "family": .string(model.family),
            "source": .string(model.source), "licence": .string(model.licence),
            "owner": model.owner.map { ["id": .string($0.id.postgresText), "name": .string($0.name)] } ?? .null,
            "catalogue_id": model.catalogueID.map { .string($0) } ?? .null, "created_at": .string(RFC3339.string(model.createdAt)),
        ]
    }

    static func json(_ version: ModelVersion) -> JSONValue {
        [
            "id": .string(version.id.postgresText), "model_id": .string(version.modelID.postgresText), "version": .string(version.version),
            "artifact_uri": .string(version.artifactURI), "digest": .string(version.digest), "format": .string(version.format),
            "parameter_count": .number(Double(version.parameterCount)), "context_length": .number(Double(version.contextLength)),
            "card": .string(version.card), "created_by": version.createdBy.map { .string($0) } ?? .null,
            "created_at": .string(RFC3339.string(version.createdAt)),
        ]
    }

    static let idParameter = HTTPServer.Operation.Parameter("id", in: .path, description: "The model's id.")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such model in this tenant."), .problem(429, "Rate limit used up."),
    ]

    static func register(in routes: inout RouteTable, registry: ModelRegistry) {
        routes.api(
            .get, .catalogueModels, scope: .deploymentsRead,
            operation: Operation(
                id: "listCatalogueModels", summary: "The provider's catalogue of models it serves; needs no tenant.", tags: ["models"],
                responses: [
                    .init(200, "The catalogue.", component: cataloguePage), .problem(401, "No valid token."),
                    .problem(403, "A missing scope."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.deploymentsRead)
            return .json(["items": .array(try registry.catalogue().map(json)), "next_cursor": .null])
        }

        routes.api(
            .get, .models, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "listModels", summary: "The tenant's models, newest first, a page at a time.", tags: ["models"],
                parameters: [
                    APIGate.tenantParameter,
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: modelPage), .problem(400, "A malformed parameter.")] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            let (limit, cursor) = try DeploymentsAPI.paging(ctx.request, default: 50)
            let page = try registry.models(tenant: try ctx.tenant, after: cursor, limit: limit + 1)
            let items = page.prefix(limit)
            return .json([
                "items": .array(items.map(json)), "next_cursor": page.count > limit ? .string(items.last!.id.postgresText) : .null,
            ])
        }

        routes.api(
            .post, .models, scope: .deploymentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createModel", summary: "Register a model.", tags: ["models"],
                parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newModel,
                responses: [
                    .init(201, "The model.", component: model, headers: ["Location"]), .problem(400, "Malformed JSON."),
                    .problem(409, "A model of that name exists, or the same Idempotency-Key is still running."),
                    .problem(422, "Invalid values."),
                ] + common)
        ) { ctx in
            try ctx.require(.deploymentsRequest)
            let created = try registry.register(
                try ctx.request.decode(NewModel.self, fields: ["name", "family", "source", "licence", "catalogue_id"]),
                tenant: try ctx.tenant, owner: ctx.caller.identity.user, actor: ctx.actor)
            return Response.json(json(created), status: .created).located(at: APIPath.model.path(created.id.postgresText))
        }

        routes.api(
            .get, .model, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "getModel", summary: "One model.", tags: ["models"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The model.", component: model)] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            guard let found = try registry.model(try ctx.request.uuidParameter("id"), tenant: try ctx.tenant) else {
                throw HTTPError(.notFound)
            }
            return .json(json(found))
        }

        routes.api(
            .get, .modelVersions, scope: .deploymentsRead, tenant: .required,
            operation: Operation(
                id: "listModelVersions", summary: "A model's versions, newest first.", tags: ["models"],
                parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The versions.", component: versionPage)] + common)
        ) { ctx in
            try ctx.require(.deploymentsRead)
            let (tenant, id) = (try ctx.tenant, try ctx.request.uuidParameter("id"))
            guard try registry.model(id, tenant: tenant) != nil else { throw HTTPError(.notFound) }
            return .json(["items": .array(try registry.versions(of: id, tenant: tenant).map(json)), "next_cursor": .null])
        }

        routes.api(
            .post, .modelVersions, scope: .deploymentsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createModelVersion", summary: "Register a version of a model (artifact, digest, card).", tags: ["models"],
                parameters: [APIGate.tenantParameter, idParameter, TokensAPI.idempotencyParameter], requestComponent: newVersion,
                responses: [
                    .init(201, "The version.", component: modelVersion, headers: ["Location"]), .problem(400, "Malformed JSON."),
                    .problem(409, "The model has this version already."), .problem(422, "Invalid values."),
                ] + common)
        ) { ctx in
            try ctx.require(.deploymentsRequest)
            let (tenant, id) = (try ctx.tenant, try ctx.request.uuidParameter("id"))
            // Another tenant's model is not found, whatever the body says.
            guard try registry.model(id, tenant: tenant) != nil else { throw HTTPError(.notFound) }
            let created = try registry.addVersion(
                try ctx.request.decode(
                    NewModelVersion.self,
                    fields: ["version", "artifact_uri", "digest", "format", "parameter_count", "context_length", "card"]),
                to: id, tenant: tenant, by: ctx.caller.identity.user, actor: ctx.actor)
            // The version is listed with its model's versions.
            return Response.json(json(created), status: .created).located(at: APIPath.modelVersions.path(id.postgresText))
        }
    }
}
