// Schedules of one tenant, in the tenant's own time zone (`tenants.time_zone`): a row of
// job_schedules per tenant and kind, named "<kind>:<tenant id>", its payload naming the tenant.
// They are made with the tenant, made again when its time zone changes (the next run moves to the
// new zone's local time), and made for every tenant when a worker starts, so tenants from before a
// kind existed get theirs too.
import Foundation
import Postgres

/// One kind of per-tenant schedule: its job kind and when it runs, given the tenant's zone.
public struct TenantSchedule: Sendable {
    public let kind: String
    public let recurrence: @Sendable (_ timeZone: String) -> Schedule.Recurrence

    public init(kind: String, recurrence: @escaping @Sendable (_ timeZone: String) -> Schedule.Recurrence) {
        self.kind = kind
        self.recurrence = recurrence
    }

    /// The schedule row for `tenant` in `timeZone`.
    public func schedule(tenant: UUID, timeZone: String) -> Schedule {
        Schedule(
            name: "\(kind):\(tenant.postgresText)", kind: kind,
            payload: JSONText("{\"tenant_id\": \"\(tenant.postgresText)\"}"), recurrence: recurrence(timeZone))
    }
}

public enum TenantSchedules {
    /// Every per-tenant schedule. The monthly cost review runs at 00:05 local time on the 1st; the
    /// weekly report at 09:00 local time on Monday.
    public static let all: [TenantSchedule] = [
        TenantSchedule(kind: MonthlyReviewJob.kind) { zone in .monthly(day: 1, hour: 0, minute: 5, timeZone: zone) },
        WeeklyReportJob.schedule,
    ]

    /// Makes (or moves to `timeZone`) every per-tenant schedule of `tenant`.
    public static func ensure(_ tx: Connection, tenant: UUID, timeZone: String, now: Date, kinds: [TenantSchedule] = all) throws {
        for kind in kinds { try Schedules.ensure(kind.schedule(tenant: tenant, timeZone: timeZone), in: tx, now: now) }
    }

    /// Makes the schedules of every tenant that lacks one (a worker starting); one statement to find them.
    public static func ensureEveryTenant(_ tx: Connection, now: Date, kinds: [TenantSchedule] = all) throws {
        for kind in kinds {
            let missing = try tx.query(
                """
                SELECT t.id, t.time_zone FROM tenants t
                WHERE NOT EXISTS (SELECT 1 FROM job_schedules s WHERE s.name = $1 || ':' || t.id::text)
                """, [kind.kind])
            for row in missing {
                try Schedules.ensure(
                    kind.schedule(tenant: try row.require(0), timeZone: try row.require(1)), in: tx, now: now)
            }
        }
    }

    /// The tenant a per-tenant job is for, from its payload.
    public static func tenant(of job: Job) throws -> UUID {
        struct Payload: Decodable {
            let tenant: UUID
            enum CodingKeys: String, CodingKey { case tenant = "tenant_id" }
        }
        return try job.decode(Payload.self).tenant
    }
}
