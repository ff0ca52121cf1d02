// An answer that never changes (a static file, its 304): libmicrohttpd builds it once, with its
// header fields and the security headers, and every request queues the same object. It carries
// no X-Request-Id, the one field that would differ; the access log still records the request.
import CMicroHTTPD

public final class CachedResponse: @unchecked Sendable {
    public let status: HTTPStatus
    public let headers: HTTPHeaders
    let body: [UInt8]
    private let handle = Locked<OpaquePointer?>(nil)

    public init(status: HTTPStatus, headers: HTTPHeaders, body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    deinit {
        // libmicrohttpd counts its references: answers still being sent keep it alive.
        handle.withLock { if let existing = $0 { MHD_destroy_response(existing) } }
    }

    /// The libmicrohttpd response, built on first use with `security` applied.
    func prepared(with security: SecurityHeaders) -> OpaquePointer? {
        handle.withLock { existing in
            if let existing { return existing }
            let created = body.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(
                    buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                    .RESPMEM_MUST_COPY)
            }
            guard let created else { return nil }
            var fields = headers
            security.apply(to: &fields)
            for field in fields {
                _ = field.name.withCString { name in
                    field.value.withCString { value in MHD_add_response_header(created, name, value) }
                }
            }
            existing = created
            return created
        }
    }
}
