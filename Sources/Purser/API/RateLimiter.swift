// Token buckets shared by every `serve` node. The bucket lives in PostgreSQL (rate_limit_take);
// a node takes tokens from it in small leases and spends them locally, so the shared row is
// written once per lease, not once per request, and a request with a live lease needs no query.
//
// Accuracy across nodes: every admitted request spent a token taken from the shared bucket, so
// all nodes together never admit more than the bucket allows (capacity = one minute's limit,
// refilled continuously). A lease lives at most `leaseLifetime`; tokens a node leased and did not
// spend in that time are dropped, so with N nodes a client may be refused up to N × lease size
// requests early, and never admitted late.
import Foundation
import HTTPServer
import Postgres

/// The answer for one request: the limit, what remains, and when the bucket is full again.
public struct RateLimitState: Sendable {
    public let limit: Int
    public let remaining: Int
    public let resetSeconds: Int

    var headers: [(name: String, value: String)] {
        [("RateLimit-Limit", String(limit)), ("RateLimit-Remaining", String(remaining)),
         ("RateLimit-Reset", String(resetSeconds))]
    }
}

/// Over the limit: 429 with Retry-After and the RateLimit fields.
public struct RateLimited: HTTPResponseError {
    public let state: RateLimitState
    public let retryAfter: Int
    public let what: String
    public var status: HTTPStatus { .tooManyRequests }
    public var detail: String? {
        "The \(what) limit of \(state.limit) requests a minute is used up; try again in \(retryAfter) s."
    }
    public var headers: HTTPHeaders { HTTPHeaders([("Retry-After", String(retryAfter))] + state.headers) }
}

public final class RateLimiter: Sendable {
    private struct Lease {
        var tokens: Int
        var expires: Date
        /// What the shared bucket held after this lease was taken.
        var sharedRemaining: Double
        /// When the shared bucket was found empty: no query until then.
        var emptyUntil: Date?
    }

    static let leaseLifetime: TimeInterval = 2
    private let leases = Locked<[String: Lease]>([:])
    private let database: Database
    private let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.now = now
    }

    /// Tokens leased at once: a fiftieth of a minute's limit (at least one).
    static func leaseSize(_ perMinute: Int) -> Int { max(1, perMinute / 50) }

    /// One bucket a request spends from.
    public struct Bucket: Sendable, Hashable {
        let key: String
        let perMinute: Int
        let what: String
    }

    /// Spends one token from each bucket and returns the tightest state. The common case — every
    /// bucket holds a live lease — takes one lock and no query; otherwise each bucket is taken in turn.
    public func take(_ buckets: [Bucket], mayBlock: Bool) throws -> RateLimitState {
        let moment = now()
        let local: RateLimitState? = leases.withLock { all in
            for bucket in buckets {
                guard let lease = all[bucket.key], lease.tokens > 0, lease.expires > moment else { return nil }
            }
            var tightest: RateLimitState?
            for bucket in buckets {
                all[bucket.key]!.tokens -= 1
                let state = Self.state(all[bucket.key]!, perMinute: bucket.perMinute)
                if tightest == nil || state.remaining < tightest!.remaining { tightest = state }
            }
            return tightest
        }
        if let local { return local }
        var tightest: RateLimitState?
        for bucket in buckets {
            let state = try take(bucket.key, perMinute: bucket.perMinute, what: bucket.what, mayBlock: mayBlock)
            if tightest == nil || state.remaining < tightest!.remaining { tightest = state }
        }
        guard let tightest else { throw HTTPError(.internalServerError) }
        return tightest
    }

    private static func state(_ lease: Lease, perMinute: Int) -> RateLimitState {
        let remaining = max(0, Int(lease.sharedRemaining) + lease.tokens)
        return RateLimitState(limit: perMinute, remaining: remaining,
                              resetSeconds: Int(ceil(Double(perMinute - remaining) / (Double(perMinute) / 60))))
    }

    /// Spends one token from bucket `key` (`perMinute` a minute); throws `RateLimited` when none is
    /// left, and `WouldBlock` when `mayBlock` is false and a lease must be fetched.
    func take(_ key: String, perMinute: Int, what: String, mayBlock: Bool) throws -> RateLimitState {
        let moment = now()
        let rate = Double(perMinute) / 60
        func state(_ lease: Lease) -> RateLimitState { Self.state(lease, perMinute: perMinute) }
        enum Local { case spent(RateLimitState), empty(RateLimitState, Int), fetch }
        let local: Local = leases.withLock { all in
            guard var lease = all[key] else { return .fetch }
            if let until = lease.emptyUntil, until > moment {
                return .empty(state(lease), Int(ceil(until.timeIntervalSince(moment))))
            }
            guard lease.tokens > 0, lease.expires > moment else { return .fetch }
            lease.tokens -= 1
            all[key] = lease
            return .spent(state(lease))
        }
        switch local {
        case .spent(let state): return state
        case .empty(let state, let wait): throw RateLimited(state: state, retryAfter: max(1, wait), what: what)
        case .fetch: break
        }
        guard mayBlock else { throw WouldBlock() }
        let row = try database.pool.query("SELECT granted, remaining FROM rate_limit_take($1, $2, $3, $4)",
                                          [key, Double(perMinute), rate, Self.leaseSize(perMinute)])[0]
        let granted = try row.require(0, as: Int.self)
        let remaining = try row.require(1, as: Double.self)
        if granted == 0 {
            let wait = (1 - remaining) / rate
            let lease = Lease(tokens: 0, expires: moment, sharedRemaining: remaining,
                              emptyUntil: moment.addingTimeInterval(wait))
            leases.withLock { $0[key] = lease }
            throw RateLimited(state: state(lease), retryAfter: max(1, Int(ceil(wait))), what: what)
        }
        let lease = Lease(tokens: granted - 1, expires: moment.addingTimeInterval(Self.leaseLifetime),
                          sharedRemaining: remaining, emptyUntil: nil)
        leases.withLock { all in
            if all.count > 100_000 { all.removeAll() }
            all[key] = lease
        }
        return state(lease)
    }
}
