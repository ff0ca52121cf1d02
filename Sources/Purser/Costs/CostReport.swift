// The cost report: spend, tokens, requests and GPU time over whole local days, grouped by one
// dimension and optionally a second, filtered by any of the cube's dimensions, with a daily series
// for the stacked chart and the models no price covers. It reads the rollups only (usage_daily, its
// model grain and its slices by key and endpoint), never raw events: one grouped statement for the rows, one for the
// days, one for unpriced models. Money stays integer micro-units throughout.
import Foundation
import struct HTTPServer.FieldError
import struct HTTPServer.QueryParameters
import Postgres

public struct CostReport: Sendable {
    /// What rows are grouped by. The cube (usage_daily) holds provider, model, team and feature by
    /// day; `key` and `endpoint` are slices of their own, grouped alone and filtered by nothing else.
    public enum Dimension: String, CaseIterable, Sendable {
        case model, provider, team, feature, day, key, endpoint, tenant

        /// The cube's dimensions, which also serve as filters.
        static let filters: [Dimension] = [.provider, .model, .team, .feature]

        var isSlice: Bool { self == .key || self == .endpoint }

        /// The SQL expression of this dimension over the rollup `r` (a fixed text, never input).
        var expression: String {
            switch self {
            case .model, .provider, .team, .feature: "r.\(rawValue)"
            case .day: "r.day::text"
            case .key: "r.key_ref"
            case .endpoint: "r.endpoint"
            case .tenant: "t.slug"
            }
        }
    }

    /// Sums over rows of a rollup; every figure exact.
    public struct Figures: Sendable, Equatable {
        public var events: Int64 = 0
        public var requests: Int64 = 0
        public var inputTokens: Int64 = 0
        public var outputTokens: Int64 = 0
        public var cachedInputTokens: Int64 = 0
        /// GPU-hours to the hundredth, as the database's numeric wrote them.
        public var gpuHours = "0.00"
        public var costMicros: Int64 = 0
        public var gpuCostMicros: Int64 = 0
        public var unpricedEvents: Int64 = 0

        public init() {}

        /// Every token processed: input (the uncached part, as events report it), cached input and output.
        public var tokens: Int64 { inputTokens + cachedInputTokens + outputTokens }
        /// What tokens cost: GPU time is spent by the hour, not per request or token, and counted in
        /// either ratio it made a report holding GPU hosts look a thousand times dearer per request.
        public var tokenCostMicros: Int64 { costMicros - gpuCostMicros }
        /// No event of these has a price: a ratio would price them at zero, which unpriced usage never is.
        var allUnpriced: Bool { unpricedEvents > 0 && unpricedEvents >= events }
        /// Micro-units of token spend per request, rounded half to even.
        public var costPerRequest: Int64? { allUnpriced ? nil : Money.divide(tokenCostMicros, by: requests) }
        /// Micro-units of token spend per 1,000 tokens (input, cached input and output), rounded half to even.
        public var costPer1kTokens: Int64? {
            tokens == 0 || allUnpriced ? nil : Money.divide(tokenCostMicros, times: 1000, by: tokens)
        }
        /// Cached input tokens as a share of all input tokens (cached and not).
        public var cacheHitShare: String { Money.percent(cachedInputTokens, of: inputTokens + cachedInputTokens) }
    }

    public struct Row: Sendable {
        public let key: String
        /// The second grouping's value, when there is one.
        public let subKey: String?
        public let currency: String
        public let figures: Figures
    }

    public struct Query: Sendable {
        /// One tenant; nil: every tenant (staff).
        public var tenant: UUID?
        public var period: CostPeriod
        public var groupBy = Dimension.model
        public var thenBy: Dimension?
        /// Exact values of the cube's dimensions.
        public var filters: [(Dimension, String)] = []

        public init(tenant: UUID?, period: CostPeriod) {
            self.tenant = tenant
            self.period = period
        }

        /// The endpoint the report is filtered to, if any.
        public var endpoint: String? { filters.first { $0.0 == .endpoint }?.1 }

