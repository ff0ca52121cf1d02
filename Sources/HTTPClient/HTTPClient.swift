// Outbound HTTP on libcurl: bounded in time and size, TLS verified, redirects off unless asked.
// Blocking: call it from worker threads, never from Swift's cooperative pool.
import CCurl
import CCurlShim
import Foundation

public struct ClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct ClientResponse: Sendable {
    public let status: Int
    /// Header fields of the final response, names as sent.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case timeout, tooLarge, connection, tls, invalidRequest, other }
    public let kind: Kind
    public let message: String
    public var description: String { "HTTP client \(kind): \(message)" }
}

public struct HTTPClient: Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        public var totalTimeout: Duration = .seconds(30)
        /// Bodies longer than this abort the transfer with `.tooLarge`.
        public var maxResponseBytes = 10 << 20
        public var followRedirects = false
        public var verifyTLS = true
        /// `host:port:address` entries pinning names to addresses checked beforehand (CURLOPT_RESOLVE).
        public var resolve: [String] = []
        public init() {}
    }

    public var options: Options

    public init(options: Options = Options()) {
        _ = CurlGlobal.initialized
        self.options = options
    }

    public func get(_ url: String, headers: [(name: String, value: String)] = []) throws -> ClientResponse {
        try send(ClientRequest(method: "GET", url: url, headers: headers))
    }

    public func post(_ url: String, headers: [(name: String, value: String)] = [], body: [UInt8]) throws -> ClientResponse {
        try send(ClientRequest(method: "POST", url: url, headers: headers, body: body))
    }

    public func put(_ url: String, headers: [(name: String, value: String)] = [], body: [UInt8]) throws -> ClientResponse {
        try send(ClientRequest(method: "PUT", url: url, headers: headers, body: body))
    }

    public func delete(_ url: String, headers: [(name: String, value: String)] = []) throws -> ClientResponse {
        try send(ClientRequest(method: "DELETE", url: url, headers: headers))
    }

    public func send(_ request: ClientRequest) throws -> ClientResponse {
        try CurlHandle.forCurrentThread().perform(request, options: options)
    }
}

enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// One piece of a streamed body, stamped with the caller's clock when it arrived.
public struct StreamedChunk: Sendable {
    public let bytes: [UInt8]
    public let at: Date

    public init(bytes: [UInt8], at: Date) {
        self.bytes = bytes
        self.at = at
    }
}

extension HTTPClient {
    /// Sends `request` and hands its body to `onChunk` piece by piece as it arrives, each stamped
    /// with `now()` read on arrival (the caller's clock, so probes measure time to first token in
    /// the time their results are stamped in). `onChunk` returns false to stop reading early, which
    /// ends the transfer without an error. Bounded as `send` is: `totalTimeout` cuts off a target
    /// that hangs, `maxResponseBytes` one that sends too much (`.tooLarge`); redirects are followed
    /// only if asked. The answer's body is empty: it went to `onChunk`.
    public func stream(
        _ request: ClientRequest, now: () -> Date, onChunk: (StreamedChunk) -> Bool
    ) throws -> ClientResponse {
        try withoutActuallyEscaping(onChunk) { onChunk in
            try withoutActuallyEscaping(now) { now in
                try CurlHandle.forCurrentThread().perform(request, options: options) { piece in
                    onChunk(StreamedChunk(bytes: Array(piece), at: now()))
                }
            }
        }
    }
}
