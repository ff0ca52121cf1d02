// What staff see of the queue and may do to it: counts by kind and state, dead jobs with their
// errors, retrying and cancelling (both audited).
import Foundation
import Postgres

public struct JobCount: Sendable {
    public let kind: String
    public let state: String
    public let count: Int
}

public struct DeadJob: Sendable {
    public let id: Int64
    public let kind: String
    public let tenant: String?
    public let attempts: Int
    public let error: String
    public let finishedAt: Date?
}

public struct JobAdministration: Sendable {
    let database: Database
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    public func counts() throws -> [JobCount] {
        try database.asStaff { tx in
            try tx.query("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state").map {
                JobCount(kind: try $0.require(0), state: try $0.require(1), count: try $0.require(2))
            }
        }
    }

    /// The most recent dead jobs (and failed ones waiting for a retry), newest first.
    public func troubled(limit: Int = 100) throws -> [DeadJob] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT j.id, j.kind || CASE WHEN j.state = 'failed' THEN ' (retrying)' ELSE '' END, t.slug, j.attempts,
                       coalesce(j.last_error, ''), j.finished_at
                FROM jobs j LEFT JOIN tenants t ON t.id = j.tenant_id
                WHERE j.state IN ('dead', 'failed') ORDER BY j.state, coalesce(j.finished_at, j.run_at) DESC LIMIT $1
                """, [limit]
            ).map {
                DeadJob(
                    id: try $0.require(0), kind: try $0.require(1), tenant: try $0.decode(2), attempts: try $0.require(3),
                    error: try $0.require(4), finishedAt: try $0.decode(5))
            }
        }
    }

    /// Queues a dead or failed job again, now, with its attempts counted afresh.
    public func retry(_ id: Int64, by actor: AuditActor) throws {
        try change(id, action: "job.retry", by: actor) { tx, now in
            try tx.query(
                """
                UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, finished_at = NULL WHERE id = $1
                """, [id, now])
            try tx.notify(JobQueue.channel, payload: "retry")
        }
    }

    /// Removes a job that is not running.
    public func cancel(_ id: Int64, by actor: AuditActor) throws {
        try change(id, action: "job.cancel", by: actor) { tx, _ in
            try tx.query("DELETE FROM jobs WHERE id = $1", [id])
        }
    }

    /// Changes job `id` (with the clock's now) and records it, unless the job is running.
    private func change(_ id: Int64, action: String, by actor: AuditActor, _ body: (Connection, Date) throws -> Void) throws {
        let now = clock.now
        try database.asStaff { tx in
            guard let row = try tx.query("SELECT kind, state, tenant_id, attempts FROM jobs WHERE id = $1 FOR UPDATE", [id]).first else {
                throw NotFound()
            }
            let state = try row.require(1, as: String.self)
            guard state != "running" else {
                throw ValidationError(field: "job", "job \(id) is running; wait for it to finish or fail", refusal: .conflict)
            }
            try body(tx, now)
            try AuditLog.record(
                AuditEvent(
                    tenant: try row.decode(2), actor: actor, action: action, targetType: "job", targetID: String(id),
                    before: try JSONText(encoding: [
                        "kind": try row.require(0, as: String.self), "state": state,
                        "attempts": String(try row.require(3, as: Int.self)),
                    ]), at: now), in: tx)
        }
    }
}
