// costs.rerate: a price, negotiated price or markup changed for a period that has already begun, so
// the events of that period are rated again with what is now in force, and the rollups take the
// differences. A month at a time, each in its own transaction under the tenant's rating lock held
// exclusively: ingests rated with the old prices have committed before it reads, and later ones see
// the new prices. Idempotent — an event already at its right cost is not touched — so the job may
// run again after a crash. Each run is recorded (usage_reratings) and audited (costs.rerate).
import Foundation
import Postgres

enum RerateJob {
    static let kind = "costs.rerate"

    struct Payload: Codable {
        let tenant: UUID
        let from: Date
        let to: Date?
        let reason: String
    }

    struct Outcome: Equatable {
        var events = 0
        var costDelta: Int64 = 0
    }

    /// Enqueues a re-rating of `tenant`'s events from `from` (to `to`, or on), in the change's transaction.
    static func enqueue(_ tx: Connection, tenant: UUID, from: Date, to: Date?, reason: String, at now: Date) throws {
        try JobQueue.enqueue(
            tx, kind: kind, payload: try JSONText(encoding: Payload(tenant: tenant, from: from, to: to, reason: reason)),
            options: JobOptions(tenant: tenant, runAt: now, timeout: 1800))
    }

    static func register(into handlers: inout JobHandlers) {
        handlers.register(kind) { context in
            let payload = try context.job.decode(Payload.self)
            _ = try run(
                context.database, tenant: payload.tenant, from: payload.from, to: payload.to, reason: payload.reason,
                now: context.world.now)
        }
    }

    /// Re-rates and records; returns how many events changed and by how much in all.
    static func run(_ database: Database, tenant: UUID, from: Date, to: Date?, reason: String, now: Date) throws -> Outcome {
        var outcome = Outcome()
        // Events can be stamped a little ahead of the clock; nothing lies beyond a day from now.
        let end = min(to ?? now.addingTimeInterval(86400), now.addingTimeInterval(86400))
        var start = from
        while start < end {
            let stop = min(start.addingTimeInterval(31 * 86400), end)
            let part = try database.inTenant(tenant) { tx in try rerate(tx, tenant: tenant, from: start, to: stop, now: now) }
            outcome.events += part.events
            outcome.costDelta += part.costDelta
            start = stop
        }
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                INSERT INTO usage_reratings (tenant_id, id, reason, period_from, period_to, events_changed, cost_delta_micros, finished_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [tenant, UUID.v7(at: now), String(reason.prefix(500)), from, to, outcome.events, outcome.costDelta, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "costs.rerate", targetType: "usage", reason: String(reason.prefix(500)),
                    after: try JSONText(encoding: [
                        "from": RFC3339.string(from), "to": to.map(RFC3339.string) ?? "", "events": String(outcome.events),
                        "cost_delta_micros": String(outcome.costDelta),
                    ]), at: now), in: tx)
            if outcome.events > 0 { try BudgetChecks.usageIngested(tx, tenant: tenant, at: now) }
        }
        return outcome
    }

    private static func rerate(_ tx: Connection, tenant: UUID, from: Date, to: Date, now: Date) throws -> Outcome {
        try tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [UsageIngest.ratingLock(tenant)])
        let settings = try tx.query(
            """
            SELECT t.time_zone, coalesce(s.currency, 'USD') FROM tenants t LEFT JOIN tenant_cost_settings s ON s.tenant_id = t.id
            WHERE t.id = $1
            """, [tenant])
        guard let row = settings.first else { return Outcome() }
        let zone: String = try row.require(0)
        let currency: String = try row.require(1)
        try tx.execute(
            """
            CREATE TEMP TABLE usage_rerated (
                occurred_at timestamptz, kind text, provider text, model text, team text, feature text, key_ref text, endpoint text,
                gpu_type text, host text, d_events bigint, d_requests bigint, d_input_tokens bigint, d_output_tokens bigint,
                d_cached_input_tokens bigint, d_gpu_seconds numeric, d_cost_micros bigint, d_gpu_cost_micros bigint,
                d_unpriced_events bigint
            ) ON COMMIT DROP
            """)
        try tx.query(
            """
            WITH changed AS (
                UPDATE usage_events e SET cost_micros = r.new_cost, price_id = r.new_price, negotiated = r.new_negotiated,
                       markup_bp = r.new_markup, currency = $2, rated_at = $5
                FROM (SELECT s.occurred_at, s.event_id, s.cost_micros AS old_cost, \(RatingSQL.columns)
                      FROM (SELECT *, CASE kind WHEN 'gpu' THEN gpu_type ELSE model END AS item FROM usage_events
                            WHERE tenant_id = $1 AND occurred_at >= $3 AND occurred_at < $4) s
                      \(RatingSQL.joins(tenant: "$1", currency: "$2"))) r
                WHERE e.tenant_id = $1 AND e.occurred_at = r.occurred_at AND e.event_id = r.event_id
                  AND e.occurred_at >= $3 AND e.occurred_at < $4
                  AND (e.cost_micros IS DISTINCT FROM r.new_cost OR e.price_id IS DISTINCT FROM r.new_price
                       OR e.markup_bp IS DISTINCT FROM r.new_markup OR e.currency IS DISTINCT FROM $2)
                RETURNING e.occurred_at, e.kind, e.provider, e.model, e.team, e.feature, e.key_ref, e.endpoint, e.gpu_type, e.host,
                          e.cost_micros, r.old_cost
            )
            INSERT INTO usage_rerated
            SELECT occurred_at, kind, provider, model, team, feature, key_ref, endpoint, gpu_type, host, 0, 0, 0, 0, 0, 0,
                   coalesce(cost_micros, 0) - coalesce(old_cost, 0),
                   CASE WHEN kind = 'gpu' THEN coalesce(cost_micros, 0) - coalesce(old_cost, 0) ELSE 0 END,
                   (cost_micros IS NULL)::int - (old_cost IS NULL)::int
            FROM changed
            """, [tenant, currency, from, to, now])
        let totals = try tx.query("SELECT count(*), coalesce(sum(d_cost_micros), 0)::bigint FROM usage_rerated")[0]
        let outcome = Outcome(events: try totals.require(0), costDelta: try totals.require(1))
        if outcome.events > 0 { try RollupSQL.apply(tx, from: "usage_rerated", tenant: tenant.postgresText, zone: zone) }
        return outcome
    }
}