        /// From a page's or the API's query: `preset` or `from`/`to`, `group_by`, `then_by` and the
        /// filters `provider`, `model`, `team`, `feature`. `today` is the local date in the tenant's zone.
        public init(tenant: UUID?, parameters: QueryParameters, today: LocalDate, emptyIsDefault: Bool = true) throws {
            var errors: [FieldError] = []
            var period = CostPeriod(.thisMonth, today: today)
            do {
                period = try CostPeriod(preset: parameters["preset"], from: parameters["from"], to: parameters["to"], today: today)
            } catch let error as ValidationError { errors += error.fieldErrors }
            self.init(tenant: tenant, period: period)
            let allowed = Dimension.allCases.filter { $0 != .tenant || tenant == nil }
            func dimension(_ name: String) -> Dimension? {
                guard let text = parameters[name], !text.isEmpty || !emptyIsDefault else { return nil }
                if let value = Dimension(rawValue: text), allowed.contains(value) { return value }
                errors.append(FieldError(field: name, detail: "use one of \(allowed.map(\.rawValue).joined(separator: ", "))"))
                return nil
            }
            if let first = dimension("group_by") { groupBy = first }
            thenBy = dimension("then_by")
            for filter in Dimension.filters {
                if let value = parameters[filter.rawValue], !value.isEmpty {
                    if value.count > 200 {
                        errors.append(FieldError(field: filter.rawValue, detail: "at most 200 characters"))
                    } else {
                        // Composed, as ingest stores every dimension (UsageRules.nfc): either spelling finds it.
                        filters.append((filter, UsageRules.nfc(value)))
                    }
                }
            }
            if thenBy == groupBy { errors.append(FieldError(field: "then_by", detail: "choose a second grouping other than the first")) }
            if groupBy.isSlice || thenBy?.isSlice == true {
                if thenBy != nil {
                    errors.append(FieldError(field: "then_by", detail: "key and endpoint are grouped alone"))
                } else if !filters.isEmpty {
                    errors.append(FieldError(field: filters[0].0.rawValue, detail: "key and endpoint reports take no filter"))
                }
            }
            // One endpoint's (or deployment's) spend, from the endpoint slice: by day or by endpoint, nothing else.
            if let value = parameters["endpoint"], !value.isEmpty {
                if value.count > 200 {
                    errors.append(FieldError(field: "endpoint", detail: "at most 200 characters"))
                } else if ![.day, .endpoint].contains(groupBy) || thenBy != nil || !filters.isEmpty {
                    errors.append(
                        FieldError(
                            field: "endpoint",
                            detail: "an endpoint's spend is grouped by day or endpoint alone, with no second grouping or other filter"))
                } else {
                    filters.append((.endpoint, UsageRules.nfc(value)))
                }
            }
            if !errors.isEmpty { throw ValidationError(errors) }
        }
    }

    public let query: Query
    public let rows: [Row]
    /// Per currency (a tenant has one; staff see every tenant's).
    public let totals: [(currency: String, figures: Figures)]
    /// Spend per day and group for the chart: the biggest groups by spend, the rest as "other".
    public let series: [String]
    public let days: [(day: LocalDate, values: [Int64])]
    /// The currency the daily series is in (the largest total's, when staff see several).
    public let seriesCurrency: String
    /// Models used in the period that no price covers, with how many events.
    public let unpriced: [(provider: String, model: String, events: Int64)]
    /// More groups than `rowLimit`: the rows are the largest, the totals count every group.
    public var truncated = false

    /// At most this many rows; the largest by spend.
    static let rowLimit = 1000
    static let seriesLimit = 8

    /// The smallest rollup that holds every dimension the query names: the key or endpoint slice,
    /// the model grain (a few hundred rows a tenant a month) when only provider, model, day or tenant
    /// are named, the team slice when only team, day or tenant are, else the cube.
    static func table(_ query: Query) -> String {
        if query.endpoint != nil { return "usage_daily_endpoints" }
        switch query.groupBy {
        case .key: return "usage_daily_keys"
        case .endpoint: return "usage_daily_endpoints"
        default:
            let named = [query.groupBy] + (query.thenBy.map { [$0] } ?? []) + query.filters.map(\.0)
            if named.allSatisfy({ [.model, .provider, .day, .tenant].contains($0) }) { return "usage_daily_models" }
            return named.allSatisfy { [.team, .day, .tenant].contains($0) } ? "usage_daily_teams" : "usage_daily"
        }
    }

