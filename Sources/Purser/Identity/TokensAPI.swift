// /api/v1/tokens: a client lists, creates and revokes its owner's tokens. A token can only make
// tokens with a subset of its own scopes that its owner's role can use, bound to its own tenant, so
// no token can widen itself or its owner.
import Foundation
import HTTPServer
import Postgres

enum TokensAPI {
    struct NewToken: Decodable {
        let name: String
        let scopes: [String]
        let expiresInDays: Int

        enum CodingKeys: String, CodingKey {
            case name, scopes
            case expiresInDays = "expires_in_days"
        }
    }

    static let token = SchemaComponent(
        "Token",
        schema: [
            "type": "object", "required": ["id", "name", "tenant", "scopes", "created_at", "expires_at", "last_used_at", "state"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"],
                "tenant": ["type": ["string", "null"], "description": "The tenant's name; null for a staff token."],
                "scopes": ["type": "array", "items": ["type": "string"]],
                "created_at": ["type": "string", "format": "date-time"], "expires_at": ["type": "string", "format": "date-time"],
                "last_used_at": ["type": ["string", "null"], "format": "date-time"],
                "state": ["type": "string", "enum": ["active", "expired", "revoked"]],
            ],
        ])

    static let tokenPage = SchemaComponent.page(
        "TokenPage", of: token, description: "Every token of the owner's: `next_cursor` is always null.")

    /// The body that asks for a token.
    static let newToken = SchemaComponent(
        "NewToken",
        schema: [
            "type": "object", "required": ["name", "scopes", "expires_in_days"], "additionalProperties": false,
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"],
                "scopes": [
                    "type": "array", "minItems": 1,
                    "items": ["type": "string", "enum": .array(Scope.allCases.map { .string($0.rawValue) })],
                ],
                "expires_in_days": ["type": "integer", "minimum": 1, "maximum": 366],
            ],
        ])

    /// The answer that creates a token: the only place its secret is ever shown.
    static let createdToken = SchemaComponent(
        "CreatedToken",
        schema: [
            "type": "object", "required": ["id", "token", "scopes", "expires_at"],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "token": ["type": "string", "description": "The secret (`pur_…`), shown only in this answer."],
                "scopes": ["type": "array", "items": ["type": "string", "enum": .array(Scope.allCases.map { .string($0.rawValue) })]],
                "expires_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static func register(in routes: inout RouteTable, tokens: TokenStore) {
        routes.api(
            .get, .tokens, scope: nil,
            operation: Operation(
                id: "listTokens",
                summary: "The owner's tokens bound as the calling token is (its tenant, or staff), newest first, never their secrets.",
                tags: ["identity"], parameters: [tenantParameter],
                responses: [
                    .init(200, "The tokens.", component: tokenPage),
                    .problem(401, "No valid token."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            let identity = ctx.caller.identity
            let now = ctx.world.now
            let items = try tokens.list(user: identity.user, binding: .boundTo(identity.tenant)).map { json($0, at: now) }
            return .json(["items": .array(items), "next_cursor": .null])
        }

        routes.api(
            .post, .tokens, scope: nil, options: .json,
            operation: Operation(
                id: "createToken",
                summary:
                    "Create a token for the caller's owner with a subset of the caller's scopes; it expires no later than the caller and is revoked with it. The token is in the answer once.",
                tags: ["identity"], parameters: [tenantParameter, idempotencyParameter], requestComponent: newToken,
                responses: [
                    .init(201, "The new token; `token` is shown only here.", component: createdToken, headers: ["Location"]),
                    .problem(400, "Malformed JSON."), .problem(401, "No valid token."),
                    .problem(403, "A scope the calling token lacks, or one its owner's role cannot use."),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(422, "Invalid values, or an Idempotency-Key reused with another body."),
                    .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            let identity = ctx.caller.identity
            let input = try ctx.request.decode(NewToken.self, fields: ["name", "scopes", "expires_in_days"])
            var scopes: [Scope] = []
            for name in input.scopes {
                guard let scope = Scope(rawValue: name) else {
                    throw ValidationError(field: "scopes", "there is no scope \(name)")
                }
                guard identity.scopes.contains(scope) else {
                    throw MissingScope(scope: scope, tokenID: identity.tokenID, tenant: identity.tenant)
                }
                // A token made before scopes followed roles may hold one its owner cannot use: not passed on.
                try ctx.principal.requireUsable(scope)
                if !scopes.contains(scope) { scopes.append(scope) }
            }
            guard (1...366).contains(input.expiresInDays) else {
                throw ValidationError(field: "expires_in_days", "choose 1 to 366 days")
            }
            let created = try tokens.create(
                user: identity.user, tenant: identity.tenant, name: input.name, scopes: scopes,
                lifetime: TimeInterval(input.expiresInDays * 86400), actor: ctx.actor, parent: identity.tokenID,
                notAfter: identity.expiresAt)
            return Response.json(
                [
                    "id": .string(created.id.postgresText), "token": .string(created.token),
                    "scopes": .array(scopes.map { .string($0.rawValue) }),
                    "expires_at": .string(RFC3339.string(created.expiresAt)),
                ], status: .created
            ).located(at: APIPath.token.path(created.id.postgresText))
        }

        routes.api(
            .delete, .token, scope: nil,
            operation: Operation(
                id: "revokeToken",
                summary: "Revoke one of the owner's tokens (and the tokens made from it); every node stops accepting them at once.",
                tags: ["identity"],
                parameters: [
                    tenantParameter, .init("id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The token's id."),
                ],
                responses: [
                    .init(204, "Revoked (or already revoked)."), .problem(401, "No valid token."),
                    .problem(404, "No such token of the owner's."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            let identity = ctx.caller.identity
            try tokens.revoke(
                try ctx.request.uuidParameter("id"), owner: identity.user, binding: .boundTo(identity.tenant),
                actor: ctx.actor)
            return Response(status: .noContent)
        }
    }

    /// `tenant` as the gate reads it on every route: a tenant the token cannot see is a 404. Tokens
    /// are the owner's whichever tenant is named, so naming one is never needed here.
    static let tenantParameter = Operation.Parameter(
        "tenant", in: .query,
        description: "Optional: a tenant's slug, read by the gate as on every route (one the token cannot see is a 404); "
            + "it does not change which tokens are meant.")

    static let idempotencyParameter = Operation.Parameter(
        "Idempotency-Key", in: .header,
        schema: ["type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"],
        description: "Makes a retry safe: the first answer for this key is replayed for 24 hours.")

    /// `token` as the API shows it, its state as it stands at `now`.
    static func json(_ token: TokenSummary, at now: Date) -> JSONValue {
        let state = token.revokedAt != nil ? "revoked" : (token.expiresAt < now ? "expired" : "active")
        return [
            "id": .string(token.id.postgresText), "name": .string(token.name),
            "tenant": token.tenantName.map { .string($0) } ?? .null,
            "scopes": .array(token.scopes.map { .string($0) }),
            "created_at": .string(RFC3339.string(token.createdAt)), "expires_at": .string(RFC3339.string(token.expiresAt)),
            "last_used_at": token.lastUsedAt.map { .string(RFC3339.string($0)) } ?? .null, "state": .string(state),
        ]
    }
}

extension Response {
    /// A JSON answer.
    static func json(_ value: JSONValue, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "application/json", body: value.serialized())
    }
}
