// Errors that know how they cross to HTTP. Handlers throw them; one seam renders them.

/// An error that carries its own HTTP status and RFC 9457 problem fields.
/// Anything thrown that does not conform becomes a logged 500.
public protocol HTTPResponseError: Error {
    var status: HTTPStatus { get }
    /// Short and the same for every occurrence of this kind of problem.
    var title: String { get }
    /// Specific to this occurrence, safe to show to the caller.
    var detail: String? { get }
    /// Per-field validation messages (`errors` in the problem document).
    var fieldErrors: [FieldError] { get }
    /// Extra header fields the answer needs (`Allow`, `Retry-After`, `WWW-Authenticate`).
    var headers: HTTPHeaders { get }
    /// Members of the problem document beyond the standard ones (RFC 9457 §3.2): a refused state
    /// change names the `state` and what is `allowed`.
    var extensionMembers: [String: JSONValue] { get }
}

extension HTTPResponseError {
    public var title: String { status.reasonPhrase }
    public var detail: String? { nil }
    public var fieldErrors: [FieldError] { [] }
    public var headers: HTTPHeaders { HTTPHeaders() }
    public var extensionMembers: [String: JSONValue] { [:] }
}

/// One field's validation message.
public struct FieldError: Sendable, Equatable, Codable {
    public let field: String
    public let detail: String
    public init(field: String, detail: String) {
        self.field = field
        self.detail = detail
    }
}

/// The general-purpose HTTP error.
public struct HTTPError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPStatus
    public let title: String
    public let detail: String?
    public let fieldErrors: [FieldError]
    public var headers: HTTPHeaders
    /// Close the connection after answering (ambiguous framing: nothing after it can be trusted).
    public var closesConnection: Bool
    public var extensionMembers: [String: JSONValue]

    public init(
        _ status: HTTPStatus, title: String? = nil, detail: String? = nil, fieldErrors: [FieldError] = [],
        headers: HTTPHeaders = HTTPHeaders(), closesConnection: Bool = false, extensionMembers: [String: JSONValue] = [:]
    ) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.headers = headers
        self.closesConnection = closesConnection
        self.extensionMembers = extensionMembers
    }

    public var description: String { "HTTP \(status.rawValue): \(detail ?? title)" }
}

/// An RFC 9457 problem document, ready to render as JSON or as a page.
public struct Problem: Sendable, Equatable {
    public var status: HTTPStatus
    public var title: String
    public var detail: String?
    public var fieldErrors: [FieldError]
    /// The request this problem answers, so a caller can quote it to support.
    public var requestID: String
    /// Members beyond the standard ones (RFC 9457 §3.2), written after them in name order; a name
    /// the document already uses is left out.
    public var extensionMembers: [String: JSONValue]

    static let standardMembers: Set<String> = ["type", "title", "status", "detail", "instance", "request_id", "errors"]

    public init(
        status: HTTPStatus, title: String, detail: String?, fieldErrors: [FieldError], requestID: String,
        extensionMembers: [String: JSONValue] = [:]
    ) {
        self.status = status
        self.title = title
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.requestID = requestID
        self.extensionMembers = extensionMembers
    }

    /// `application/problem+json` bytes.
    public func json() -> [UInt8] {
        var json = JSONWriter()
        json.object {
            $0.field("type", "about:blank")
            $0.field("title", title)
            $0.field("status", status.rawValue)
            if let detail { $0.field("detail", detail) }
            $0.field("request_id", requestID)
            if !fieldErrors.isEmpty {
                $0.array("errors") { list in
                    for error in fieldErrors {
                        list.object {
                            $0.field("field", error.field); $0.field("detail", error.detail)
                        }
                    }
                }
            }
            for (name, value) in extensionMembers.sorted(by: { $0.key < $1.key }) where !Self.standardMembers.contains(name) {
                $0.rawField(name, value.serialized())
            }
        }
        return json.bytes
    }

    public static func problemResponse(_ problem: Problem) -> Response {
        Response(status: problem.status, contentType: "application/problem+json", body: problem.json())
    }
}