    /// The rollup the unpriced models are read from: it must hold provider and model, which the team
    /// slice does not; the model grain when the query has no filter (a team filter needs the cube).
    static func unpricedTable(_ query: Query) -> String {
        let table = table(query)
        guard table == "usage_daily_teams" else { return table }
        return query.filters.isEmpty ? "usage_daily_models" : "usage_daily"
    }

    /// The rollup the query reads, aliased `r`, joined to its tenant's settings and slug.
    static func source(_ query: Query) -> String {
        let table = table(query)
        return """
            \(table) r JOIN tenants t ON t.id = r.tenant_id LEFT JOIN tenant_cost_settings s ON s.tenant_id = r.tenant_id
            """
    }

    /// The WHERE clause and its values ($1 the first day, $2 the last, $3 the tenant, then the filters).
    static func conditions(_ query: Query) -> (String, [(any PostgresEncodable)?]) {
        var sql = "r.day BETWEEN $1::date AND $2::date"
        var values: [(any PostgresEncodable)?] = [query.period.from.description, query.period.to.description]
        if let tenant = query.tenant {
            values.append(tenant)
            sql += " AND r.tenant_id = $\(values.count)"
        }
        for (dimension, value) in query.filters {
            values.append(value)
            sql += " AND \(dimension.expression) = $\(values.count)"
        }
        return (sql, values)
    }

    static let measures = """
        sum(r.events)::bigint, sum(r.requests)::bigint, sum(r.input_tokens)::bigint, sum(r.output_tokens)::bigint,
        sum(r.cached_input_tokens)::bigint, round(sum(r.gpu_seconds) / 3600, 2)::text, sum(r.cost_micros)::bigint,
        sum(r.gpu_cost_micros)::bigint, sum(r.unpriced_events)::bigint
        """

    static func figures(_ row: Row_, from index: Int) throws -> Figures {
        var figures = Figures()
        figures.events = try row.decode(index, as: Int64.self) ?? 0
        figures.requests = try row.decode(index + 1, as: Int64.self) ?? 0
        figures.inputTokens = try row.decode(index + 2, as: Int64.self) ?? 0
        figures.outputTokens = try row.decode(index + 3, as: Int64.self) ?? 0
        figures.cachedInputTokens = try row.decode(index + 4, as: Int64.self) ?? 0
        figures.gpuHours = try row.decode(index + 5, as: String.self) ?? "0.00"
        figures.costMicros = try row.decode(index + 6, as: Int64.self) ?? 0
        figures.gpuCostMicros = try row.decode(index + 7, as: Int64.self) ?? 0
        figures.unpricedEvents = try row.decode(index + 8, as: Int64.self) ?? 0
        return figures
    }

    typealias Row_ = Postgres.Row

