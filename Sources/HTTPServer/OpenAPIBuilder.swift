// Builds an OpenAPI 3.1 document from the registered routes, so the document is the code.

public struct OpenAPIBuilder: Sendable {
    public var title: String
    public var version: String
    public var description: String
    /// Shared schemas referenced as `#/components/schemas/NAME`.
    public var schemas: [(String, JSONValue)]
    /// The application's own response headers, described beside `standardHeaders`.
    public var headers: [(String, JSONValue)]

    public init(
        title: String, version: String, description: String, schemas: [(String, JSONValue)] = [],
        headers: [(String, JSONValue)] = []
    ) {
        self.title = title
        self.version = version
        self.description = description
        self.schemas = schemas
        self.headers = headers
    }

    /// Response headers described once under `#/components/headers` and referred to by name.
    public static let standardHeaders: [(String, JSONValue)] = [
        (
            "ETag",
            [
                "description": "The version of the resource; send it back as `If-Match` to change it.",
                "schema": ["type": "string"],
            ]
        ),
        ("Location", ["description": "The URL of the resource just created.", "schema": ["type": "string"]]),
        (
            "RateLimit-Limit",
            [
                "description": "Requests allowed per minute in the tightest limit that applies.",
                "schema": ["type": "integer", "minimum": 0],
            ]
        ),
        (
            "RateLimit-Remaining",
            [
                "description": "Requests left in that limit's current window.",
                "schema": ["type": "integer", "minimum": 0],
            ]
        ),
        ("RateLimit-Reset", ["description": "Seconds until that limit is full again.", "schema": ["type": "integer", "minimum": 0]]),
        ("Retry-After", ["description": "Seconds to wait before trying again.", "schema": ["type": "integer", "minimum": 0]]),
        ("WWW-Authenticate", ["description": "The authentication scheme expected (`Bearer`).", "schema": ["type": "string"]]),
    ]

    /// Every named schema the operations refer to, directly or through each other, in the order met.
    /// Two different schemas under one name are a programming error: the document would lie.
    public static func components(of operations: [Operation]) -> [(String, JSONValue)] {
        var found: [(String, JSONValue)] = []
        func visit(_ component: SchemaComponent) {
            if let existing = found.first(where: { $0.0 == component.name }) {
                precondition(existing.1 == component.schema, "two schemas are named \(component.name)")
                return
            }
            found.append((component.name, component.schema))
            component.uses.forEach(visit)
        }
        operations.flatMap(\.components).forEach(visit)
        return found
    }

    public func document(for routes: [Route]) -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        let operations = routes.compactMap(\.operation)
        for route in routes {
            guard let operation = route.operation else { continue }
            let entry = (route.method.rawValue.lowercased(), describe(operation))
            if let index = paths.firstIndex(where: { $0.0 == route.template }) {
                paths[index].1.append(entry)
            } else {
                paths.append((route.template, [entry]))
            }
        }
        let problem: JSONValue = [
            "type": "object",
            "required": ["title", "status"],
            "properties": [
                "type": ["type": "string"],
                "title": ["type": "string"],
                "status": ["type": "integer"],
                "detail": ["type": "string"],
                "request_id": ["type": "string"],
                "errors": [
                    "type": "array",
                    "items": [
                        "type": "object",
                        "required": ["field", "detail"],
                        "properties": ["field": ["type": "string"], "detail": ["type": "string"]],
                    ],
                ],
            ],
        ]
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": .string(version), "description": .string(description)],
            "paths": .object(paths.map { ($0.0, .object($0.1)) }),
            "components": [
                "schemas": .object(
                    [("Problem", problem)] + schemas
                        + Self.components(of: operations)
                        .filter { named in !schemas.contains { $0.0 == named.0 } }),
                "headers": .object(Self.standardHeaders + headers),
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer", "description": "A Purser API token (`pur_…`)."]
                ],
            ],
        ]
    }

    private func describe(_ operation: Operation) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("operationId", .string(operation.id)),
            ("summary", .string(operation.summary)),
        ]
        if !operation.tags.isEmpty { fields.append(("tags", .array(operation.tags.map { .string($0) }))) }
        if !operation.parameters.isEmpty {
            fields.append(
                (
                    "parameters",
                    .array(
                        operation.parameters.map { parameter in
                            var described: [(String, JSONValue)] = [
                                ("name", .string(parameter.name)),
                                ("in", .string(parameter.location.rawValue)),
                                ("required", .bool(parameter.required)),
                                ("description", .string(parameter.description)),
                                ("schema", parameter.schema),
                            ]
                            if parameter.deprecated { described.append(("deprecated", true)) }
                            return .object(described)
                        })
                ))
        }
        if let body = operation.requestBody {
            fields.append(
                (
                    "requestBody",
                    [
                        "required": true,
                        "content": .object(operation.requestContentTypes.map { ($0, ["schema": body]) }),
                    ]
                ))
        }
        fields.append(
            (
                "responses",
                .object(
                    operation.responses.map { response in
                        var doc: [(String, JSONValue)] = [("description", .string(response.description))]
                        if let mediaType = response.mediaType {
                            let schema: JSONValue = response.schema ?? ["type": "string"]
                            let media: JSONValue = ["schema": schema]
                            doc.append(("content", .object([(mediaType, media)])))
                        }
                        if !response.headers.isEmpty {
                            doc.append(
                                (
                                    "headers",
                                    .object(
                                        response.headers.map { name in
                                            let known = (Self.standardHeaders + headers).contains { $0.0 == name }
                                            return (
                                                name,
                                                known ? ["$ref": .string("#/components/headers/" + name)] : ["schema": ["type": "string"]]
                                            )
                                        })
                                ))
                        }
                        return (String(response.status), .object(doc))
                    })
            ))
        if let scopes = operation.scopes {
            fields.append(("security", [.object([("bearer", .array(scopes.map { .string($0) }))])]))
        } else {
            fields.append(("security", []))
        }
        return .object(fields)
    }
}
