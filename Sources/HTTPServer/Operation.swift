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
    /// Bearer scopes the route needs; nil for a public route.
    public var scopes: [String]?

    public init(id: String, summary: String, tags: [String] = [], parameters: [Parameter] = [],
                requestBody: JSONValue? = nil, requestContentTypes: [String] = ["application/json"], responses: [ResponseDoc],
                scopes: [String]? = nil) {
        self.requestContentTypes = requestContentTypes
        self.id = id
        self.summary = summary
        self.tags = tags
        self.parameters = parameters
        self.requestBody = requestBody
        self.responses = responses
        self.scopes = scopes
    }

    public struct Parameter: Sendable {
        public enum Location: String, Sendable { case path, query, header }
        public var name: String
        public var location: Location
        public var required: Bool
        public var schema: JSONValue
        public var description: String

        public init(_ name: String, in location: Location, required: Bool = false, schema: JSONValue = ["type": "string"],
                    description: String) {
            self.name = name
            self.location = location
            self.required = location == .path ? true : required
            self.schema = schema
            self.description = description
        }
    }

    public struct ResponseDoc: Sendable {
        public var status: Int
        public var description: String
        public var mediaType: String?
        public var schema: JSONValue?
        /// Response header names the answer carries (`ETag`, `Location`, `Retry-After`).
        public var headers: [String]

        public init(_ status: Int, _ description: String, mediaType: String? = "application/json", schema: JSONValue? = nil,
                    headers: [String] = []) {
            self.status = status
            self.description = description
            self.mediaType = schema == nil && mediaType == "application/json" ? nil : mediaType
            self.schema = schema
            self.headers = headers
        }

        /// An RFC 9457 problem answer.
        public static func problem(_ status: Int, _ description: String) -> ResponseDoc {
            ResponseDoc(status, description, mediaType: "application/problem+json", schema: ["$ref": "#/components/schemas/Problem"])
        }
    }
}
