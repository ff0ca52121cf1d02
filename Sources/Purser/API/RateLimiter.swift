// Token buckets shared by every `serve` node. The bucket lives in PostgreSQL (rate_limit_take);
// a node takes tokens from it in small leases and spends them locally, so the shared row is
// written once per lease, not once per request, and a request with a live lease needs no query.
// The bucket refills by the World's clock, so a test that moves its clock refills it.
//
// One thread per bucket and node fetches a lease at a time; the others spend what is left of the
// expired lease meanwhile or wait for the fetch. Were every thread to fetch its own (as each sees
// the lease run out at once), a node would take many leases per expiry and drain the bucket of a
// client far under its limit.
//
// Accuracy across nodes: every admitted request spent a token taken from the shared bucket, so
// all nodes together never admit more than the bucket allows (capacity = one minute's limit,
// refilled continuously). A lease lives at most `leaseLifetime`; the next one tops up what the
// node had left rather than adding a whole lease, and what is left counts as given back to the
// bucket (the part a full bucket could not hold is dropped), so a node holds at most one lease
// and unspent tokens do not drain the bucket. With N nodes a client may be refused up to
// N × lease size requests early (tokens held by nodes it no longer calls), and never admitted late.
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
        /// Tokens of the live lease.
        var tokens = 0
        var expires = Date.distantPast
        /// What the shared bucket held after this lease was taken.
        var sharedRemaining: Double = 0
        /// When the shared bucket was found empty: no query until then.
        var emptyUntil: Date?
        /// One thread is fetching the next lease; the others do not fetch too.
        var fetching = false
        /// What was left of the expired lease when its fetch began: spent while the fetch runs.
        var expiring = 0

        /// Whether a token can be spent at `moment` without a query.
        func spendable(at moment: Date) -> Bool { (tokens > 0 && expires > moment) || (fetching && expiring > 0) }

        mutating func spend(at moment: Date) -> Bool {
            if tokens > 0 && expires > moment {
                tokens -= 1
                return true
            }
            guard fetching && expiring > 0 else { return false }
            expiring -= 1
            return true
        }
    }

    /// A bucket's lease behind a mutex, with the condition that threads waiting for its fetch sleep on.
    fileprivate final class LeaseCell: @unchecked Sendable {
        private var lease = Lease()
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let fetched = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init() {
            pthread_mutex_init(mutex, nil)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            // Waits are measured on the monotonic clock: they bound a query, not a time of day.
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(fetched, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(fetched)
            pthread_mutex_destroy(mutex)
            fetched.deallocate()
            mutex.deallocate()
        }

        /// Runs `body` on the lease under the mutex. `body` may wait for a fetch with `waitForFetch`.
        func withLock<T>(_ body: (inout Lease, _ waitForFetch: (timespec) -> Bool) throws -> T) rethrows -> T {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&lease) { deadline in
                var deadline = deadline
                return pthread_cond_timedwait(fetched, mutex, &deadline) == 0
            }
        }

        /// Ends a fetch: `body` stores its outcome, then every thread waiting for it looks again.
        func finishFetch<T>(_ body: (inout Lease) throws -> T) rethrows -> T {
            pthread_mutex_lock(mutex)
            defer {
                lease.fetching = false
                lease.expiring = 0
                pthread_cond_broadcast(fetched)
                pthread_mutex_unlock(mutex)
            }
            return try body(&lease)
        }
    }

    static let leaseLifetime: TimeInterval = 2
    /// How long a request waits for another thread's fetch of the lease it needs. The fetch is one
    /// statement; past this the database is not answering and the request gets a 503.
    static let fetchWait: TimeInterval = 10
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
        fileprivate let lease = LeaseCell()

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

    /// Returns the token just taken from each bucket: its request is about to run again on a
    /// worker (`WouldBlock`), where it takes one anew.
    func giveBack(_ buckets: [Bucket]) {
        for bucket in buckets {
            bucket.lease.withLock { lease, _ in lease.tokens += 1 }
        }
    }

    /// Spends one token from each bucket and returns the tightest state. The common case — every
    /// bucket holds a live lease — touches only the buckets' own locks and no query. When a lease
    /// must be fetched and `mayBlock` is false, nothing is spent and `WouldBlock` is thrown.
    public func take(_ buckets: [Bucket], mayBlock: Bool) throws -> RateLimitState {
        let moment = clock.now
        let allLive = buckets.allSatisfy { bucket in bucket.lease.withLock { lease, _ in lease.spendable(at: moment) } }
        if !allLive && !mayBlock { throw WouldBlock() }
        var tightest: RateLimitState?
        for (index, bucket) in buckets.enumerated() {
            let state: RateLimitState
            do {
                state = try take(bucket, mayBlock: mayBlock)
            } catch {
                // A request one bucket refuses (or sends to a worker) spends from none: the tokens
                // the buckets before it gave go back, or a client held back by its tenant's limit
                // would use up its own allowance on requests that never ran.
                giveBack(Array(buckets[..<index]))
                throw error
            }
            if tightest == nil || state.remaining < tightest!.remaining { tightest = state }
        }
        guard let tightest else { throw HTTPError(.internalServerError) }
        return tightest
    }

    private static func state(_ lease: Lease, perMinute: Int) -> RateLimitState {
        let remaining = max(0, Int(lease.sharedRemaining) + lease.tokens + lease.expiring)
        return RateLimitState(
            limit: perMinute, remaining: remaining,
            resetSeconds: Int(ceil(Double(perMinute - remaining) / (Double(perMinute) / 60))))
    }

    /// Spends one token from `bucket`; throws `RateLimited` when none is left, and `WouldBlock` when
    /// `mayBlock` is false and a lease must be fetched. One thread per bucket fetches at a time:
    /// the others spend what is left of the expired lease meanwhile, or wait for the fetch.
    func take(_ bucket: Bucket, mayBlock: Bool) throws -> RateLimitState {
        while true {
            if let state = try takeOrFetch(bucket, mayBlock: mayBlock) { return state }
        }
    }

    /// One attempt of `take`: nil when the fetched lease was all given back to a full bucket, so the
    /// lease, now empty but not expired, must be fetched again (this time whole).
    private func takeOrFetch(_ bucket: Bucket, mayBlock: Bool) throws -> RateLimitState? {
        let perMinute = bucket.perMinute
        let rate = Double(perMinute) / 60
        func state(_ lease: Lease) -> RateLimitState { Self.state(lease, perMinute: perMinute) }
        enum Local { case spent(RateLimitState), empty(RateLimitState, Int), wouldBlock, timedOut, fetch(Int, Date) }
        var deadline: timespec?
        let local: Local = bucket.lease.withLock { lease, waitForFetch in
            while true {
                let moment = clock.now
                if lease.spend(at: moment) { return .spent(state(lease)) }
                if !lease.fetching, lease.tokens == 0, let until = lease.emptyUntil, until > moment {
                    return .empty(state(lease), Int(ceil(until.timeIntervalSince(moment))))
                }
                guard mayBlock else { return .wouldBlock }
                if lease.fetching {
                    let until = deadline ?? Self.monotonic(after: Self.fetchWait)
                    deadline = until
                    if !waitForFetch(until) && lease.fetching { return .timedOut }
                    continue
                }
                // This thread fetches. Whatever the expired lease still holds is spent by the others
                // meanwhile; the fetch tops the lease up to its size rather than taking a whole one.
                if lease.expires <= moment {
                    lease.expiring = lease.tokens
                    lease.tokens = 0
                }
                lease.fetching = true
                return .fetch(lease.expiring, moment)
            }
        }
        let leftover: Int
        let moment: Date
        switch local {
        case .spent(let state): return state
        case .empty(let state, let wait): throw RateLimited(state: state, retryAfter: max(1, wait), what: bucket.what)
        case .wouldBlock: throw WouldBlock()
        case .timedOut:
            throw PostgresError(
                kind: .poolTimeout, message: "the \(bucket.what) rate-limit lease was not fetched within \(Self.fetchWait) s")
        case .fetch(let left, let at): (leftover, moment) = (left, at)
        }
        // What the node holds of the expired lease counts as given back to the bucket, which holds
        // no more than its size: the bucket refills only up to its size less what the node holds,
        // and the part a full bucket could not have held is dropped there, to the fraction of a
        // token. So the bucket and this node's lease together never exceed one minute's limit, and
        // no token is lost by rounding what the node holds (whole tokens) against the bucket (not).
        let capacity = max(0, Double(perMinute) - Double(leftover))
        let granted: Int
        let remaining: Double
        do {
            (granted, remaining) = try lease(
                bucket.key, capacity: capacity, perSecond: rate, want: max(0, Self.leaseSize(perMinute) - leftover), at: moment)
        } catch {
            bucket.lease.finishFetch { _ in }
            throw error
        }
        return try bucket.lease.finishFetch { lease in
            // Never more than the limit, even when a token given back landed on a topped-up lease
            // of a limit of one a minute.
            lease.tokens = min(perMinute, lease.tokens + lease.expiring + granted)
            lease.expiring = 0
            lease.expires = moment.addingTimeInterval(Self.leaseLifetime)
            lease.sharedRemaining = remaining
            lease.emptyUntil = nil
            if lease.tokens > 0 {
                lease.tokens -= 1
                return state(lease)
            }
            if remaining >= 1 { return nil }
            let wait = max(0, 1 - remaining) / rate
            lease.emptyUntil = moment.addingTimeInterval(wait)
            throw RateLimited(state: state(lease), retryAfter: max(1, Int(ceil(wait))), what: bucket.what)
        }
    }

    /// The monotonic clock's reading `seconds` from now, for a bounded wait.
    private static func monotonic(after seconds: TimeInterval) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int(now.tv_nsec) + Int((seconds - seconds.rounded(.down)) * 1e9)
        return timespec(
            tv_sec: now.tv_sec + Int(seconds.rounded(.down)) + nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
    }

    /// Takes up to `want` tokens from the shared bucket `key` (full when new, refilled at
    /// `perSecond` since it was last written, up to `capacity`, which is also where a fuller bucket
    /// is cut down to) at `now`, in one statement
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
