// Takes a batch of usage events into the database in one transaction: COPY into a staging table
// made ON COMMIT DROP (so a transaction-mode pooler can carry it), then set-based statements — the
// idempotency table first (ON CONFLICT DO NOTHING RETURNING tells new events from re-sent ones),
// the new events rated and inserted into their monthly partitions, the rollups upserted in key
// order — and one `usage.ingest` audit event with the counts.
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
                let fresh = try store(events, tx: tx, tenant: tenant, zone: zone, currency: currency, now: now)
                outcome.accepted = fresh
                outcome.duplicates += events.count - fresh
                outcome.unpriced = try tx.query(
                    "SELECT provider, item, count(*) FROM usage_fresh WHERE cost_micros IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100"
                ).map { UsageIngestOutcome.Unpriced(provider: try $0.require(0), item: try $0.require(1), events: try $0.require(2)) }
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

    /// COPY, then the set-based statements; returns how many events were new.
    private func store(_ events: [UsageEvent], tx: Connection, tenant: UUID, zone: String, currency: String, now: Date) throws -> Int {
        // Partitions for the months this batch touches (made ahead by a schedule; this covers backfills).
        try PartitionEnsure.months(
            tx, Set(events.map { $0.occurredSeconds / 86400 }).map { Date(timeIntervalSince1970: TimeInterval($0 * 86400)) })
        try tx.execute(
            """
            CREATE TEMP TABLE usage_staging (
                event_id text, occurred_at timestamptz, kind text, provider text, model text, item text, endpoint text,
                team text, feature text, key_ref text, input_tokens bigint, output_tokens bigint, cached_input_tokens bigint,
                requests integer, latency_ms integer, ttft_ms integer, status text, host text, gpu_type text, gpu_seconds numeric
            ) ON COMMIT DROP;
            CREATE TEMP TABLE usage_fresh (LIKE usage_events) ON COMMIT DROP;
            ALTER TABLE usage_fresh ADD COLUMN item text
            """)
        try tx.copyIn("COPY usage_staging FROM STDIN") { writer in
            for e in events {
                for text in [
                    e.eventID, e.occurredAt, e.kind.rawValue, e.provider, e.model, e.item, e.endpoint, e.team, e.feature, e.keyRef,
                ] {
                    writer.field(text)
                }
                for count in [e.inputTokens, e.outputTokens, e.cachedInputTokens, e.requests] { writer.field(count) }
                writer.field(e.latencyMs.map { String($0) })
                writer.field(e.ttftMs.map { String($0) })
                for text in [e.status, e.host, e.gpuType, e.gpuSeconds] { writer.field(text) }
                try writer.endRow()
            }
        }
        // New ids first, in key order; only their events go on, rated.
        try tx.query(
            """
            WITH ids AS (
                INSERT INTO usage_event_ids (tenant_id, event_id, occurred_at)
                SELECT $1, event_id, occurred_at FROM usage_staging ORDER BY event_id
                ON CONFLICT DO NOTHING RETURNING event_id
            )
            INSERT INTO usage_fresh (tenant_id, occurred_at, event_id, received_at, kind, provider, model, endpoint, team, feature,
                                     key_ref, input_tokens, output_tokens, cached_input_tokens, requests, latency_ms, ttft_ms,
                                     status, host, gpu_type, gpu_seconds, currency, cost_micros, price_id, negotiated, markup_bp,
                                     rated_at, item)
            SELECT $1, s.occurred_at, s.event_id, $3, s.kind, s.provider, s.model, s.endpoint, s.team, s.feature, s.key_ref,
                   s.input_tokens, s.output_tokens, s.cached_input_tokens, s.requests, s.latency_ms, s.ttft_ms, s.status, s.host,
                   s.gpu_type, s.gpu_seconds, $2, \(RatingSQL.columns), $3, s.item
            FROM (SELECT * FROM usage_staging JOIN ids USING (event_id)) s
            \(RatingSQL.joins(tenant: "$1", currency: "$2"))
            """, [tenant, currency, now])
        let fresh = try tx.query(
            """
            WITH stored AS (
                INSERT INTO usage_events SELECT tenant_id, occurred_at, event_id, received_at, kind, provider, model, endpoint, team,
                    feature, key_ref, input_tokens, output_tokens, cached_input_tokens, requests, latency_ms, ttft_ms, status, host,
                    gpu_type, gpu_seconds, currency, cost_micros, price_id, negotiated, markup_bp, rated_at
                FROM usage_fresh ORDER BY occurred_at, event_id RETURNING 1
            )
            SELECT count(*) FROM stored
            """)[0].require(0, as: Int.self)
        try RollupSQL.apply(tx, from: "(SELECT *, \(RollupSQL.asEvents) FROM usage_fresh) f", tenant: tenant.postgresText, zone: zone)
        return fresh
    }
}
