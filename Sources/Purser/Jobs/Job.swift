// One job as a handler sees it, and what a caller may say about a job it enqueues.
import Foundation
import Postgres

public struct Job: Sendable {
    public let id: Int64
    public let kind: String
    /// The payload as JSON text; `decode` reads it into a type.
    public let payload: JSONText
    public let tenant: UUID?
    /// This attempt's number (1 for the first).
    public let attempt: Int
    public let maxAttempts: Int
    public let timeout: TimeInterval

    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try payload.decode(T.self) }
}

/// How a job is enqueued: when, how urgently, how often it may be tried, and an optional key that
/// keeps one pending job per key.
public struct JobOptions: Sendable {
    public var tenant: UUID?
    public var uniqueKey: String?
    /// When the job becomes due: the clock's now for at once.
    public var runAt: Date
    public var priority: Int16 = 0
    public var maxAttempts = 10
    public var timeout: TimeInterval = 60

    public init(
        tenant: UUID? = nil, uniqueKey: String? = nil, runAt: Date, priority: Int16 = 0,
        maxAttempts: Int = 10, timeout: TimeInterval = 60
    ) {
        self.tenant = tenant
        self.uniqueKey = uniqueKey
        self.runAt = runAt
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.timeout = timeout
    }
}
