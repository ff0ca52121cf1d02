// How a route is described in the OpenAPI document: written beside the route, so they cannot drift.

public struct Operation: Sendable {
    public var id: String
    public var summary: String
    public var tags: [String]
    public var parameters: [Parameter]
    /// JSON Schema of the request body, when the route takes one.
    public var requestBody: JSONValue?
    /// The body's media types (JSON unless said otherwise; a file upload lists the types it takes).
    public var requestContentTypes: [String]
    /// Status → (description, media type, JSON Schema or nil for no body).
    public var responses: [ResponseDoc]
    /// The named schema the request body is, when it is one (`requestBody` is then its `$ref`).
    public var requestComponent: SchemaComponent?
    /// Bearer scopes the route needs; nil for a public route.
    public var scopes: [String]?

    public init(
        id: String, summary: String, tags: [String] = [], parameters: [Parameter] = [],
        requestBody: JSONValue? = nil, requestComponent: SchemaComponent? = nil,
        requestContentTypes: [String] = ["application/json"], responses: [ResponseDoc],
        scopes: [String]? = nil
    ) {
        self.requestContentTypes = requestContentTypes
        self.id = id
        self.summary = summary
        self.tags = tags
        self.parameters = parameters
        self.requestBody = requestComponent?.ref ?? requestBody
        self.requestComponent = requestComponent
        self.responses = responses
        self.scopes = scopes
    }

    /// The named schemas the operation refers to, directly.
    public var components: [SchemaComponent] {
        (requestComponent.map { [$0] } ?? []) + responses.compactMap(\.component)
    }

    /// The declared query parameter `name`, if any.
    public func queryParameter(_ name: String) -> Parameter? {
        parameters.first { $0.location == .query && $0.name == name }
    }

    public struct Parameter: Sendable {
        public enum Location: String, Sendable { case path, query, header }
        public var name: String
        public var location: Location
        public var required: Bool
        public var schema: JSONValue
        public var description: String
        /// Still taken, but on its way out: the document marks it `deprecated`.
        public var deprecated: Bool

        public init(
            _ name: String, in location: Location, required: Bool = false, schema: JSONValue = ["type": "string"],
            description: String, deprecated: Bool = false
        ) {
            self.name = name
            self.location = location
            self.required = location == .path ? true : required
            self.schema = schema
            self.description = description
            self.deprecated = deprecated
        }

        /// An empty value can never be right: the schema names its values (`enum`) or their form (`format`).
        public var refusesEmpty: Bool {
            schema["enum"] != nil || schema["format"] != nil
        }
    }

    public struct ResponseDoc: Sendable {
        public var status: Int
        public var description: String
        public var mediaType: String?
        public var schema: JSONValue?
        /// The named schema the body is, when it is one (`schema` is then its `$ref`).
        public var component: SchemaComponent?
        /// Response header names the answer carries (`ETag`, `Location`, `Retry-After`).
        public var headers: [String]

        public init(
            _ status: Int, _ description: String, mediaType: String? = "application/json", schema: JSONValue? = nil,
            headers: [String] = []
        ) {
            self.status = status
            self.description = description
            self.mediaType = schema == nil && mediaType == "application/json" ? nil : mediaType
            self.schema = schema
            self.headers = headers
        }

        /// An answer whose body is a named schema, referenced from `#/components/schemas`.
        public init(
            _ status: Int, _ description: String, mediaType: String = "application/json", component: SchemaComponent,
            headers: [String] = []
        ) {
            self.init(status, description, mediaType: mediaType, schema: component.ref, headers: headers)
            self.component = component
        }

        /// An RFC 9457 problem answer.
        public static func problem(_ status: Int, _ description: String) -> ResponseDoc {
            ResponseDoc(status, description, mediaType: "application/problem+json", schema: ["$ref": "#/components/schemas/Problem"])
        }
    }
}

/// A schema with a name: it appears once under `#/components/schemas`, and every operation that
/// sends or takes it refers to it, so a client generated from the document has one type per entity.
public final class SchemaComponent: Sendable {
    public let name: String
    public let schema: JSONValue
    /// The components this one's schema refers to (with `ref`), so the document carries them too.
    public let uses: [SchemaComponent]

    public init(_ name: String, uses: [SchemaComponent] = [], schema: JSONValue) {
        self.name = name
        self.uses = uses
        self.schema = schema
    }

    /// `{"$ref": "#/components/schemas/NAME"}`.
    public var ref: JSONValue { ["$ref": .string("#/components/schemas/" + name)] }

    /// The reference, or null.
    public var nullableRef: JSONValue { ["anyOf": [ref, ["type": "null"]]] }

    /// A page of a list: `{"items": [...], "next_cursor": ... or null}`; pass `next_cursor` back as `cursor`.
    public static func page(
        _ name: String, of item: SchemaComponent, description: String? = nil,
        extra: [(String, JSONValue)] = []
    ) -> SchemaComponent {
        var fields: [(String, JSONValue)] = [("type", "object"), ("required", ["items", "next_cursor"])]
        if let description { fields.append(("description", .string(description))) }
        fields.append(
            (
                "properties",
                .object(
                    [
                        ("items", ["type": "array", "items": item.ref]),
                        (
                            "next_cursor",
                            [
                                "type": ["string", "null"],
                                "description": "Pass as `cursor` for the next page; null on the last page.",
                            ]
                        ),
                    ] + extra)
            ))
        return SchemaComponent(name, uses: [item], schema: .object(fields))
    }
}
