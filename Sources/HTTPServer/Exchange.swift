// One request in flight inside libmicrohttpd: created when its headers arrive, released when
// libmicrohttpd reports it complete. Touched by one thread at a time (the I/O thread, or the worker
// while the connection is suspended), so it needs no lock.

final class Exchange: @unchecked Sendable {
    let method: HTTPMethod
    let path: String
    let headers: HTTPHeaders
    let query: QueryParameters
    let peer: String
    let started: ContinuousClock.Instant
    var resolution: Resolution
    var pathParameters: [String: String] = [:]
    var bodyLimit: Int
    var body: [UInt8] = []
    /// Bytes of an over-limit chunked body that were read and dropped.
    var discarded = 0
    var tooLarge = false
    /// The declared body is over the limit and the route answers that itself, before the body.
    var answersUnread = false
    /// Set by a worker before it resumes the connection; queued on the next call.
    var pendingResponse: Response?

    init(
        method: HTTPMethod, path: String, headers: HTTPHeaders, query: QueryParameters, peer: String,
        resolution: Resolution, bodyLimit: Int
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.query = query
        self.peer = peer
        self.started = .now
        self.resolution = resolution
        self.bodyLimit = bodyLimit
    }
}

/// What routing decided for a request, carried to the end of the middleware chain.
public enum Resolution: Sendable {
    case route(Route)
    case notFound
    case methodNotAllowed([HTTPMethod])
    /// Refused before the body was read (framing, size); the error says why.
    case rejected(HTTPError)
}
