// Purser itself, started on ephemeral ports against a database of its own, called over the socket.
import Foundation
import HTTPClient
import HTTPServer
import Logging
import Purser

public final class TestApp: @unchecked Sendable {
    public let database: TestDatabase
    public let app: PurserApp
    public let baseURL: String
    public let metricsURL: String
    public let client: HTTPClient

    /// `world`: nil for the live one; `TestApp(clock:)` for one whose clock the test moves.
    /// `databaseURL`: the pool's URL when not the database's `pooledURL` (a scale test's own pooler).
    public init(
        database: TestDatabase? = nil, world: World? = nil, extraRoutes: [TableRoute] = [], databaseURL: String? = nil,
        configure: (inout Configuration) -> Void = { _ in }
    ) throws {
        self.database = try database ?? TestDatabase()
        var configuration = Configuration(root: TestEnvironment.root)
        configuration.listenPort = 0
        configuration.metricsPort = 0
        configuration.workerThreads = 8
        configuration.poolSize = 4
        configuration.logLevel = .error
        configuration.masterKey = TestEnvironment.keyring
        // A pooled run: the pool goes through PgBouncer, LISTEN straight to the database.
        configuration.poolMode = TestEnvironment.poolMode
        configuration.databaseDirectURL = self.database.url
        configure(&configuration)
        app = try PurserApp(
            configuration: configuration, databaseURL: databaseURL ?? self.database.pooledURL, logger: quietLogger, world: world,
            extraRoutes: extraRoutes)
        try app.start()
        baseURL = "http://127.0.0.1:\(app.server.port)"
        metricsURL = "http://127.0.0.1:\(app.metricsServer?.port ?? 0)"
        var options = HTTPClient.Options()
        options.totalTimeout = .seconds(20)
        client = HTTPClient(options: options)
    }

    /// Purser with a clock that stands at `clock`'s time until the test moves it.
    public convenience init(
        database: TestDatabase? = nil, clock: SettableClock,
        configure: (inout Configuration) -> Void = { _ in }
    ) throws {
        try self.init(database: database, world: World(clock: clock), configure: configure)
    }

    deinit { app.shutdown() }

    public func get(_ path: String, headers: [(name: String, value: String)] = []) throws -> ClientResponse {
        try client.get(baseURL + path, headers: headers)
    }

    public func send(
        _ method: String, _ path: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) throws -> ClientResponse {
        try client.send(ClientRequest(method: method, url: baseURL + path, headers: headers, body: body))
    }
}
