// How well SLA targets were kept, for requests filed in a period: per group (tenant, priority,
// type or period bucket) and clock, how many clocks ended within target (met), how many missed,
// the met share, and percentiles of the working time each ended clock counted (the first
// response time and the resolution time as the SLA measures them). Clocks still running and not
// yet breached have no verdict and are left out of the shares; they are counted as open.
import Foundation
import struct HTTPServer.FieldError
import struct HTTPServer.QueryParameters
import Postgres

public struct SLAReport: Sendable {
    public enum Grouping: String, Sendable, CaseIterable {
        case tenant, priority, type, period
    }

    public enum Period: String, Sendable, CaseIterable {
        case day, week, month
    }

    public struct Figures: Sendable, Equatable {
        public var met = 0
        public var missed = 0
        public var open = 0
        public var p50: Double?
        public var p90: Double?

        /// Met as a share of clocks with a verdict, in percent; nil when none has one.
        public var metPercent: Double? { met + missed == 0 ? nil : Double(met) * 100 / Double(met + missed) }
    }

    public struct Row: Sendable {
        public let key: String
        public var clocks: [SLAClockKind: Figures]
    }

    public struct Breach: Sendable {
        public let number: String
        public let tenant: String
        public let subject: String
        public let priority: String
        public let clock: SLAClockKind
        public let dueAt: Date
    }

    public struct Query: Sendable {
        public var from: Date
        public var to: Date
        public var grouping = Grouping.priority
        public var period = Period.month
        /// One tenant (a customer's report); nil: every tenant (staff).
        public var tenant: UUID?

        public init(from: Date, to: Date) {
            self.from = from
            self.to = to
        }

        /// Reads `from`, `to` (dates, `to` inclusive), `group_by` and `period`; by default the 30 days up
        /// to `now`'s day, inclusive.
        /// A page's form sends an empty choice for "the default"; the API (`emptyIsDefault: false`)
        /// refuses an empty value as it refuses any value outside the enumeration.
        public init(parameters: QueryParameters, now: Date, emptyIsDefault: Bool = true) throws {
            var errors: [FieldError] = []
            func day(_ name: String) -> Date? {
                guard let text = parameters[name] else { return nil }
                guard let date = RFC3339.date(text + "T00:00:00Z") else {
                    errors.append(FieldError(field: name, detail: "a date like 2026-11-01"))
                    return nil
                }
                return date
            }
            let today = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
            to = (day("to") ?? today).addingTimeInterval(86400)
            from = day("from") ?? to.addingTimeInterval(-30 * 86400)
            if let text = parameters["group_by"], !text.isEmpty || !emptyIsDefault {
                if let grouping = Grouping(rawValue: text) {
                    self.grouping = grouping
                } else {
                    errors.append(FieldError(field: "group_by", detail: "tenant, priority, type or period"))
                }
            }
            if let text = parameters["period"], !text.isEmpty || !emptyIsDefault {
                if let period = Period(rawValue: text) {
                    self.period = period
                } else {
                    errors.append(FieldError(field: "period", detail: "day, week or month"))
                }
            }
            if from >= to { errors.append(FieldError(field: "from", detail: "from comes before to")) }
            if to.timeIntervalSince(from) > 366 * 86400 {
                errors.append(FieldError(field: "from", detail: "a report spans at most a year"))
            }
            if !errors.isEmpty { throw ValidationError(errors) }
        }
    }

    public let query: Query
    public let rows: [Row]
    public let totals: [SLAClockKind: Figures]
    public let breaches: [Breach]

