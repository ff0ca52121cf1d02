// Upkeep of raw usage: monthly partitions made ahead (usage.partitions, daily), raw events past a
// tenant's retention deleted in bounded batches (usage.retention, daily: tenants share partitions,
// so a month cannot simply be dropped), and a tenant's daily rollups rebuilt from raw events when
// its time zone changes (usage.rollups_rebuild), since a day is a local day.
import Foundation
import Postgres

enum PartitionJobs {
    static let partitions = "usage.partitions"
    static let retention = "usage.retention"
    static let rebuild = "usage.rollups_rebuild"
    /// Rows one statement deletes, and statements one run makes per tenant: a run never holds
    /// locks or a transaction long; what is left waits for the next day's run.
    static let batch = 5000
    static let batchesPerRun = 200

    static func register(into handlers: inout JobHandlers) {
        handlers.register(partitions) { context in
            _ = try makeAhead(context.database, now: context.world.now)
        }
        handlers.register(retention) { context in
            _ = try purge(context.database, now: context.world.now)
        }
        handlers.register(rebuild) { context in
            struct Payload: Decodable { let tenant: UUID }
            try rebuildDaily(context.database, tenant: try context.job.decode(Payload.self).tenant, now: context.world.now)
        }
    }

    /// The partitions of this month and the next two.
    static func makeAhead(_ database: Database, now: Date) throws {
        try database.pool.transaction { tx in
            try PartitionEnsure.months(tx, [0, 31, 62].map { now.addingTimeInterval(Double($0) * 86400) })
        }
    }

    /// Deletes raw events (and their ids) older than each tenant's retention, in bounded batches.
    /// Rollups are kept: reports of old periods still read them. Returns how many events went.
    static func purge(_ database: Database, now: Date) throws -> Int {
        let tenants = try database.asStaff { tx in
            try tx.query(
                """
                SELECT t.id, $1::timestamptz - make_interval(days => coalesce(s.retention_days, 400))
                FROM tenants t LEFT JOIN tenant_cost_settings s ON s.tenant_id = t.id
                WHERE EXISTS (SELECT 1 FROM usage_events e WHERE e.tenant_id = t.id
                              AND e.occurred_at < $1::timestamptz - make_interval(days => coalesce(s.retention_days, 400)))
                """, [now]
            ).map { (try $0.require(0, as: UUID.self), try $0.require(1, as: Date.self)) }
        }
        var deleted = 0
        for (tenant, cutoff) in tenants {
            for _ in 0..<batchesPerRun {
                // Under the rating lock: a re-rating of the same rows waits, and so does this.
                let gone = try database.inTenant(tenant) { tx in
                    try tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [UsageIngest.ratingLock(tenant)])
                    return try tx.query(
                        """
                        WITH events AS (
                            DELETE FROM usage_events WHERE (tenant_id, occurred_at, event_id) IN (
                                SELECT tenant_id, occurred_at, event_id FROM usage_events WHERE tenant_id = $1 AND occurred_at < $2
                                ORDER BY occurred_at LIMIT \(batch))
                            RETURNING event_id
                        ), ids AS (
                            DELETE FROM usage_event_ids i USING events e WHERE i.tenant_id = $1 AND i.event_id = e.event_id RETURNING 1
                        )
                        SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ids)
                        """, [tenant, cutoff])[0]
                }
                let events = try gone.require(0, as: Int.self)
                deleted += events
                if events < batch { break }
            }
        }
        return deleted
    }

    /// Rebuilds `tenant`'s daily rollups from the raw events still kept, by the tenant's time zone
    /// now. Where retention may have deleted raw events, days up to the first whole day of those
    /// kept keep their rows (their events are gone); otherwise every day is rebuilt.
    static func rebuildDaily(_ database: Database, tenant: UUID, now: Date) throws {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [UsageIngest.ratingLock(tenant)])
            let row = try tx.query(
                """
                SELECT t.time_zone, (SELECT min(occurred_at) FROM usage_events WHERE tenant_id = t.id),
                       t.created_at >= $2::timestamptz - make_interval(days => coalesce(s.retention_days, 400))
                FROM tenants t LEFT JOIN tenant_cost_settings s ON s.tenant_id = t.id WHERE t.id = $1
                """, [tenant, now])[0]
            let zone: String = try row.require(0)
            guard let oldest = try row.decode(1, as: Date.self) else { return }
            let nothingPurged: Bool = try row.require(2)
            // The first day to rebuild: all of them, or the first whole local day of raw events.
            let first = try tx.query(
                "SELECT CASE WHEN $3 THEN '-infinity'::date ELSE ($1::timestamptz AT TIME ZONE $2)::date + 1 END::text",
                [oldest, zone, nothingPurged])[0].require(0, as: String.self)
            let daily = RollupSQL.tables.filter { $0.keys.first?.column == "day" }
            for table in daily {
                try tx.query("DELETE FROM \(table.name) WHERE tenant_id = $1 AND day >= $2::date", [tenant, first])
            }
            for table in daily {
                try tx.query(
                    RollupSQL.upsert(
                        table,
                        from: """
                            (SELECT *, \(RollupSQL.asEvents) FROM usage_events
                             WHERE tenant_id = $1 AND (occurred_at AT TIME ZONE $2)::date >= $3::date) f
                            """), [tenant.postgresText, zone, first])
            }
        }
    }
}
