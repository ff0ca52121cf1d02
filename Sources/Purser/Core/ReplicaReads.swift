// Reports and read-heavy lists may be read from a streaming replica (DATABASE_REPLICA_URL), which
// takes their load off the primary. A replica is behind by however long replay takes, so it serves a
// read only while it is within a stated bound (PURSER_REPLICA_MAX_LAG_SECONDS); past it, when it
// cannot be reached, and for a person who has just written (ReadYourWrites), the primary serves the
// read instead. Either way a routed read is READ ONLY with the same tenant, staff and role settings,
// so a page that works on the primary works on the replica, and one that writes fails on both.
import Foundation
import class HTTPServer.Locked
import class HTTPServer.MetricsRegistry
import Postgres

public final class ReplicaReads: Sendable {
    /// The replica's pool, made by `Database.init` (same role and settings, same pool mode).
    let database: Database
    /// Reads go to the replica only while its replay is at most this far behind.
    public let maxLag: TimeInterval
    /// One measurement of the lag is trusted this long: reads cost no extra round trip each.
    let measureEvery: Duration
    /// After a failed measurement the replica is asked again only after this long.
    let retryAfter: Duration
    let clock: any WallClock

    /// What the last measurement found.
    public struct Health: Sendable, Equatable {
        /// Whether reads may go to the replica now.
        public let usable: Bool
        /// Seconds the replica's replay is behind; 0 when it has replayed all it received while
        /// streaming (an idle primary sends nothing, so the replay time then stops moving); nil when
        /// it could not be measured.
        public let lagSeconds: Double?
        /// Why not, when not usable: `lagging`, `unavailable` or `not_standby`.
        public let reason: String?
    }

    /// Who served a routed read, and why the primary did when it did.
    enum Served: String, CaseIterable {
        case replica
        case ownWrites = "own_writes"
        case lagging
        case unavailable
    }

    private struct State {
        var health: Health?
        var measuredAt: ContinuousClock.Instant?
        var measuring = false
        var served: [Served: UInt64] = [:]
    }

    private let state = Locked(State())

    init(
        database: Database, maxLag: TimeInterval, clock: any WallClock, measureEvery: Duration = .seconds(1),
        retryAfter: Duration = .seconds(5)
    ) {
        var readOnly = database
        readOnly.transactionSettings = Self.readOnly
        self.database = readOnly
        self.maxLag = maxLag
        self.clock = clock
        self.measureEvery = measureEvery
        self.retryAfter = retryAfter
    }

    /// Added to a routed read's transaction settings (`SET TRANSACTION READ ONLY`, per transaction, so it
    /// also holds behind a pooler in transaction mode).
    static let readOnly: [(name: String, value: String)] = [("transaction_read_only", "on")]

    /// The replica's state, measured again when the last measurement is older than `measureEvery`.
    /// One caller measures while the others go on with the last result (or the primary, before any).
    public func health() -> Health? {
        let now = ContinuousClock.now
        let shouldMeasure: Bool = state.withLock { state in
            guard !state.measuring else { return false }
            if let measuredAt = state.measuredAt, let health = state.health {
                let trusted = health.reason == "unavailable" ? retryAfter : measureEvery
                if now - measuredAt < trusted { return false }
            }
            state.measuring = true
            return true
        }
        guard shouldMeasure else { return state.withLock { $0.health } }
        let measured = measure()
        return state.withLock { state in
            state.health = measured
            state.measuredAt = ContinuousClock.now
            state.measuring = false
            return measured
        }
    }

    /// One query on the replica: is it a standby, has it replayed everything it received while
    /// streaming, and how long ago (by the World's clock) was the last transaction it replayed
    /// committed on the primary.
    private func measure() -> Health {
        do {
            let row = try database.pool.query(
                """
                SELECT pg_is_in_recovery(),
                       EXISTS (SELECT FROM pg_stat_wal_receiver) AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
                       extract(epoch FROM $1::timestamptz - pg_last_xact_replay_timestamp())::float8
                """, [clock.now]
            ).first
            guard let row, try row.require(0, as: Bool.self) else {
                return Health(usable: false, lagSeconds: nil, reason: "not_standby")
            }
            let caughtUp = try row.decode(1, as: Bool.self) ?? false
            guard let behind = caughtUp ? 0 : try row.decode(2, as: Double.self) else {
                // Nothing replayed yet since it started: its age is unknown.
                return Health(usable: false, lagSeconds: nil, reason: "lagging")
            }
            let lag = max(0, behind)
            return Health(usable: lag <= maxLag, lagSeconds: lag, reason: lag <= maxLag ? nil : "lagging")
        } catch {
            return Health(usable: false, lagSeconds: nil, reason: "unavailable")
        }
    }

