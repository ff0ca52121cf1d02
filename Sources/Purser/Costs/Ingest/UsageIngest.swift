// Takes a batch of usage events into the database in one transaction: COPY into a staging table
// made ON COMMIT DROP (so a transaction-mode pooler can carry it), then one set-based statement —
// the idempotency table first (ON CONFLICT DO NOTHING RETURNING tells new events from re-sent
// ones), the new events rated and inserted into their monthly partitions, the rollups upserted in
// key order — and one `usage.ingest` audit event with the counts.
//
// The transaction holds the tenant's rating lock shared: a re-rating takes it exclusively, so it
// waits for batches rated with the old prices to commit and every later batch sees the new ones.
import Foundation
import Postgres

/// What one batch came to.
struct UsageIngestOutcome: Sendable, Equatable {
    struct Rejection: Sendable, Equatable {
        /// A JSON array's index (from 0), or the line number (from 1) of NDJSON and CSV.
        let position: Int
        let reason: String
    }

    struct Unpriced: Sendable, Equatable {
        let provider: String
        let item: String
        let events: Int
    }

    var accepted = 0
    var duplicates = 0
    var rejected: [Rejection] = []
    /// Accepted events no price in the tenant's currency covers, by provider and model (or GPU type).
    var unpriced: [Unpriced] = []
}

/// Where the batch came from, for the audit event.
enum UsageSource: String, Sendable { case api, csv }

struct UsageIngest: Sendable {
    let database: Database

    /// The key of `tenant`'s rating lock (pg_advisory_xact_lock): shared by ingest, exclusive for re-rating.
    static func ratingLock(_ tenant: UUID) -> String { "usage:" + tenant.postgresText }