    /// Computes the report in one transaction: the tenant's own (RLS) or, for staff, across tenants.
    public static func compute(_ query: Query, database: Database) throws -> SLAReport {
        let body = { (tx: Connection) throws -> SLAReport in
            let key: String
            switch query.grouping {
            case .tenant: key = "t.slug"
            case .priority: key = "r.priority"
            case .type: key = "r.type"
            case .period: key = "to_char(date_trunc('\(query.period.rawValue)', r.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
            }
            // GROUPING SETS: one row per group and clock, and the totals per clock (key NULL).
            let figures = try tx.query(
                """
                WITH clocks AS (
                    SELECT \(key) AS key, c.key AS clock, c.value->>'state' AS state, (c.value->>'used')::float8 AS used,
                           c.value ? 'breached_at' AS breached
                    FROM requests r JOIN tenants t ON t.id = r.tenant_id, jsonb_each(r.sla) c
                    WHERE r.created_at >= $1 AND r.created_at < $2 AND ($3::uuid IS NULL OR r.tenant_id = $3)
                )
                SELECT key, clock, grouping(key),
                       count(*) FILTER (WHERE state = 'stopped' AND NOT breached),
                       count(*) FILTER (WHERE breached),
                       count(*) FILTER (WHERE state <> 'stopped' AND NOT breached),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY used) FILTER (WHERE state = 'stopped'),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY used) FILTER (WHERE state = 'stopped')
                FROM clocks GROUP BY GROUPING SETS ((key, clock), (clock)) ORDER BY grouping(key), key, clock
                """, [query.from, query.to, query.tenant])
            var rows: [Row] = []
            var totals: [SLAClockKind: Figures] = [:]
            for row in figures {
                guard let clock = SLAClockKind(rawValue: try row.require(1)) else { continue }
                let numbers = Figures(
                    met: try row.require(3), missed: try row.require(4), open: try row.require(5),
                    p50: try row.decode(6), p90: try row.decode(7))
                if try row.require(2, as: Int.self) == 1 {
                    totals[clock] = numbers
                } else {
                    let key: String = try row.require(0)
                    if rows.last?.key == key {
                        rows[rows.count - 1].clocks[clock] = numbers
                    } else {
                        rows.append(Row(key: key, clocks: [clock: numbers]))
                    }
                }
            }
            let breaches = try tx.query(
                """
                SELECT t.key, r.number, t.slug, r.subject, r.priority, e.clock, e.due_at
                FROM sla_events e JOIN requests r ON r.tenant_id = e.tenant_id AND r.id = e.request_id JOIN tenants t ON t.id = r.tenant_id
                WHERE e.kind = 'breach' AND r.created_at >= $1 AND r.created_at < $2 AND ($3::uuid IS NULL OR r.tenant_id = $3)
                ORDER BY e.due_at DESC, e.id LIMIT 500
                """, [query.from, query.to, query.tenant]
            ).compactMap { row -> Breach? in
                guard let clock = SLAClockKind(rawValue: try row.require(5)) else { return nil }
                return Breach(
                    number: RequestNumbers.display(key: try row.require(0), number: try row.require(1)), tenant: try row.require(2),
                    subject: try row.require(3), priority: try row.require(4), clock: clock, dueAt: try row.require(6))
            }
            return SLAReport(query: query, rows: rows, totals: totals, breaches: breaches)
        }
        if let tenant = query.tenant { return try database.inTenant(tenant, body) }
        return try database.asStaff(body)
    }

    /// The report as CSV: one line per group and clock, then the totals (group "all").
    public var csv: String {
        var text = CSV.line(["group", "clock", "met", "missed", "open", "met_percent", "p50_seconds", "p90_seconds"])
        func line(_ key: String, _ clock: SLAClockKind, _ figures: Figures) -> String {
            CSV.line([
                key, clock.rawValue, String(figures.met), String(figures.missed), String(figures.open),
                figures.metPercent.map { String(format: "%.1f", $0) } ?? "", figures.p50.map { String(Int($0.rounded())) } ?? "",
                figures.p90.map { String(Int($0.rounded())) } ?? "",
            ])
        }
        for row in rows {
            for clock in SLAClockKind.allCases { if let figures = row.clocks[clock] { text += line(row.key, clock, figures) } }
        }
        for clock in SLAClockKind.allCases { if let figures = totals[clock] { text += line("all", clock, figures) } }
        return text
    }
}
