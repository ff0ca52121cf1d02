// Making sure the monthly partitions of usage_events exist before rows go into them.
//
// usage_partitions_ensure (migration 0030) makes a missing month under an advisory lock, but an
// advisory lock does not make PostgreSQL read the catalog changes other sessions committed, so a
// caller that waited for another's partition could still not see it and try to make it again
// ("already exists"). A lock on the table itself does: when a month is missing, the caller takes
// SHARE UPDATE EXCLUSIVE on usage_events first (it conflicts only with itself and DDL, never with
// the inserts of other batches), so makers of partitions wait for each other and then see the
// partition made. Batches whose months exist take no lock at all.
import Foundation
import Postgres

enum PartitionEnsure {
    /// The partitions holding every instant of `instants` (any instant of each month will do).
    static func months(_ tx: Connection, _ instants: [Date]) throws {
        let missing = try tx.query(
            """
            SELECT m FROM (SELECT DISTINCT date_trunc('month', d, 'UTC') AS m FROM unnest($1::timestamptz[]) d) months
            WHERE to_regclass('usage_events_' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM')) IS NULL ORDER BY m
            """, [instants]
        ).map { try $0.require(0, as: Date.self) }
        guard !missing.isEmpty else { return }
        try tx.execute("LOCK TABLE usage_events IN SHARE UPDATE EXCLUSIVE MODE")
        try tx.query("SELECT usage_partitions_ensure(m, m) FROM unnest($1::timestamptz[]) m", [missing])
    }
}
