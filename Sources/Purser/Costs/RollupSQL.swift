// The rollups (migration 0030) and how changes reach them. Every change — events accepted, events
// re-rated, a rebuild — is a relation of signed amounts per event, and each rollup adds its sums to
// its rows in one statement per table, in key order, tables always in the same order: concurrent
// ingests lock rollup rows in one global order and cannot deadlock on them.
import Postgres

enum RollupSQL {
    struct Table {
        let name: String
        /// Key columns after tenant_id, with the expression over the source that fills each.
        let keys: [(column: String, expression: String)]
    }

    /// `$2` is the tenant's time zone in every statement these build (the local day of an event).
    static let tables: [Table] = [
        Table(
            name: "usage_daily",
            keys: [
                ("day", "(occurred_at AT TIME ZONE $2)::date"), ("provider", "provider"), ("model", "model"), ("team", "team"),
                ("feature", "feature"),
            ]),
        // The grain of spend-by-model reports (migration 0035).
        Table(
            name: "usage_daily_models",
            keys: [("day", "(occurred_at AT TIME ZONE $2)::date"), ("provider", "provider"), ("model", "model")]),
        Table(name: "usage_daily_keys", keys: [("day", "(occurred_at AT TIME ZONE $2)::date"), ("key_ref", "key_ref")]),
        // The grain of team budgets and team-only reports (migration 0037).
        Table(name: "usage_daily_teams", keys: [("day", "(occurred_at AT TIME ZONE $2)::date"), ("team", "team")]),
        Table(name: "usage_daily_endpoints", keys: [("day", "(occurred_at AT TIME ZONE $2)::date"), ("endpoint", "endpoint")]),
        Table(
            name: "usage_daily_gpu",
            keys: [("day", "(occurred_at AT TIME ZONE $2)::date"), ("provider", "provider"), ("gpu_type", "gpu_type"), ("host", "host")]
        ),
        Table(
            name: "usage_hourly",
            keys: [("hour", "date_trunc('hour', occurred_at, 'UTC')"), ("provider", "provider"), ("model", "model"), ("team", "team")]),
    ]

    static let measures = [
        "events", "requests", "input_tokens", "output_tokens", "cached_input_tokens", "gpu_seconds", "cost_micros", "gpu_cost_micros",
        "unpriced_events",
    ]

    /// The upsert of `table` from `source`, a relation with the event's dimensions, occurred_at,
    /// and one signed amount per measure named d_<measure>. `$1` is the tenant.
    /// A GPU-only table takes only GPU events (kind = 'gpu').
    static func upsert(_ table: Table, from source: String) -> String {
        let keyColumns = table.keys.map(\.column)
        let positions = (2...(table.keys.count + 1)).map(String.init).joined(separator: ", ")
        let only = table.name == "usage_daily_gpu" ? "WHERE kind = 'gpu'" : ""
        return """
            INSERT INTO \(table.name) AS r (tenant_id, \(keyColumns.joined(separator: ", ")), \(measures.joined(separator: ", ")))
            SELECT $1::uuid, \(table.keys.map(\.expression).joined(separator: ", ")),
                   \(measures.map { "sum(d_\($0))" }.joined(separator: ", "))
            FROM \(source) \(only)
            GROUP BY \(positions) ORDER BY \(positions)
            ON CONFLICT (tenant_id, \(keyColumns.joined(separator: ", "))) DO UPDATE SET
                \(measures.map { "\($0) = r.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
            """
    }

    /// The signed amounts of events as they are (a rebuild, or events just accepted): one of each.
    static let asEvents = """
        1 AS d_events, requests AS d_requests, input_tokens AS d_input_tokens, output_tokens AS d_output_tokens,
        cached_input_tokens AS d_cached_input_tokens, gpu_seconds AS d_gpu_seconds, coalesce(cost_micros, 0) AS d_cost_micros,
        CASE WHEN kind = 'gpu' THEN coalesce(cost_micros, 0) ELSE 0 END AS d_gpu_cost_micros,
        (cost_micros IS NULL)::int AS d_unpriced_events
        """

    /// Runs the upserts of every rollup from `source` for `tenant` in `zone`.
    static func apply(_ tx: Connection, from source: String, tenant: String, zone: String) throws {
        for table in tables {
            // Each source is one of a few fixed statements: prepared once per connection. The hourly
            // table does not read the zone, and a prepared statement takes only what it uses.
            let sql = upsert(table, from: source)
            try tx.query(sql, sql.contains("$2") ? [tenant, zone] : [tenant])
        }
    }
}
