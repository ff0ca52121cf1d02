// The HTTP server: libmicrohttpd's epoll pool reads requests; routes that may block run on our
// worker threads while their connection is suspended (see docs/architecture.md for why).
import CMicroHTTPD
import CMicroHTTPDShim
import Foundation
import Logging
import Synchronization

public enum ServerError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int)
    public var description: String {
        switch self {
        case .cannotListen(let host, let port): "cannot listen on \(host):\(port) (address in use or not numeric)"
        }
    }
}

public final class Server: @unchecked Sendable {
    public let configuration: ServerConfiguration
    public let router: Router
    let metrics: MetricsRegistry?
    let proxies: TrustedProxies
    let workers: WorkerPool
    let accessLog: any AccessLog
    private let chain: Next
    /// Requests received and not yet completed; counted per I/O thread (a request begins and
    /// completes on the thread that owns its connection).
    private let inFlight = ShardedCounter()
    /// The running daemon, nil before start and after shutdown. Read under the read side of
    /// `daemonLifetime` (workers resuming connections), written under its write side.
    private var daemon: OpaquePointer?
    private let daemonLifetime = ReadWriteLock()
    /// Connections suspended and not yet resumed: libmicrohttpd aborts the process when it stops
    /// with one still suspended, so a shutdown whose drain deadline passes resumes these first.
    private let suspendedConnections = Mutex(Set<SuspendedConnection>())
    public private(set) var port: Int = 0

    public init(
        configuration: ServerConfiguration, router: Router, middleware: [any Middleware] = [],
        metrics: MetricsRegistry? = nil
    ) {
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.proxies = TrustedProxies(configuration.trustedProxies, header: configuration.forwardedHeader)
        self.workers = WorkerPool(threads: configuration.workerThreads, name: "http-worker")
        self.accessLog = configuration.accessLog ?? LoggerAccessLog(logger: configuration.logger)
        var next: Next = { request in try Server.dispatch(request) }
        for layer in middleware.reversed() {
            let inner = next
            next = { request in try layer.handle(request, next: inner) }
        }
        self.chain = next
    }

    /// Binds and starts answering; throws when the address cannot be bound.
    public func start() throws {
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        let started: OpaquePointer? = configuration.host.withCString { host in
            var config = purser_mhd_config()
            config.host = host
            config.port = UInt16(clamping: configuration.port)
            config.threads = UInt32(max(1, configuration.ioThreads))
            config.connection_limit = UInt32(configuration.connectionLimit)
            config.connection_timeout = UInt32(configuration.connectionTimeout)
            // libmicrohttpd clears this pool for every request: keep it no larger than headers need.
            config.connection_memory_limit = 16 * 1024
            config.handler = { cls, connection, url, method, _, upload, uploadSize, slot in
                let server = Unmanaged<Server>.fromOpaque(cls!).takeUnretainedValue()
                return server.access(connection!, url: url!, method: method!, upload: upload, uploadSize: uploadSize!, slot: slot!)
            }
            config.handler_cls = opaqueSelf
            config.completed = { cls, _, slot, _ in
                guard let slot, let raw = slot.pointee else { return }
                Unmanaged<Exchange>.fromOpaque(raw).release()
                slot.pointee = nil
                let server = Unmanaged<Server>.fromOpaque(cls!).takeUnretainedValue()
                server.inFlight.add(-1)
            }
            config.completed_cls = opaqueSelf
            return purser_mhd_start(&config)
        }
        guard let started else { throw ServerError.cannotListen(host: configuration.host, port: configuration.port) }
        daemonLifetime.writing { daemon = started }
        port = Int(purser_mhd_port(started))
    }

    /// Requests received and not yet fully answered.
    public var requestsInFlight: Int { inFlight.total }

    /// Requests waiting for a worker thread.
    public var workerBacklog: Int { workers.backlog }

