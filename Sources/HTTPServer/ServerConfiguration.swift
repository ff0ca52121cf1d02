// Everything a server needs to know at start; Purser fills it from its own configuration.
import Logging

public struct ServerConfiguration: Sendable {
    /// Numeric address to bind (`127.0.0.1`, `::`, `0.0.0.0`).
    public var host: String
    /// 0 lets the kernel pick a free port (tests); read it back from `Server.port`.
    public var port: Int
    /// libmicrohttpd's epoll threads: they read, write and answer inline routes.
    public var ioThreads: Int
    /// Threads for handlers that may block (the database); sized to keep the pool busy.
    public var workerThreads: Int
    public var connectionLimit: Int
    /// Seconds a connection may sit idle (including a slow client sending its request) before it is closed.
    public var connectionTimeout: Int
    /// Default largest body, in bytes; a route may allow more.
    public var bodyLimit: Int
    /// Peers whose forwarding header is believed (IPv4 or IPv6 addresses or CIDR blocks).
    public var trustedProxies: [String]
    /// The one header those proxies write the client's address into.
    public var forwardedHeader: ForwardedHeader
    public var securityHeaders: SecurityHeaders
    public var logger: Logger
    /// Where the one line per request goes; nil writes it through `logger`.
    public var accessLog: (any AccessLog)?
    /// Renders problems; the default writes problem+json. Purser passes one that draws HTML pages for browsers.
    public var errorRenderer: @Sendable (Problem, Request) -> Response
    /// Longest time `shutdown` waits for requests in flight.
    public var drainDeadline: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, ioThreads: Int = 2, workerThreads: Int = 16,
        connectionLimit: Int = 1024, connectionTimeout: Int = 30, bodyLimit: Int = 1 << 20,
        trustedProxies: [String] = [], forwardedHeader: ForwardedHeader = .xForwardedFor,
        securityHeaders: SecurityHeaders = SecurityHeaders(),
        logger: Logger = Logger(label: "http"), accessLog: (any AccessLog)? = nil,
        errorRenderer: @escaping @Sendable (Problem, Request) -> Response = { problem, _ in Problem.problemResponse(problem) },
        drainDeadline: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.ioThreads = ioThreads
        self.workerThreads = workerThreads
        self.connectionLimit = connectionLimit
        self.connectionTimeout = connectionTimeout
        self.bodyLimit = bodyLimit
        self.trustedProxies = trustedProxies
        self.forwardedHeader = forwardedHeader
        self.securityHeaders = securityHeaders
        self.logger = logger
        self.accessLog = accessLog
        self.errorRenderer = errorRenderer
        self.drainDeadline = drainDeadline
    }
}
