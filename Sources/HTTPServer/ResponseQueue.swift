// Hands a Response to libmicrohttpd: copies a memory body, or streams one through a reader callback.
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
                MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                                                .RESPMEM_MUST_COPY)
            }
        case .stream(let next):
            let reader = StreamReader(next: next)
            handle = MHD_create_response_from_callback(
                UInt64.max, 32 * 1024,
                { cls, _, buffer, max in
                    Unmanaged<StreamReader>.fromOpaque(cls!).takeUnretainedValue().read(into: buffer!, max: max)
                },
                Unmanaged.passRetained(reader).toOpaque(),
                { cls in Unmanaged<StreamReader>.fromOpaque(cls!).release() })
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

/// Feeds a streamed body to libmicrohttpd in pieces of at most `max` bytes.
final class StreamReader: @unchecked Sendable {
    private let next: @Sendable () throws -> [UInt8]?
    private var pending: [UInt8] = []
    private var offset = 0

    init(next: @escaping @Sendable () throws -> [UInt8]?) { self.next = next }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        while offset == pending.count {
            do {
                guard let chunk = try next() else { return MHD_CONTENT_READER_END_OF_STREAM }
                pending = chunk
                offset = 0
            } catch {
                return MHD_CONTENT_READER_END_WITH_ERROR
            }
        }
        let count = min(max, pending.count - offset)
        pending.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
