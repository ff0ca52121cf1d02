// Recurring jobs, kept in the database: every N seconds, or daily / weekly at a local time in a
// time zone. Any worker may fire a due schedule; the row lock (SKIP LOCKED) and the move of
// next_run_at in the same transaction make each period fire once, with no leader.
import Foundation
import Postgres

public struct Schedule: Sendable, Equatable {
    public enum Recurrence: Sendable, Equatable {
        case every(seconds: Int)
        /// Daily at `hour:minute` local time, or weekly on `weekday` (1 = Monday … 7 = Sunday).
        case at(hour: Int, minute: Int, weekday: Int?, timeZone: String)
        /// Monthly on `day` (1–28, so every month has it) at `hour:minute` local time.
        case monthly(day: Int, hour: Int, minute: Int, timeZone: String)
    }

    public var name: String
    public var kind: String
    public var payload: JSONText
    public var recurrence: Recurrence

    public init(name: String, kind: String, payload: JSONText = JSONText("{}"), recurrence: Recurrence) {
        self.name = name
        self.kind = kind
        self.payload = payload
        self.recurrence = recurrence
    }

    /// The first run strictly after `date`.
    public func nextRun(after date: Date) -> Date {
        switch recurrence {
        case .every(let seconds):
            return date.addingTimeInterval(TimeInterval(seconds))
        case .at(let hour, let minute, let weekday, let timeZone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
            var components = DateComponents(hour: hour, minute: minute, second: 0)
            // Foundation counts weekdays from Sunday = 1.
            if let weekday { components.weekday = weekday % 7 + 1 }
            return calendar.nextDate(after: date, matching: components, matchingPolicy: .nextTime) ?? date.addingTimeInterval(86400)
        case .monthly(let day, let hour, let minute, let timeZone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
            return calendar.nextDate(
                after: date, matching: DateComponents(day: day, hour: hour, minute: minute, second: 0), matchingPolicy: .nextTime)
                ?? date.addingTimeInterval(86400 * 28)
        }
    }
}

public enum Schedules {
    /// Creates or updates `schedule` (its next run computed from `now`); a changed recurrence takes
    /// effect from its next run.
    public static func ensure(_ schedule: Schedule, in tx: Connection, now: Date) throws {
        var every: Int?, time: String?, weekday: Int?, monthDay: Int?, zone = "UTC"
        switch schedule.recurrence {
        case .every(let seconds): every = seconds
        case .at(let hour, let minute, let day, let timeZone):
            time = String(format: "%02d:%02d:00", hour, minute)
            weekday = day
            zone = timeZone
        case .monthly(let day, let hour, let minute, let timeZone):
            time = String(format: "%02d:%02d:00", hour, minute)
            monthDay = day
            zone = timeZone
        }
        try tx.query(
            """
            INSERT INTO job_schedules (name, kind, payload, every_seconds, at_time, weekday, time_zone, next_run_at, month_day)
            VALUES ($1, $2, $3::jsonb, $4, $5::time, $6, $7, $8, $9)
            ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload,
                every_seconds = EXCLUDED.every_seconds, at_time = EXCLUDED.at_time, weekday = EXCLUDED.weekday,
                time_zone = EXCLUDED.time_zone, month_day = EXCLUDED.month_day,
                next_run_at = CASE WHEN (job_schedules.every_seconds, job_schedules.at_time, job_schedules.weekday,
                                         job_schedules.time_zone, job_schedules.month_day)
                                        IS DISTINCT FROM (EXCLUDED.every_seconds, EXCLUDED.at_time, EXCLUDED.weekday,
                                                          EXCLUDED.time_zone, EXCLUDED.month_day)
                                   THEN EXCLUDED.next_run_at ELSE job_schedules.next_run_at END
            """, [schedule.name, schedule.kind, schedule.payload, every, time, weekday, zone, schedule.nextRun(after: now), monthDay])
    }

    /// Fires every schedule due at `now` this worker can lock: enqueues its job, due at `now` (keyed
    /// by schedule and due time, so even a replay cannot double it), and moves its next run past
    /// `now`. Returns how many fired.
    @discardableResult
    public static func fireDue(_ database: Database, now: Date) throws -> Int {
        try database.pool.transaction { tx in
            let due = try tx.query(
                """
                SELECT name, kind, payload::text, every_seconds, extract(hour FROM at_time)::int, extract(minute FROM at_time)::int,
                       weekday, time_zone, next_run_at, month_day
                FROM job_schedules WHERE enabled AND next_run_at <= $1
                ORDER BY next_run_at LIMIT 100 FOR UPDATE SKIP LOCKED
                """, [now])
            for row in due {
                let name = try row.require(0, as: String.self)
                let recurrence: Schedule.Recurrence
                if let every = try row.decode(3, as: Int.self) {
                    recurrence = .every(seconds: every)
                } else if let day = try row.decode(9, as: Int.self) {
                    recurrence = .monthly(day: day, hour: try row.require(4), minute: try row.require(5), timeZone: try row.require(7))
                } else {
                    recurrence = .at(
                        hour: try row.require(4), minute: try row.require(5), weekday: try row.decode(6),
                        timeZone: try row.require(7))
                }
                let schedule = Schedule(
                    name: name, kind: try row.require(1), payload: JSONText(try row.require(2, as: String.self)),
                    recurrence: recurrence)
                let dueAt = try row.require(8, as: Date.self)
                try JobQueue.enqueue(
                    tx, kind: schedule.kind, payload: schedule.payload,
                    options: JobOptions(
                        uniqueKey: "schedule:\(name):\(Int64((dueAt.timeIntervalSince1970 * 1000).rounded()))", runAt: now))
                // Missed periods (every worker was down) are skipped, not run in a burst.
                var next = schedule.nextRun(after: dueAt)
                while next <= now { next = schedule.nextRun(after: next) }
                try tx.query("UPDATE job_schedules SET next_run_at = $2, last_run_at = $3 WHERE name = $1", [name, next, now])
            }
            return due.count
        }
    }

    /// The schedules every installation has.
    public static let standard: [Schedule] = [
        Schedule(name: "system.purge", kind: "system.purge", recurrence: .at(hour: 3, minute: 17, weekday: nil, timeZone: "UTC")),
        // Hourly, so that verify-audit can hold chains to PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS.
        Schedule(name: AuditCheckpointJob.kind, kind: AuditCheckpointJob.kind, recurrence: .every(seconds: 3600)),
        BudgetChecks.schedule, AnomalyScan.schedule,
        // Every minute: one SSH health check per GPU host (Hosts/HostHealthCheck.swift).
        HostHealthCheck.schedule,
        // Raw usage upkeep (Costs/PartitionJobs.swift): partitions made ahead, retention.
        Schedule(
            name: PartitionJobs.partitions, kind: PartitionJobs.partitions,
            recurrence: .at(hour: 0, minute: 41, weekday: nil, timeZone: "UTC")),
        Schedule(
            name: PartitionJobs.retention, kind: PartitionJobs.retention,
            recurrence: .at(hour: 4, minute: 23, weekday: nil, timeZone: "UTC")),
        // Endpoint probes: one batched tick every 15 s; hourly rollups and raw retention (Monitoring/).
        ProbeTick.schedule, ProbeRollup.schedule,
    ]
}
