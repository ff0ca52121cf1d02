// Hands a Response to libmicrohttpd: copies a memory body, or streams one produced on the worker threads.
import CMicroHTTPD

extension Server {
    func queue(_ response: Response, on connection: OpaquePointer) -> MHD_Result {
        let handle: OpaquePointer?
        switch response.body {
        case .cached(let cached):
            guard let prepared = cached.prepared(with: configuration.securityHeaders) else { return .NO }
            return MHD_queue_response(connection, UInt32(response.status.rawValue), prepared)
        case .bytes(let bytes):
            handle = bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(
                    buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                    .RESPMEM_MUST_COPY)
            }
        case .stream(let next):
            // Produced on the worker threads, ahead of the client (WorkerStream).
            let stream = WorkerStream(next: next, server: self, connection: connection)
            let retained = Unmanaged.passRetained(stream)
            handle = MHD_create_response_from_callback(
                UInt64.max, 32 * 1024,
                { cls, _, buffer, max in
                    Unmanaged<WorkerStream>.fromOpaque(cls!).takeUnretainedValue().read(into: buffer!, max: max)
                },
                retained.toOpaque(),
                { cls in
                    let stream = Unmanaged<WorkerStream>.fromOpaque(cls!)
                    stream.takeUnretainedValue().release()
                    stream.release()
                })
            if handle == nil {
                // No response was made, so its free callback will never run: stop the producer here.
                stream.release()
                retained.release()
            }
        }
        guard let handle else { return .NO }
        defer { MHD_destroy_response(handle) }
        for field in response.headers where !field.name.caseInsensitiveEquals("Content-Length") {
            // Explicit withCString: the implicit String-to-pointer conversion copies into a new array.
            _ = field.name.withCString { name in
                field.value.withCString { value in MHD_add_response_header(handle, name, value) }
            }
        }
        return MHD_queue_response(connection, UInt32(response.status.rawValue), handle)
    }
}
