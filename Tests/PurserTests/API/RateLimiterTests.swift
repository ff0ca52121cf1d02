import Foundation
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The limiter under many worker threads at once: one thread fetches a bucket's lease while the
/// others spend what is left or wait, so a client far under its limit is never refused and the
/// shared bucket loses no more than one lease per node.
@Suite struct RateLimiterTests {
    /// Purser's time of day here: it stands still until the test moves it past a lease's life.
    let clock = SettableClock(Date())
    let app: TestApp

    init() throws {
        app = try TestApp(clock: clock)
    }

    /// Threads that start and finish each round together, so every one of them meets the expired lease.
    final class Rounds: @unchecked Sendable {
        private let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)

        init(parties: Int) { pthread_barrier_init(barrier, nil, UInt32(parties)) }

        deinit {
            pthread_barrier_destroy(barrier)
            barrier.deallocate()
        }

        func meet() { pthread_barrier_wait(barrier) }
    }

    @Test func manyThreadsShareOneLeaseFetchAndNeverDrainTheBucket() throws {
        // The bench plan's limit: a lease is two million tokens, the threads spend a few thousand.
        let perMinute = 100_000_000
        let lease = RateLimiter.leaseSize(perMinute)
        let limiter = RateLimiter(database: app.app.database, clock: clock)
        let bucket = limiter.bucket("token:many-threads", perMinute: perMinute, what: "token's")
        let threads = 32
        let rounds = 12
        let takes = 40
        let together = Rounds(parties: threads + 1)
        let refusals = Locked<[String]>([])
        for _ in 0..<threads {
            Thread {
                for _ in 0..<rounds {
                    together.meet()
                    for _ in 0..<takes {
                        do {
                            _ = try limiter.take(bucket, mayBlock: true)
                        } catch {
                            refusals.withLock { $0.append("\(error)") }
                        }
                    }
                    together.meet()
                }
            }.start()
        }
        for _ in 0..<rounds {
            // Every round begins with the lease expired (and the bucket refilled by 3.5 million).
            clock.advance(by: RateLimiter.leaseLifetime + 0.1)
            together.meet()
            together.meet()
        }
        let refused = refusals.withLock { $0 }
        let refusedCount = refused.count
        #expect(refusedCount == 0, "\(refusedCount) of \(threads * rounds * takes) refused far under the limit: \(refused.prefix(1))")
        let left = try app.database.connect().query(
            "SELECT tokens FROM rate_limit_buckets WHERE key = 'token:many-threads'")[0].require(0, as: Double.self)
        // Each round the node tops its lease up and, once that is spent, takes one whole lease:
        // never a lease per thread.
        let spentPerRound = threads * takes
        #expect(
            left >= Double(perMinute - lease - 2 * spentPerRound),
            "the bucket lost \(Double(perMinute) - left) tokens; one lease is \(lease)")
    }

    /// A request is checked against its token's bucket and its tenant's. When the tenant's refuses
    /// it, the token's gets its token back: a client held back by its tenant keeps its own allowance.
    @Test func aRequestItsTenantRefusesSpendsNothingFromItsTokensBucket() throws {
        let limiter = RateLimiter(database: app.app.database, clock: clock)
        let client = limiter.bucket("token:refused-by-tenant", perMinute: 600, what: "token's")
        let tenant = limiter.bucket("tenant:refused-by-tenant", perMinute: 1, what: "tenant's")
        // And the other way round: the token's refuses after the tenant's gave.
        let small = limiter.bucket("token:refusing", perMinute: 1, what: "token's")
        let shared = limiter.bucket("tenant:refused-by-token", perMinute: 600, what: "tenant's")
        for (open, refusing) in [(client, tenant), (shared, small)] {
            let both = [open, refusing]
            _ = try limiter.take(both, mayBlock: true)
            for _ in 0..<30 {
                #expect(throws: RateLimited.self) { try limiter.take(both, mayBlock: true) }
            }
            // The clock stands still: of the 600, the admitted request and this one are gone.
            #expect(try limiter.take(open, mayBlock: true).remaining == 598, "\(open.key)")
        }
    }

    /// A new lease tops up what the node still holds. The bucket and the node's lease together hold
    /// exactly what one bucket of the limit would: never more, and no fraction of a token lost.
    @Test func aTopUpKeepsTheBucketAndTheLeaseAtTheLimitExactly() throws {
        // 10 tokens a second, leases of 12.
        let perMinute = 600
        let key = "token:top-up"
        let here = RateLimiter(database: app.app.database, clock: clock)
        let there = RateLimiter(database: app.app.database, clock: clock)
        let bucket = here.bucket(key, perMinute: perMinute, what: "token's")
        #expect(try here.take(bucket, mayBlock: true).remaining == perMinute - 1)
        // Another node takes its lease: the bucket holds 576, this node 11.
        _ = try there.take(there.bucket(key, perMinute: perMinute, what: "token's"), mayBlock: true)
        // Past the lease's life the bucket has refilled by 20.5 to 596.5: with the 11 this node
        // holds that is 7.5 past a full bucket, and exactly that much must go.
        clock.advance(by: 2.05)
        let state = try here.take(bucket, mayBlock: true)
        let left = try app.database.connect().query("SELECT tokens FROM rate_limit_buckets WHERE key = $1", [key])[0]
            .require(0, as: Double.self)
        // What this node holds: the state counts the bucket's whole tokens and the node's lease.
        let held = state.remaining - Int(left)
        #expect(held >= 0)
        #expect(
            abs(left + Double(held) - Double(perMinute - 1)) < 1e-6, "bucket \(left) + lease \(held) for \(perMinute - 1) after the take")
    }
}
