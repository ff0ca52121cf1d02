// The bare HTTPServer with routes a test defines, on an ephemeral port.
import Foundation
import HTTPClient
import HTTPServer
import Logging

public final class TestServer: @unchecked Sendable {
    public let server: Server
    public let baseURL: String
    public let client: HTTPClient
    public var port: Int { server.port }

    public init(
        configuration: ServerConfiguration = ServerConfiguration(), middleware: [any Middleware] = [],
        metrics: MetricsRegistry? = nil, routes: (inout Router) -> Void
    ) throws {
        var router = Router()
        routes(&router)
        var configuration = configuration
        configuration.port = 0
        configuration.logger = quietLogger
        server = Server(configuration: configuration, router: router, middleware: middleware, metrics: metrics)
        try server.start()
        baseURL = "http://127.0.0.1:\(server.port)"
        client = HTTPClient()
    }

    deinit { server.shutdown() }

    public func send(
        _ method: String, _ path: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) throws -> ClientResponse {
        try client.send(ClientRequest(method: method, url: baseURL + path, headers: headers, body: body))
    }
}

/// A logger that drops everything, so test output stays readable.
public let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