    /// Runs the report in `tx` (a transaction of the tenant, or staff's for every tenant).
    public static func compute(_ query: Query, in tx: Connection) throws -> CostReport {
        let (whereSQL, values) = conditions(query)
        let source = source(query)
        let currency = "coalesce(s.currency, 'USD')"
        let second = query.thenBy.map { ", " + $0.expression } ?? ", NULL::text"
        // Days read in their order (each day's groups by spend); any other grouping by spend. One row
        // past the limit tells that there are more.
        let order = query.groupBy == .day ? "2, sum(r.cost_micros) DESC, 3" : "sum(r.cost_micros) DESC, 2, 3"
        var rows = try tx.query(
            """
            SELECT \(currency), \(query.groupBy.expression)\(second), \(measures)
            FROM \(source) WHERE \(whereSQL)
            GROUP BY 1, 2, 3 ORDER BY \(order) LIMIT \(rowLimit + 1)
            """, values
        ).map { row in
            Row(
                key: try row.require(1), subKey: try row.decode(2), currency: try row.require(0), figures: try figures(row, from: 3))
        }
        let truncated = rows.count > rowLimit
        if truncated { rows.removeLast() }
        let totals = try tx.query(
            "SELECT \(currency), \(measures) FROM \(source) WHERE \(whereSQL) GROUP BY 1 ORDER BY sum(r.cost_micros) DESC, 1", values
        ).map { (currency: try $0.require(0, as: String.self), figures: try figures($0, from: 1)) }
        let seriesCurrency = totals.first?.currency ?? "USD"

        // The chart: spend per day of the biggest groups of the first grouping (or one series by day).
        var series: [String] = []
        var perDay: [LocalDate: [String: Int64]] = [:]
        let byDay = query.groupBy == .day
        let daily = try tx.query(
            """
            SELECT r.day::text, \(byDay ? "'Spend'" : query.groupBy.expression), sum(r.cost_micros)::bigint
            FROM \(source) WHERE \(whereSQL) AND \(currency) = $\(values.count + 1)
            GROUP BY 1, 2
            """, values + [seriesCurrency])
        var groupTotals: [String: Int64] = [:]
        for row in daily {
            guard let day = LocalDate(try row.require(0, as: String.self)) else { continue }
            let group: String = try row.require(1)
            let cost: Int64 = try row.require(2)
            perDay[day, default: [:]][group, default: 0] += cost
            groupTotals[group, default: 0] += cost
        }
        let ranked = groupTotals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        let shown = Array(ranked.prefix(ranked.count > seriesLimit ? seriesLimit - 1 : seriesLimit))
        series = shown.map { $0.isEmpty ? "(none)" : $0 } + (ranked.count > shown.count ? ["other"] : [])
        let days = query.period.days.map { day -> (day: LocalDate, values: [Int64]) in
            let groups = perDay[day] ?? [:]
            var values = shown.map { groups[$0] ?? 0 }
            if ranked.count > shown.count {
                values.append(groups.filter { !shown.contains($0.key) }.values.reduce(0, +))
            }
            return (day, values)
        }

        let unpriced =
            query.groupBy.isSlice || query.endpoint != nil
            ? []
            : try tx.query(
                """
                SELECT r.provider, r.model, sum(r.unpriced_events)::bigint FROM \(unpricedTable(query)) r
                WHERE \(whereSQL) AND r.unpriced_events > 0 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100
                """, values
            ).map {
                (
                    provider: try $0.require(0, as: String.self), model: try $0.require(1, as: String.self),
                    events: try $0.require(2, as: Int64.self)
                )
            }
        var report = CostReport(
            query: query, rows: rows, totals: totals, series: series, days: days, seriesCurrency: seriesCurrency, unpriced: unpriced)
        report.truncated = truncated
        return report
    }

    /// The report of one tenant (its own transaction) or, with no tenant, of every tenant (staff).
    public static func compute(_ query: Query, database: Database) throws -> CostReport {
        if let tenant = query.tenant { return try database.inTenant(tenant) { try compute(query, in: $0) } }
        return try database.asStaff { try compute(query, in: $0) }
    }

    /// The tenant's time zone and billing currency.
    public static func settings(_ tx: Connection, tenant: UUID) throws -> (zone: TimeZone, currency: String) {
        let row = try tx.query(
            """
            SELECT t.time_zone, coalesce(s.currency, 'USD') FROM tenants t
            LEFT JOIN tenant_cost_settings s ON s.tenant_id = t.id WHERE t.id = $1
            """, [tenant])
        guard let first = row.first else { throw NotFound() }
        return (TimeZone(identifier: try first.require(0)) ?? TimeZone(identifier: "UTC")!, try first.require(1))
    }

    /// Today in the tenant's zone.
    public static func today(_ database: Database, tenant: UUID, now: Date) throws -> LocalDate {
        LocalDate(now, in: try database.inTenant(tenant) { try settings($0, tenant: tenant).zone })
    }
}
