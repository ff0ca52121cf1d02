// GET /api/v1/me: who the token speaks for, in which tenant, with which roles and scopes.
import Foundation
import HTTPServer
import Postgres

enum MeAPI {
    static let schema: JSONValue = [
        "type": "object",
        "required": ["user", "tenant", "staff_role", "token"],
        "properties": [
            "user": ["type": "object", "required": ["id", "email", "name"], "properties": [
                "id": ["type": "string", "format": "uuid"], "email": ["type": "string"], "name": ["type": "string"],
            ]],
            "tenant": ["type": ["object", "null"], "required": ["id", "role"], "properties": [
                "id": ["type": "string", "format": "uuid"],
                "role": ["type": "string", "enum": .array(CustomerRole.allCases.map { .string($0.rawValue) })],
            ]],
            "staff_role": ["type": ["string", "null"]],
            "token": ["type": "object", "required": ["id", "scopes", "expires_at"], "properties": [
                "id": ["type": "string", "format": "uuid"],
                "scopes": ["type": "array", "items": ["type": "string", "enum": .array(Scope.allCases.map { .string($0.rawValue) })]],
                "expires_at": ["type": "string", "format": "date-time"],
            ]],
        ],
    ]

    /// Rendered bodies by identity: an identity never changes while it is cached, and a new one
    /// (a changed role, a reloaded token) is a new key. Bounded by emptying it when full.
    static let rendered = Locked<[TokenIdentity: [UInt8]]>([:])

    static func register(in router: inout Router, tokens: TokenStore) {
        // Inline first: a cached token answers on the I/O thread; a miss moves to a worker.
        router.add(.get, "/api/v1/me", options: .inlineFirst, operation: Operation(
            id: "getMe", summary: "The caller: user, tenant and role, staff role, and the token's scopes.", tags: ["identity"],
            responses: [
                .init(200, "The caller.", schema: schema),
                .problem(401, "No token, or a malformed, unknown, expired or revoked one."),
            ],
            scopes: [])
        ) { request in
            let caller = try tokens.authenticate(request)
            if let cached = rendered.withLock({ $0[caller] }) {
                return Response(status: .ok, contentType: "application/json", body: cached)
            }
            let body: JSONValue = [
                "user": ["id": .string(caller.user.postgresText), "email": .string(caller.email), "name": .string(caller.name)],
                "tenant": caller.tenant.map { ["id": .string($0.postgresText), "role": .string(caller.tenantRole?.rawValue ?? "")] } ?? .null,
                "staff_role": caller.staffRole.map { .string($0.rawValue) } ?? .null,
                "token": [
                    "id": .string(caller.tokenID.postgresText),
                    "scopes": .array(caller.scopes.map { .string($0.rawValue) }),
                    "expires_at": .string(RFC3339.string(caller.expiresAt)),
                ],
            ]
            let bytes = body.serialized()
            rendered.withLock { cache in
                if cache.count >= 10_000 { cache.removeAll() }
                cache[caller] = bytes
            }
            return Response(status: .ok, contentType: "application/json", body: bytes)
        }
    }
}