    /// Validates `items`, stores the valid new events of `tenant` and answers with the counts.
    func ingest(_ items: [UsageItem], tenant: UUID, actor: AuditActor, source: UsageSource, now: Date) throws -> UsageIngestOutcome {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))", [Self.ratingLock(tenant)])
            let rows = try tx.query(
                """
                SELECT t.created_at, t.time_zone, coalesce(s.currency, 'USD'), coalesce(s.retention_days, 400)
                FROM tenants t LEFT JOIN tenant_cost_settings s ON s.tenant_id = t.id WHERE t.id = $1
                """, [tenant])
            guard let row = rows.first else { throw NotFound() }
            let created: Date = try row.require(0)
            let zone: String = try row.require(1)
            let currency: String = try row.require(2)
            let kept = now.addingTimeInterval(-86400 * Double(try row.require(3, as: Int.self)))

            var outcome = UsageIngestOutcome()
            var events: [UsageEvent] = []
            var seen = Set<String>()
            events.reserveCapacity(items.count)
            for item in items {
                switch item.record.flatMap({ UsageRules.event($0, now: now, tenantCreated: created, kept: kept) }) {
                case .failure(let error): outcome.rejected.append(.init(position: item.position, reason: error.message))
                case .success(let event):
                    // The first of an event_id sent twice in one batch counts; the next is a duplicate.
                    if seen.insert(event.eventID).inserted { events.append(event) } else { outcome.duplicates += 1 }
                }
            }
            if !events.isEmpty {
                let (fresh, unpriced) = try store(events, tx: tx, tenant: tenant, zone: zone, currency: currency, now: now)
                outcome.accepted = fresh
                outcome.duplicates += events.count - fresh
                outcome.unpriced = unpriced
                // Budgets hear of new spend in the same transaction (they fire once it commits).
                if fresh > 0 { try BudgetChecks.usageIngested(tx, tenant: tenant, at: now) }
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "usage.ingest", targetType: "usage",
                    after: try JSONText(encoding: [
                        "source": source.rawValue, "accepted": String(outcome.accepted), "duplicates": String(outcome.duplicates),
                        "rejected": String(outcome.rejected.count),
                        "unpriced": String(outcome.unpriced.reduce(0) { $0 + $1.events }),
                    ]), at: now), in: tx)
            return outcome
        }
    }

    /// COPY, then one statement; returns how many events were new and those no price covers.
    private func store(_ events: [UsageEvent], tx: Connection, tenant: UUID, zone: String, currency: String, now: Date) throws -> (
        fresh: Int, unpriced: [UsageIngestOutcome.Unpriced]
    ) {
        // Partitions for the months this batch touches (made ahead by a schedule; this covers backfills).
        try PartitionEnsure.months(
            tx, Set(events.map { $0.occurredSeconds / 86400 }).map { Date(timeIntervalSince1970: TimeInterval($0 * 86400)) })
        try tx.execute(Self.staging)
        try tx.copyIn("COPY usage_staging FROM STDIN") { writer in
            for e in events {
                writer.field(e.eventID)
                writer.field(e.occurredAt)
                writer.field(e.kind.rawValue)
                writer.field(e.provider)
                writer.field(e.model)
                writer.field(e.item)
                writer.field(e.endpoint)
                writer.field(e.team)
                writer.field(e.feature)
                writer.field(e.keyRef)
                writer.field(e.inputTokens)
                writer.field(e.outputTokens)
                writer.field(e.cachedInputTokens)
                writer.field(e.requests)
                if let latency = e.latencyMs { writer.field(latency) } else { writer.field(nil) }
                if let ttft = e.ttftMs { writer.field(ttft) } else { writer.field(nil) }
                writer.field(e.status)
                writer.field(e.host)
                writer.field(e.gpuType)
                writer.field(e.gpuSeconds)
                try writer.endRow()
            }
        }
        let rows = try tx.query(Self.insertRatedAndRollUp, [tenant, zone, currency, now])
        var unpriced: [UsageIngestOutcome.Unpriced] = []
        for row in rows {
            guard let provider: String = try row.decode(1) else { continue }
            unpriced.append(.init(provider: provider, item: try row.require(2), events: try row.require(3)))
        }
        return (try rows.first?.require(0, as: Int.self) ?? 0, unpriced)
    }

    /// The staging table the batch is copied into; dropped when the transaction ends.
    private static let staging = """
        CREATE TEMP TABLE usage_staging (
            event_id text, occurred_at timestamptz, kind text, provider text, model text, item text, endpoint text,
            team text, feature text, key_ref text, input_tokens bigint, output_tokens bigint, cached_input_tokens bigint,
            requests integer, latency_ms integer, ttft_ms integer, status text, host text, gpu_type text, gpu_seconds numeric
        ) ON COMMIT DROP
        """

    /// One statement from the staging table to every table ingest writes ($1 tenant, $2 its time
    /// zone, $3 its currency, $4 the clock's time): the ids first, in key order, and only the new
    /// events go on — rated and inserted into their partitions in key order — and the rows inserted
    /// (RETURNING, held once by the statement) are summed into each rollup, in the tables' fixed
    /// order and each in key order. One statement instead of one per table spares a second temporary
    /// table, writing every event into it and reading it back once per rollup. PostgreSQL runs the
    /// rollup upserts when the statement ends, in the same order for every batch, so concurrent
    /// batches of a tenant lock rollup rows in one order (every other writer of the rollups holds
    /// the tenant's rating lock exclusively). Answers the number of new events beside the unpriced
    /// ones by provider and model (or GPU type): at least one row, provider NULL when all are priced.
    private static let insertRatedAndRollUp: String = {
        let rollups = RollupSQL.tables.enumerated().map { number, table in
            "rollup_\(number) AS (\(RollupSQL.upsert(table, from: "(SELECT *, \(RollupSQL.asEvents) FROM fresh) f")))"
        }
        return """
            WITH ids AS (
                INSERT INTO usage_event_ids (tenant_id, event_id, occurred_at)
                SELECT $1, event_id, occurred_at FROM usage_staging ORDER BY event_id
                ON CONFLICT DO NOTHING RETURNING event_id
            ), fresh AS (
                INSERT INTO usage_events (tenant_id, occurred_at, event_id, received_at, kind, provider, model, endpoint, team,
                                          feature, key_ref, input_tokens, output_tokens, cached_input_tokens, requests, latency_ms,
                                          ttft_ms, status, host, gpu_type, gpu_seconds, currency, cost_micros, price_id, negotiated,
                                          markup_bp, rated_at)
                SELECT $1, s.occurred_at, s.event_id, $4, s.kind, s.provider, s.model, s.endpoint, s.team, s.feature, s.key_ref,
                       s.input_tokens, s.output_tokens, s.cached_input_tokens, s.requests, s.latency_ms, s.ttft_ms, s.status, s.host,
                       s.gpu_type, s.gpu_seconds, $3, \(RatingSQL.columns), $4
                FROM (SELECT * FROM usage_staging JOIN ids USING (event_id)) s
                \(RatingSQL.joins(tenant: "$1", currency: "$3"))
                ORDER BY s.occurred_at, s.event_id
                RETURNING *
            ), \(rollups.joined(separator: ", "))
            SELECT (SELECT count(*) FROM fresh), u.provider, u.item, u.events
            FROM (VALUES (1)) one LEFT JOIN LATERAL (
                SELECT provider, CASE kind WHEN 'gpu' THEN gpu_type ELSE model END AS item, count(*) AS events
                FROM fresh WHERE cost_micros IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100
            ) u ON true
            """
    }()
}
