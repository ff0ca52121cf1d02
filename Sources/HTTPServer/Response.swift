// What a handler answers: a status, header fields and a body held in memory or streamed.

public struct Response: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body

    public enum Body: Sendable {
        case bytes([UInt8])
        /// Produced chunk by chunk as the client reads, for exports too large to hold;
        /// `nil` ends the body. Called on the worker threads, one call at a time and a little
        /// ahead of the client, so it may block (read a database).
        case stream(@Sendable () throws -> [UInt8]?)
        /// Built once and queued as is; the response's own header fields are not sent.
        case cached(CachedResponse)
    }

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = .init(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: .bytes(body))
    }

    public static func text(_ text: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    public static func html(_ html: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    /// A redirect to `location` (303 so that a POST is followed by a GET).
    public static func redirect(to location: String, status: HTTPStatus = .seeOther) -> Response {
        Response(status: status, headers: HTTPHeaders([("Location", location)]))
    }

    /// The body bytes when held in memory; empty for a stream.
    public var bodyBytes: [UInt8] {
        switch body {
        case .bytes(let bytes): bytes
        case .cached(let cached): cached.body
        case .stream: []
        }
    }

    /// A response that answers with `cached` every time.
    public init(cached: CachedResponse) {
        self.init(status: cached.status, headers: cached.headers, body: .cached(cached))
    }
}