    /// Stops accepting connections, lets requests in flight finish up to the drain deadline,
    /// then closes every connection and ends the worker threads.
    public func shutdown() {
        guard let running = daemonLifetime.reading({ daemon }) else { return }
        let listener = MHD_quiesce_daemon(running)
        if listener >= 0 { close(listener) }
        let deadline = ContinuousClock.now + configuration.drainDeadline
        while inFlight.total > 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        // Cleared under the lock workers resume under, so no worker touches the daemon once it stops.
        // Requests still waiting for a worker or a streamed piece are resumed here, so that
        // libmicrohttpd closes them instead of aborting on a suspended connection; their workers
        // finish into the void (resume does nothing once the daemon is gone).
        daemonLifetime.writing {
            suspendedConnections.withLock { connections in
                for connection in connections { MHD_resume_connection(connection.pointer) }
                connections.removeAll()
            }
            daemon = nil
        }
        MHD_stop_daemon(running)
        workers.shutdown()
    }

    // MARK: - libmicrohttpd's access handler

    private func access(
        _ connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>,
        upload: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>,
        slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) -> MHD_Result {
        guard let raw = slot.pointee else {
            // First call: only the headers have arrived. Answering now would close the connection,
            // so refuse here only what must never be read further (bad framing, a body over the limit).
            let exchange = begin(connection, url: url, method: method)
            slot.pointee = Unmanaged.passRetained(exchange).toOpaque()
            inFlight.add(1)
            if case .rejected = exchange.resolution {
                // With mayBlock true the answer is never nil.
                return queue(respond(to: exchange, mayBlock: true)!, on: connection)
            }
            if exchange.answersUnread {
                var response = respond(to: exchange, mayBlock: true)!
                response.headers.set("Connection", "close")
                return queue(response, on: connection)
            }
            return .YES
        }
        let exchange = Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue()
        if uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            uploadSize.pointee = 0
            if exchange.tooLarge || exchange.body.count + count > exchange.bodyLimit {
                // A chunked body has no declared length: drop it as it comes, and give up on
                // the connection if the client keeps sending far past the limit.
                exchange.tooLarge = true
                exchange.body = []
                exchange.discarded += count
                return exchange.discarded > exchange.bodyLimit * 4 + 65536 ? .NO : .YES
            }
            if let upload {
                upload.withMemoryRebound(to: UInt8.self, capacity: count) {
                    exchange.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                }
            }
            return .YES
        }
        if let response = exchange.pendingResponse {
            exchange.pendingResponse = nil
            return queue(response, on: connection)
        }
        if exchange.tooLarge {
            exchange.resolution = .rejected(tooLarge(limit: exchange.bodyLimit))
        }
        if case .route(let route) = exchange.resolution, !route.options.runsInline, !route.options.triesInline {
            return dispatchToWorker(exchange, connection)
        }
        guard let response = respond(to: exchange, mayBlock: false) else {
            return dispatchToWorker(exchange, connection)
        }
        return queue(response, on: connection)
    }

    /// Suspends the connection and answers on a worker thread, which resumes it when done.
    private func dispatchToWorker(_ exchange: Exchange, _ connection: OpaquePointer) -> MHD_Result {
        let suspended = SuspendedConnection(pointer: connection)
        suspend(suspended)
        workers.submit { [self] in
            exchange.pendingResponse = respond(to: exchange, mayBlock: true)
            resume(suspended)
        }
        return .YES
    }

    /// Suspends a connection on its I/O thread until a worker resumes it, remembering it for
    /// shutdown. Once the daemon is stopping it is resumed at once: a connection suspended after
    /// shutdown swept the others would abort MHD_stop_daemon.
    func suspend(_ connection: SuspendedConnection) {
        daemonLifetime.reading {
            MHD_suspend_connection(connection.pointer)
            if daemon == nil {
                MHD_resume_connection(connection.pointer)
            } else {
                suspendedConnections.withLock { _ = $0.insert(connection) }
            }
        }
    }

    /// Resumes a connection suspended for a worker (an answer, or a streamed body's next piece).
    /// After a shutdown whose drain deadline passed, the daemon is gone and shutdown resumed it.
    func resume(_ connection: SuspendedConnection) {
        daemonLifetime.reading {
            guard daemon != nil, suspendedConnections.withLock({ $0.remove(connection) }) != nil else { return }
            MHD_resume_connection(connection.pointer)
        }
    }

    private func begin(_ connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>) -> Exchange {
        let headers = HTTPHeaders(Self.values(of: connection, kind: .HEADER_KIND))
        let query = QueryParameters(Self.values(of: connection, kind: .GET_ARGUMENT_KIND))
        let peer = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            purser_mhd_client_address(connection, buffer.baseAddress, 64) == 0 ? String(cString: buffer.baseAddress!) : "unknown"
        }
        let requestMethod = HTTPMethod(rawValue: String(cString: method))
        let path = String(cString: url)
        var limit = configuration.bodyLimit
        var resolution: Resolution
        var pathParameters: [String: String] = [:]
        switch router.match(requestMethod, path) {
        case .found(let route, let parameters):
            limit = route.options.bodyLimit ?? limit
            resolution = .route(route)
            pathParameters = parameters
        case .methodNotAllowed(let allowed): resolution = .methodNotAllowed(allowed)
        case .notFound: resolution = .notFound
        }
        var answersUnread = false
        if let problem = Framing.problem(in: headers) {
            resolution = .rejected(HTTPError(.badRequest, detail: problem, closesConnection: true))
        } else if let declared = headers["Content-Length"].flatMap(Int.init), declared > limit {
            if case .route(let route) = resolution, route.options.seesOversizedBody {
                answersUnread = true
            } else {
                resolution = .rejected(tooLarge(limit: limit))
            }
        }
        let exchange = Exchange(
            method: requestMethod, path: path, headers: headers, query: query, peer: peer,
            resolution: resolution, bodyLimit: limit)
        exchange.pathParameters = pathParameters
        exchange.answersUnread = answersUnread
        return exchange
    }

    private func tooLarge(limit: Int) -> HTTPError {
        HTTPError(
            .contentTooLarge, detail: "The request body is larger than the \(Self.size(limit)) this route accepts.",
            closesConnection: true)
    }

    /// A byte count as people read it: 16 MiB, 64 KiB, 1.5 MiB.
    public static func size(_ bytes: Int) -> String {
        let (unit, name) = bytes >= 1 << 20 ? (1 << 20, "MiB") : bytes >= 1 << 10 ? (1 << 10, "KiB") : (1, "bytes")
        if bytes % unit == 0 { return "\(bytes / unit) \(name)" }
        return "\(Double(bytes * 10 / unit) / 10) \(name)"
    }

    /// Names and values with their lengths as libmicrohttpd decoded them: a `%00` in a query value
    /// stays in the value (read as a C string, everything after it would silently vanish).
    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        withUnsafeMutablePointer(to: &fields) { pointer in
            _ = MHD_get_connection_values_n(
                connection, kind,
                { cls, _, key, keySize, value, valueSize in
                    let list = cls!.assumingMemoryBound(to: [(name: String, value: String)].self)
                    func text(_ start: UnsafePointer<CChar>?, _ count: Int) -> String {
                        guard let start else { return "" }
                        return start.withMemoryRebound(to: UInt8.self, capacity: count) {
                            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
                        }
                    }
                    list.pointee.append((text(key, keySize), text(value, valueSize)))
                    return .YES
                }, pointer)
        }
        return fields
    }

    // MARK: - Answering

    /// Runs the middleware chain for a complete request and finishes the answer: request id,
    /// security headers, metrics and the access log apply to every response, errors included.
    /// Nil only when `mayBlock` is false and the handler threw `WouldBlock`: nothing was answered,
    /// logged or counted, and the caller runs it again on a worker thread.
    func respond(to exchange: Exchange, mayBlock: Bool) -> Response? {
        var request = Request(
            method: exchange.method, path: exchange.path, query: exchange.query,
            headers: exchange.headers, body: exchange.body,
            clientAddress: proxies.client(peer: exchange.peer, headers: exchange.headers))
        request.mayBlock = mayBlock
        request.bodyTooLarge = exchange.answersUnread
        request.requestID = exchange.headers["X-Request-Id"].flatMap { RequestID.accepts($0) ? $0 : nil } ?? RequestID.next()
        request.resolution = exchange.resolution
        var routeLabel = "unmatched"
        if case .route(let route) = exchange.resolution {
            routeLabel = route.template
            request.routeTemplate = route.template
            request.pathParameters = exchange.pathParameters
        }
        var response: Response
        do {
            response = try chain(request)
        } catch is WouldBlock where !mayBlock {
            return nil
        } catch {
            response = errorResponse(for: error, request: request)
        }
        if case .cached = response.body {
            // Built once with the security headers; nothing per request is added.
        } else {
            response.headers.reserveCapacity(response.headers.fields.count + 6)
            response.headers.add("X-Request-Id", request.requestID)
            configuration.securityHeaders.apply(to: &response.headers)
        }
        let elapsed = exchange.started.duration(to: .now)
        let micros = Int(elapsed.components.seconds) * 1_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000_000)
        metrics?.observeRequest(
            route: routeLabel, method: request.method.rawValue, status: response.status.rawValue,
            seconds: Double(micros) / 1_000_000)
        accessLog.record(
            AccessLogEntry(
                requestID: request.requestID, method: request.method.rawValue, route: routeLabel,
                status: response.status.rawValue, durationMicroseconds: micros,
                client: request.clientAddress))
        return response
    }

    /// The one seam where errors become answers.
    func errorResponse(for error: any Error, request: Request) -> Response {
        let problem: Problem
        var extra = HTTPHeaders()
        var closes = false
        if let known = error as? any HTTPResponseError {
            problem = Problem(
                status: known.status, title: known.title, detail: known.detail,
                fieldErrors: known.fieldErrors, requestID: request.requestID, extensionMembers: known.extensionMembers)
            extra = known.headers
            closes = (known as? HTTPError)?.closesConnection ?? false
        } else {
            configuration.logger.error(
                "unhandled error",
                metadata: [
                    "request_id": .string(request.requestID),
                    "route": .string(request.routeTemplate ?? request.path),
                    "error": .string(String(reflecting: error)),
                ])
            problem = Problem(
                status: .internalServerError, title: "Internal Server Error",
                detail: "Something went wrong on our side. Quote the request id when you report it.",
                fieldErrors: [], requestID: request.requestID)
        }
        var response = configuration.errorRenderer(problem, request)
        for field in extra { response.headers.set(field.name, field.value) }
        if closes { response.headers.set("Connection", "close") }
        return response
    }

    /// The end of the middleware chain: the route's handler, or the error routing decided on.
    static func dispatch(_ request: Request) throws -> Response {
        switch request.resolution {
        case .route(let route):
            if let accepted = route.options.accepts, !request.body.isEmpty || request.headers.contains("Content-Type") {
                guard let type = request.contentType, accepted.contains(type) else {
                    throw HTTPError(
                        .unsupportedMediaType,
                        detail: "Send the body as \(accepted.joined(separator: " or ")).")
                }
            }
            return try route.handler(request)
        case .notFound:
            throw HTTPError(.notFound, detail: "There is nothing at \(request.path).")
        case .methodNotAllowed(let allowed):
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            throw HTTPError(
                .methodNotAllowed, detail: "\(request.method.rawValue) is not allowed here; use \(list).",
                headers: HTTPHeaders([("Allow", list)]))
        case .rejected(let error):
            throw error
        }
    }
}

/// A suspended libmicrohttpd connection handed to a worker thread, which only resumes it.
struct SuspendedConnection: @unchecked Sendable, Hashable {
    let pointer: OpaquePointer
}
