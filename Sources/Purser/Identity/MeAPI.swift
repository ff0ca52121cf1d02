// GET /api/v1/me: who the token speaks for, in which tenant, with which roles and scopes.
import Foundation
import HTTPServer
import Postgres

enum MeAPI {
    static let me = SchemaComponent(
        "Me",
        schema: [
            "type": "object",
            "required": ["user", "tenant", "staff_role", "token"],
            "properties": [
                "user": [
                    "type": "object", "required": ["id", "email", "name"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"], "email": ["type": "string"], "name": ["type": "string"],
                    ],
                ],
                "tenant": [
                    "type": ["object", "null"], "required": ["id", "role"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"],
                        "role": [
                            "type": ["string", "null"], "enum": .array(CustomerRole.allCases.map { .string($0.rawValue) } + [.null]),
                        ],
                    ],
                ],
                "staff_role": ["type": ["string", "null"]],
                "token": [
                    "type": "object", "required": ["id", "scopes", "expires_at"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"],
                        "scopes": [
                            "type": "array", "items": ["type": "string", "enum": .array(Scope.allCases.map { .string($0.rawValue) })],
                        ],
                        "expires_at": ["type": "string", "format": "date-time"],
                    ],
                ],
            ],
        ])

    /// Rendered bodies by identity: an identity never changes while it is cached, and a new one
    /// (a changed role, a reloaded token) is a new key. Bounded by emptying it when full.
    static let rendered = Locked<[RenderKey: (identity: TokenIdentity, body: [UInt8])]>([:])

    /// Keyed by token and tenant (two UUIDs hash quickly); a hit counts only when it was rendered
    /// for the very identity object the token resolves to now (a reload may have changed a role).
    struct RenderKey: Hashable {
        let token: UUID
        let tenant: UUID?
    }

    static func register(in routes: inout RouteTable) {
        // Inline first: a cached token answers on the I/O thread; a miss moves to a worker.
        routes.api(
            .get, .me, scope: nil, options: .inlineFirst,
            operation: Operation(
                id: "getMe", summary: "The caller: user, tenant and role, staff role, and the token's scopes.", tags: ["identity"],
                parameters: [APIGate.tenantParameter],
                responses: [
                    .init(200, "The caller.", component: me),
                    .problem(401, "No token, or a malformed, unknown, expired or revoked one."),
                    .problem(404, "A tenant the token cannot see."),
                    .problem(429, "The token's or the tenant's rate limit is used up."),
                ])
        ) { ctx in
            let caller = ctx.caller
            let key = RenderKey(token: caller.identity.tokenID, tenant: caller.tenant)
            if let cached = rendered.withLock({ $0[key] }), cached.identity === caller.identity {
                return Response(status: .ok, contentType: "application/json", body: cached.body)
            }
            let identity = caller.identity
            let body: JSONValue = [
                "user": [
                    "id": .string(identity.user.postgresText), "email": .string(identity.email),
                    "name": .string(identity.name),
                ],
                "tenant": caller.tenant.map {
                    ["id": .string($0.postgresText), "role": identity.tenantRole.map { .string($0.rawValue) } ?? .null]
                } ?? .null,
                "staff_role": identity.staffRole.map { .string($0.rawValue) } ?? .null,
                "token": [
                    "id": .string(identity.tokenID.postgresText),
                    "scopes": .array(identity.scopes.map { .string($0.rawValue) }),
                    "expires_at": .string(RFC3339.string(identity.expiresAt)),
                ],
            ]
            let bytes = body.serialized()
            rendered.withLock { cache in
                if cache.count >= 10_000 { cache.removeAll() }
                cache[key] = (identity, bytes)
            }
            return Response(status: .ok, contentType: "application/json", body: bytes)
        }
    }
}
