// The monthly cost review of one tenant: last month's spend by model, team and feature beside the
// month before, the change, the top movers, and hints computed from the data — the share of input
// served from cache, the premium models' share of short prompts, and GPU hosts used below 70 % of
// their capacity. Built from the rollups at 00:05 local time on the 1st and archived as it was built.
import Foundation
import Postgres

public struct MonthlyReview: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public let dimension: String
        public let key: String
        public let micros: Int64
        public let previousMicros: Int64

        public var change: Int64 { micros - previousMicros }
    }

    /// The first day of the month reviewed ("2026-10-01").
    public let month: String
    public let currency: String
    public let totalMicros: Int64
    public let previousMicros: Int64
    public let requests: Int64
    public let lines: [Line]
    /// The lines that moved most (either way), largest first.
    public let movers: [Line]
    public let hints: [String]

    /// The change over the month before, as a percentage to a tenth ("+12.5 %"), or "new".
    public var change: String {
        guard previousMicros > 0, let tenths = Money.divide(totalMicros - previousMicros, times: 1000, by: previousMicros) else {
            return totalMicros > 0 ? "new" : "—"
        }
        return (tenths >= 0 ? "+" : "-") + "\(tenths.magnitude / 10).\(tenths.magnitude % 10) %"
    }

    static let dimensions = ["model", "team", "feature"]
    /// A model is premium when its cost per 1,000 tokens is at least this many times the cheapest priced model's.
    static let premiumFactor: Int64 = 5
    /// A prompt is short below this many input tokens per request.
    static let shortPrompt: Int64 = 1000
    static let gpuUtilisationTarget: Int64 = 70

    /// Builds the review of `month` (its first local day) for `tenant`, in `tx` (the tenant's).
    public static func build(_ tx: Connection, tenant: UUID, month: LocalDate) throws -> MonthlyReview {
        let (_, currency) = try CostReport.settings(tx, tenant: tenant)
        let first = month.firstOfMonth, previous = month.firstOfMonth.previousMonth
        let bounds: [(any PostgresEncodable)?] = [
            tenant, previous.description, first.lastOfMonth.description, first.description,
        ]
        // One pass over both months of the cube, grouped by each dimension at once.
        var lines: [Line] = []
        for row in try tx.query(
            """
            SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(team) = 0 THEN 'team' ELSE 'feature' END,
                   coalesce(model, team, feature),
                   coalesce(sum(cost_micros) FILTER (WHERE day >= $4::date), 0)::bigint,
                   coalesce(sum(cost_micros) FILTER (WHERE day < $4::date), 0)::bigint
            FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date
            GROUP BY GROUPING SETS ((model), (team), (feature))
            """, bounds)
        {
            lines.append(
                Line(dimension: try row.require(0), key: try row.require(1), micros: try row.require(2), previousMicros: try row.require(3))
            )
        }
        lines.sort { ($0.dimension, -$0.micros, $0.key) < ($1.dimension, -$1.micros, $1.key) }
        let models = lines.filter { $0.dimension == "model" }
        let total = models.reduce(0) { $0 + $1.micros }
        let previousTotal = models.reduce(0) { $0 + $1.previousMicros }
        let movers = Array(
            lines.filter { $0.change != 0 }.sorted {
                ($0.change.magnitude, $0.dimension, $0.key) > ($1.change.magnitude, $1.dimension, $1.key)
            }
            .prefix(5))

        // Per model in the month: requests and tokens, for the hints.
        struct Usage {
            let model: String
            let requests: Int64
            let input: Int64
            let cached: Int64
            let output: Int64
            let cost: Int64
        }
        let usage = try tx.query(
            """
            SELECT model, sum(requests)::bigint, sum(input_tokens)::bigint, sum(cached_input_tokens)::bigint,
                   sum(output_tokens)::bigint, sum(cost_micros)::bigint
            FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date AND model <> ''
            GROUP BY model ORDER BY model
            """, [tenant, first.description, first.lastOfMonth.description]
        ).map {
            Usage(
                model: try $0.require(0), requests: try $0.require(1), input: try $0.require(2), cached: try $0.require(3),
                output: try $0.require(4), cost: try $0.require(5))
        }
        var hints: [String] = []
        // Events report input tokens without the cached part: all input is the two together.
        let cached = usage.reduce(0) { $0 + $1.cached }, input = usage.reduce(0) { $0 + $1.input } + cached
        if input > 0 {
            hints.append(
                "\(Money.percent(cached, of: input)) of input tokens were cached repeats"
                    + (cached * 100 < input * 20 ? "; prompts that repeat a long prefix could be cached for less." : "."))
        }
        // Premium models: cost per 1,000 tokens at least premiumFactor × the cheapest priced model's.
        let rates = usage.compactMap { item -> (String, Int64)? in
            let tokens = item.input + item.cached + item.output
            guard tokens > 0, item.cost > 0, let rate = Money.divide(item.cost, times: 1000, by: tokens) else { return nil }
            return (item.model, max(rate, 1))
        }
        if let cheapest = rates.map(\.1).min() {
            let premium = Set(rates.filter { $0.1 >= cheapest * premiumFactor }.map(\.0))
            let short = usage.filter { $0.requests > 0 && ($0.input + $0.cached) / $0.requests < shortPrompt }
            let shortRequests = short.reduce(0) { $0 + $1.requests }
            let premiumShort = short.filter { premium.contains($0.model) }
            if shortRequests > 0 && !premiumShort.isEmpty {
                let share = Money.percent(premiumShort.reduce(0) { $0 + $1.requests }, of: shortRequests)
                hints.append(
                    "\(share) of short prompts (under \(shortPrompt) input tokens a request) went to premium models "
                        + "(\(premiumShort.map(\.model).joined(separator: ", "))); a smaller model may serve them for less.")
            }
        }
        hints += try gpuHints(tx, tenant: tenant, month: first)
        let requests = usage.reduce(0) { $0 + $1.requests }
        return MonthlyReview(
            month: first.description, currency: currency, totalMicros: total, previousMicros: previousTotal, requests: requests,
            lines: lines, movers: movers, hints: hints)
    }

    /// GPU hosts of the tenant whose GPU-seconds in the month were below 70 % of their GPUs' time.
    static func gpuHints(_ tx: Connection, tenant: UUID, month: LocalDate) throws -> [String] {
        // The hosts' capacity lives with the hosts; without that table there is nothing to compare with.
        guard try tx.query("SELECT to_regclass('gpu_hosts') IS NOT NULL")[0].require(0, as: Bool.self) else { return [] }
        let seconds = Int64(month.days(to: month.nextMonth)) * 86400
        return try tx.query(
            """
            SELECT u.host, sum(u.gpu_seconds)::bigint,
                   (SELECT coalesce(sum((g->>'count')::bigint), 0) FROM gpu_hosts h, jsonb_array_elements(h.gpus) g
                    WHERE h.tenant_id = $1 AND h.name = u.host)::bigint
            FROM usage_daily_gpu u WHERE u.tenant_id = $1 AND u.day BETWEEN $2::date AND $3::date AND u.host <> ''
            GROUP BY u.host ORDER BY u.host
            """, [tenant, month.description, month.lastOfMonth.description]
        ).compactMap { row in
            let host: String = try row.require(0)
            let used: Int64 = try row.require(1)
            let gpus: Int64 = try row.require(2)
            guard gpus > 0, used * 100 < gpus * seconds * gpuUtilisationTarget else { return nil }
            return "GPU host \(host) was busy \(Money.percent(used, of: gpus * seconds)) of its \(gpus) GPUs' time; "
                + "below \(gpuUtilisationTarget) %, fewer or smaller GPUs may do."
        }
    }
}
