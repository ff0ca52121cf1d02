// Middleware wraps the route handler; the server composes the chain once at start.

public typealias Next = (Request) throws -> Response

public protocol Middleware: Sendable {
    func handle(_ request: Request, next: Next) throws -> Response
}

/// Middleware from a closure, for small cross-cutting steps.
public struct ClosureMiddleware: Middleware {
    let body: @Sendable (Request, Next) throws -> Response
    public init(_ body: @escaping @Sendable (Request, Next) throws -> Response) { self.body = body }
    public func handle(_ request: Request, next: Next) throws -> Response { try body(request, next) }
}