    /// A failed read on the replica: it is not asked again until the retry interval has passed.
    func failed() {
        state.withLock { state in
            state.health = Health(usable: false, lagSeconds: nil, reason: "unavailable")
            state.measuredAt = ContinuousClock.now
        }
    }

    func count(_ served: Served) {
        state.withLock { $0.served[served, default: 0] += 1 }
    }

    /// Errors after which the primary serves the read instead: the replica is gone or busy, or
    /// replay cancelled the read (a recovery conflict, 40001 once the pool's retries are spent).
    /// A read-only refusal (25006) is the read's own fault: it fails on the primary too.
    static func isReplicaFailure(_ error: PostgresError) -> Bool {
        (error.isConnectionLoss && error.sqlState != "25006") || error.kind == .poolTimeout || error.kind == .closed
            || error.sqlState == "40001" || error.sqlState == "57P04"
    }

    /// `/metrics`: the lag as last measured, whether the replica is in use, and reads by who served them.
    func register(in metrics: MetricsRegistry) {
        metrics.register(name: "purser_replica_lag_seconds", help: "How far the replica's replay was behind when last measured.") {
            [weak self] in
            guard let lag = self?.state.withLock({ $0.health?.lagSeconds }) else { return [] }
            return [.init([], lag)]
        }
        metrics.register(name: "purser_replica_usable", help: "1 while reads may go to the replica, 0 while the primary serves them.") {
            [weak self] in
            [.init([], self?.state.withLock({ $0.health?.usable }) == true ? 1 : 0)]
        }
        let pool = database.pool
        metrics.register(name: "purser_replica_pool_connections", help: "Replica connections by state.") {
            let stats = pool.statistics
            return [.init([("state", "in_use")], Double(stats.inUse)), .init([("state", "idle")], Double(stats.idle))]
        }
        metrics.register(
            name: "purser_db_reads_total", help: "Routed reads (reports, lists) by the pool that served them and why.", type: "counter"
        ) { [weak self] in
            let served = self?.state.withLock { $0.served } ?? [:]
            return Served.allCases.map { kind in
                .init([("pool", kind == .replica ? "replica" : "primary"), ("reason", kind.rawValue)], Double(served[kind] ?? 0))
            }
        }
    }

    /// Closes the replica's pool.
    func close() { database.pool.close() }
}

extension Database {
    /// This database with reads routed to the replica of `configuration`, when one is set.
    public func withReplica(_ configuration: Configuration, clock: any WallClock) -> Database {
        guard let url = configuration.databaseReplicaURL else { return self }
        var routed = self
        routed.replica = ReplicaReads(
            database: Database(url: url, size: configuration.poolSize, mode: configuration.poolMode),
            maxLag: TimeInterval(configuration.replicaMaxLagSeconds), clock: clock)
        return routed
    }

    /// Runs `body` for a read the replica may serve: there when it is within its lag bound and the
    /// person asking has not written within the read-your-writes window (`ownWrites`, from
    /// ReadYourWrites); on the primary otherwise, or when the replica fails the read. `body` gets the
    /// database to read from and may run twice (replica, then primary), so it must only read.
    public func reading<T>(ownWrites: Bool, _ body: (Database) throws -> T) throws -> T {
        var primary = self
        primary.replica = nil
        primary.transactionSettings = transactionSettings + ReplicaReads.readOnly
        guard let replica else { return try body(primary) }
        if ownWrites {
            replica.count(.ownWrites)
            return try body(primary)
        }
        let health = replica.health()
        guard let health, health.usable else {
            replica.count(health?.reason == "lagging" ? .lagging : .unavailable)
            return try body(primary)
        }
        do {
            let value = try body(replica.database)
            replica.count(.replica)
            return value
        } catch let error as PostgresError where ReplicaReads.isReplicaFailure(error) {
            replica.failed()
            replica.count(.unavailable)
            return try body(primary)
        }
    }
}
