// One HTTP request as handlers see it: parsed, bounded, with its route's path parameters.
import Foundation

public struct Request: Sendable {
    public let method: HTTPMethod
    /// The path as libmicrohttpd decoded it, without the query string.
    public let path: String
    public let query: QueryParameters
    public let headers: HTTPHeaders
    public let body: [UInt8]
    /// The client's address: the socket peer, or the forwarded client when the peer is a trusted proxy.
    public internal(set) var clientAddress: String
    /// Values for the `{name}` segments of the matched route.
    public internal(set) var pathParameters: [String: String] = [:]
    /// The matched route's template (`/api/v1/requests/{id}`), or nil when no route matched.
    public internal(set) var routeTemplate: String?
    /// An identifier for this request, echoed in `X-Request-Id` and every log line.
    public internal(set) var requestID: String = ""
    /// False while the handler runs on an I/O thread: it must not block, and throws `WouldBlock` instead.
    public internal(set) var mayBlock = true
    /// The declared body was over the route's limit and was not read (`RouteOptions.seesOversizedBody`):
    /// the body is empty and the handler answers with its own refusal.
    public internal(set) var bodyTooLarge = false
    /// What routing decided; the end of the middleware chain acts on it.
    var resolution: Resolution = .notFound

    /// The matched route's OpenAPI operation, when it has one: the parameters it declares it takes.
    public var operation: Operation? {
        if case .route(let route) = resolution { return route.operation }
        return nil
    }

    public init(
        method: HTTPMethod, path: String, query: QueryParameters = .init(), headers: HTTPHeaders = .init(),
        body: [UInt8] = [], clientAddress: String = "127.0.0.1"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The path parameter `name` converted to `T`; a missing or malformed value is a 400.
    public func parameter<T: LosslessStringConvertible>(_ name: String, as type: T.Type = String.self) throws -> T {
        guard let text = pathParameters[name], let value = T(text) else {
            throw HTTPError(.badRequest, detail: "The path parameter '\(name)' is not a valid \(T.self).")
        }
        return value
    }

    /// The path parameter `name` as a UUID; anything else is a 404, since no such resource can exist.
    public func uuidParameter(_ name: String) throws -> UUID {
        guard let text = pathParameters[name], let id = UUID(uuidString: text) else {
            throw HTTPError(.notFound)
        }
        return id
    }

    /// The media type of the body without parameters, lowercased (`application/json`).
    public var contentType: String? {
        guard let raw = headers["Content-Type"] else { return nil }
        let base = raw.split(separator: ";", maxSplits: 1).first.map(String.init) ?? raw
        return base.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The value of cookie `name` from the `Cookie` header, or nil.
    public func cookie(_ name: String) -> String? {
        Cookies.parse(headers.values("Cookie")).first { $0.name == name }?.value
    }
}

/// Query string parameters in order; a name may repeat.
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) { self.pairs = pairs }

    /// Parses a query string or url-encoded form (`a=1&b=two+words`).
    public init(parsing text: String) { self = FormDecoding.parse(text) }

    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}
