// A route: method, path template, handler, and what the server and the API document need to know of it.

public typealias Handler = @Sendable (Request) throws -> Response

/// A class, not a struct: it travels with every request, and one reference is cheaper to pass
/// than its closure and documentation fields.
public final class Route: Sendable {
    public let method: HTTPMethod
    /// `/api/v1/requests/{id}`: literal segments and `{name}` parameters.
    public let template: String
    public let handler: Handler
    public let options: RouteOptions
    /// How the route appears in the OpenAPI document; nil keeps it out (pages, static files).
    public let operation: Operation?

    public init(
        _ method: HTTPMethod, _ template: String, options: RouteOptions = RouteOptions(),
        operation: Operation? = nil, handler: @escaping Handler
    ) {
        self.method = method
        self.template = template
        self.handler = handler
        self.options = options
        self.operation = operation
    }

    var segments: [Segment] { Segment.parse(template) }
}

public struct RouteOptions: Sendable {
    /// Largest request body accepted, in bytes; larger ones are refused with 413 before they are read.
    public var bodyLimit: Int?
    /// Media types a body may have (`application/json`); anything else is a 415. Nil accepts any.
    public var accepts: [String]?
    /// The handler never blocks (no database, no I/O): run it on the I/O thread instead of
    /// suspending the connection and handing it to the worker threads.
    public var runsInline: Bool
    /// Try the handler on the I/O thread (`Request.mayBlock` false); when it throws `WouldBlock`
    /// (its answer needs the database this time), run it again on a worker thread.
    public var triesInline: Bool
    /// A declared body over `bodyLimit` runs the handler instead of the generic 413 (a page that shows
    /// its form again with the limit): at once, on the I/O thread as every refusal before a body,
    /// with an empty body and `Request.bodyTooLarge`; the connection closes after the answer.
    public var seesOversizedBody: Bool

    public init(
        bodyLimit: Int? = nil, accepts: [String]? = nil, runsInline: Bool = false, triesInline: Bool = false,
        seesOversizedBody: Bool = false
    ) {
        self.bodyLimit = bodyLimit
        self.accepts = accepts
        self.runsInline = runsInline
        self.triesInline = triesInline
        self.seesOversizedBody = seesOversizedBody
    }

    public static let inline = RouteOptions(runsInline: true)
    public static let inlineFirst = RouteOptions(triesInline: true)
    public static let json = RouteOptions(accepts: ["application/json"])
    /// An HTML form post: url-encoded, at most 16 KiB.
    public static let form = RouteOptions(bodyLimit: 16 * 1024, accepts: ["application/x-www-form-urlencoded"])
}

enum Segment: Equatable {
    case literal(String)
    case parameter(String)

    static func parse(_ template: String) -> [Segment] {
        template.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }
}

/// Thrown by a handler running on an I/O thread (`request.mayBlock == false`) before it does
/// anything, when answering would block; the server runs it again on a worker thread.
public struct WouldBlock: Error {
    public init() {}
}
