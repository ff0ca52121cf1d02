// Token buckets shared by every `serve` node. The bucket lives in PostgreSQL (rate_limit_take);
// a node takes tokens from it in small leases and spends them locally, so the shared row is
// written once per lease, not once per request, and a request with a live lease needs no query.
// The bucket refills by the World's clock, so a test that moves its clock refills it.
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
        [
            ("RateLimit-Limit", String(limit)), ("RateLimit-Remaining", String(remaining)),
            ("RateLimit-Reset", String(resetSeconds)),
        ]
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
    fileprivate struct Lease {
        var tokens: Int
        var expires: Date
        /// What the shared bucket held after this lease was taken.
        var sharedRemaining: Double
        /// When the shared bucket was found empty: no query until then.
        var emptyUntil: Date?
    }

    static let leaseLifetime: TimeInterval = 2
    private let database: Database
    /// The time of day leases run out and buckets refill by.
    private let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Tokens leased at once: a fiftieth of a minute's limit (at least one).
    static func leaseSize(_ perMinute: Int) -> Int { max(1, perMinute / 50) }

    /// One bucket and this node's lease on it. Tokens hold references to their buckets (made once
    /// when the token is loaded), so spending needs no lookup by name — only the bucket's own lock.
    public final class Bucket: Sendable {
        let key: String
        let perMinute: Int
        let what: String
        fileprivate let lease = Locked<Lease?>(nil)

        init(key: String, perMinute: Int, what: String) {
            self.key = key
            self.perMinute = perMinute
            self.what = what
        }
    }

    private let registry = Locked<[String: Bucket]>([:])

    /// The bucket called `key` (`token:<id>`, `tenant:<id>`), shared by everything that spends from
    /// it on this node; a changed limit (a new plan) starts a new one.
    public func bucket(_ key: String, perMinute: Int, what: String) -> Bucket {
        registry.withLock { all in
            if let existing = all[key], existing.perMinute == perMinute { return existing }
            if all.count > 100_000 { all.removeAll() }
            let bucket = Bucket(key: key, perMinute: perMinute, what: what)
            all[key] = bucket
            return bucket
        }
    }

    /// Spends one token from each bucket and returns the tightest state. The common case — every
    /// bucket holds a live lease — touches only the buckets' own locks and no query. When a lease
    /// must be fetched and `mayBlock` is false, nothing is spent and `WouldBlock` is thrown.
    /// Returns the token just taken from each bucket: its request is about to run again on a
    /// worker (`WouldBlock`), where it takes one anew.
    func giveBack(_ buckets: [Bucket]) {
        for bucket in buckets {
            bucket.lease.withLock { lease in
                if lease != nil { lease!.tokens += 1 }
            }
        }
    }

    public func take(_ buckets: [Bucket], mayBlock: Bool) throws -> RateLimitState {
        let moment = clock.now
        let allLive = buckets.allSatisfy { bucket in
            bucket.lease.withLock { lease in lease.map { $0.tokens > 0 && $0.expires > moment } ?? false }
        }
        if !allLive && !mayBlock { throw WouldBlock() }
        var tightest: RateLimitState?
        for bucket in buckets {
            let state = try take(bucket, mayBlock: mayBlock)
            if tightest == nil || state.remaining < tightest!.remaining { tightest = state }
        }
        guard let tightest else { throw HTTPError(.internalServerError) }
        return tightest
    }

    private static func state(_ lease: Lease, perMinute: Int) -> RateLimitState {
        let remaining = max(0, Int(lease.sharedRemaining) + lease.tokens)
        return RateLimitState(
            limit: perMinute, remaining: remaining,
            resetSeconds: Int(ceil(Double(perMinute - remaining) / (Double(perMinute) / 60))))
    }

    /// Spends one token from `bucket`; throws `RateLimited` when none is left, and `WouldBlock` when
    /// `mayBlock` is false and a lease must be fetched.
    func take(_ bucket: Bucket, mayBlock: Bool) throws -> RateLimitState {
        let moment = clock.now
        let perMinute = bucket.perMinute
        let rate = Double(perMinute) / 60
        func state(_ lease: Lease) -> RateLimitState { Self.state(lease, perMinute: perMinute) }
        enum Local { case spent(RateLimitState), empty(RateLimitState, Int), fetch }
        let local: Local = bucket.lease.withLock { current in
            guard var lease = current else { return .fetch }
            if let until = lease.emptyUntil, until > moment {
                return .empty(state(lease), Int(ceil(until.timeIntervalSince(moment))))
            }
            guard lease.tokens > 0, lease.expires > moment else { return .fetch }
            lease.tokens -= 1
            current = lease
            return .spent(state(lease))
        }
        switch local {
        case .spent(let state): return state
        case .empty(let state, let wait): throw RateLimited(state: state, retryAfter: max(1, wait), what: bucket.what)
        case .fetch: break
        }
        guard mayBlock else { throw WouldBlock() }
        let (granted, remaining) = try lease(
            bucket.key, capacity: Double(perMinute), perSecond: rate,
            want: Self.leaseSize(perMinute), at: moment)
        if granted == 0 {
            let wait = (1 - remaining) / rate
            let lease = Lease(tokens: 0, expires: moment, sharedRemaining: remaining, emptyUntil: moment.addingTimeInterval(wait))
            bucket.lease.withLock { $0 = lease }
            throw RateLimited(state: state(lease), retryAfter: max(1, Int(ceil(wait))), what: bucket.what)
        }
        let lease = Lease(
            tokens: granted - 1, expires: moment.addingTimeInterval(Self.leaseLifetime),
            sharedRemaining: remaining, emptyUntil: nil)
        bucket.lease.withLock { $0 = lease }
        return state(lease)
    }

    /// Takes up to `want` tokens from the shared bucket `key` (full when new, refilled at
    /// `perSecond` since it was last written, up to `capacity`) at `now`, in one statement
    /// (rate_limit_take, migration 0019), so the row is locked only while it runs; returns how many
    /// were granted and what the bucket holds after.
    private func lease(
        _ key: String, capacity: Double, perSecond: Double, want: Int,
        at now: Date
    ) throws -> (granted: Int, remaining: Double) {
        let row = try database.pool.query(
            "SELECT granted, remaining FROM rate_limit_take($1, $2, $3, $4, $5)", [key, capacity, perSecond, want, now])[0]
        return (try row.require(0, as: Int.self), try row.require(1, as: Double.self))
    }
}
