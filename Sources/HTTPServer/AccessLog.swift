// One line per answered request. Written for every request, so implementations must be cheap.
import Logging

public struct AccessLogEntry: Sendable {
    public let requestID: String
    public let method: String
    /// The route template, or `unmatched`.
    public let route: String
    public let status: Int
    public let durationMicroseconds: Int
    public let client: String
}

public protocol AccessLog: Sendable {
    func record(_ entry: AccessLogEntry)
}

/// The access log through swift-log, for users of the server that bring no faster one.
public struct LoggerAccessLog: AccessLog {
    let logger: Logger
    public init(logger: Logger) { self.logger = logger }

    public func record(_ entry: AccessLogEntry) {
        logger.info(
            "request",
            metadata: [
                "request_id": .string(entry.requestID),
                "method": .string(entry.method),
                "route": .string(entry.route),
                "status": .stringConvertible(entry.status),
                "duration_us": .stringConvertible(entry.durationMicroseconds),
                "client": .string(entry.client),
            ])
    }
}
