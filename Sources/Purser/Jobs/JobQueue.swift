// Putting work on the queue, always inside the caller's transaction: a change that rolls back
// leaves no job behind, and one that commits always has its job. Workers hear of new jobs through
// NOTIFY, sent when the transaction commits.
import Foundation
import Postgres

public enum JobQueue {
    /// The channel workers listen on.
    public static let channel = "purser_jobs"

    /// Enqueues one job in `tx`; returns its id, or nil when `uniqueKey` names a job still pending.
    @discardableResult
    public static func enqueue(
        _ tx: Connection, kind: String, payload: JSONText = JSONText("{}"),
        options: JobOptions
    ) throws -> Int64? {
        let rows = try tx.query(
            """
            INSERT INTO jobs (kind, payload, tenant_id, unique_key, run_at, priority, max_attempts, timeout_seconds)
            VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed') DO NOTHING
            RETURNING id
            """,
            [
                kind, payload, options.tenant, options.uniqueKey, options.runAt, Int(options.priority), options.maxAttempts,
                Int(options.timeout.rounded(.up)),
            ])
        guard let id = try rows.first?.require(0, as: Int64.self) else { return nil }
        try tx.notify(channel, payload: kind)
        return id
    }

    /// Enqueues many jobs of one kind in one statement (payloads as JSON texts), due at `runAt`;
    /// returns how many.
    @discardableResult
    public static func enqueueMany(
        _ tx: Connection, kind: String, payloads: [JSONText], runAt: Date, tenant: UUID? = nil,
        maxAttempts: Int = 10, timeout: TimeInterval = 60
    ) throws -> Int {
        guard !payloads.isEmpty else { return 0 }
        let count = try tx.query(
            """
            INSERT INTO jobs (kind, payload, tenant_id, max_attempts, timeout_seconds, run_at)
            SELECT $1, p::jsonb, $3, $4, $5, $6 FROM unnest($2::text[]) AS p
            """, [kind, payloads.map(\.text), tenant, maxAttempts, Int(timeout.rounded(.up)), runAt]
        ).affected
        try tx.notify(channel, payload: kind)
        return count
    }

    /// Moves the pending job with `key` to run at `date`; false when no job with that key is pending.
    @discardableResult
    public static func reschedule(_ tx: Connection, key: String, at date: Date) throws -> Bool {
        let moved =
            try tx.query(
                """
                UPDATE jobs SET run_at = $2 WHERE unique_key = $1 AND state IN ('queued', 'failed')
                """, [key, date]
            ).affected == 1
        if moved { try tx.notify(channel, payload: "reschedule") }
        return moved
    }

    /// Removes the job with `key` that has not started; false when there is none.
    @discardableResult
    public static func cancel(_ tx: Connection, key: String) throws -> Bool {
        try tx.query("DELETE FROM jobs WHERE unique_key = $1 AND state IN ('queued', 'failed')", [key]).affected == 1
    }

    /// Moves the pending job `id` to run at `date`; false when it has started, finished or gone.
    @discardableResult
    public static func reschedule(_ tx: Connection, id: Int64, at date: Date) throws -> Bool {
        let moved = try tx.query("UPDATE jobs SET run_at = $2 WHERE id = $1 AND state IN ('queued', 'failed')", [id, date]).affected == 1
        if moved { try tx.notify(channel, payload: "reschedule") }
        return moved
    }

    /// Removes the job `id` if it has not started.
    public static func cancel(_ tx: Connection, id: Int64) throws {
        try tx.query("DELETE FROM jobs WHERE id = $1 AND state IN ('queued', 'failed')", [id])
    }
}
