// The weekly reports for tokens and spreadsheets: GET /api/v1/reports/weekly (the archive, newest
// week first, a page at a time) and /api/v1/reports/weekly/{id} (one week's figures as built),
// with reports:read; and one week as CSV beside its page (/t/{tenant}/reports/weekly/{id}/
// weekly-report.csv, reports.read): one section per table of the page, each row naming its section.
import Foundation
import HTTPServer
import Postgres

enum WeeklyReportsAPI {
    /// One archived report of `tenant`, as built (nil: no such report in this tenant).
    static func load(_ database: Database, tenant: UUID, id: UUID) throws -> (report: WeeklyReport, builtAt: Date)? {
        guard
            let row = try database.inTenant(
                tenant,
                { tx in
                    try tx.query("SELECT figures::text, built_at FROM weekly_reports WHERE tenant_id = $1 AND id = $2", [tenant, id]).first
                }), let report = try? JSONText(try row.require(0, as: String.self)).decode(WeeklyReport.self)
        else { return nil }
        return (report, try row.require(1))
    }

    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let nullableInteger: JSONValue = ["type": ["integer", "null"]]
    static let nullableNumber: JSONValue = ["type": ["number", "null"]]
    static let usage: JSONValue = [
        "type": "object", "required": ["requests", "tokens", "cost_micros"],
        "properties": [
            "requests": ["type": "integer"], "tokens": ["type": "integer", "description": "Input (with cached input) and output tokens."],
            "cost_micros": ["type": "integer", "description": "Spend in millionths of the currency."],
        ],
    ]

    static let summary = SchemaComponent(
        "WeeklyReportSummary",
        schema: [
            "type": "object",
            "required": [
                "id", "week_start", "week_end", "currency", "requests", "cost_micros", "previous_cost_micros", "incidents", "built_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "week_start": ["type": "string", "format": "date"],
                "week_end": ["type": "string", "format": "date"], "currency": ["type": "string"], "requests": ["type": "integer"],
                "cost_micros": ["type": "integer"], "previous_cost_micros": ["type": "integer"], "incidents": ["type": "integer"],
                "built_at": time,
            ],
        ])
    static let summaryPage = SchemaComponent.page("WeeklyReportPage", of: summary)

    static let report = SchemaComponent(
        "WeeklyReport",
        schema: [
            "type": "object",
            "required": [
                "id", "week_start", "week_end", "time_zone", "currency", "usage", "previous_usage", "endpoints", "incidents", "sla",
                "built_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "week_start": ["type": "string", "format": "date"],
                "week_end": ["type": "string", "format": "date"], "time_zone": ["type": "string"], "currency": ["type": "string"],
                "usage": usage, "previous_usage": usage,
                "endpoints": [
                    "type": "array",
                    "items": [
                        "type": "object",
                        "required": [
                            "name", "probes", "up", "down", "uptime_percent", "objective_percent", "met", "p95_latency_ms",
                            "latency_objective_ms", "p95_ttft_ms", "ttft_objective_ms", "error_rate_percent",
                        ],
                        "properties": [
                            "name": ["type": "string"], "probes": ["type": "integer"], "up": ["type": "integer"],
                            "down": ["type": "integer"], "uptime_percent": nullableNumber, "objective_percent": ["type": "number"],
                            "met": ["type": ["boolean", "null"]], "p95_latency_ms": nullableInteger,
                            "latency_objective_ms": nullableInteger,
                            "p95_ttft_ms": nullableInteger, "ttft_objective_ms": nullableInteger, "error_rate_percent": nullableNumber,
                        ],
                    ],
                ],
                "incidents": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["title", "service", "severity", "opened_at", "resolved_at", "duration_seconds"],
                        "properties": [
                            "title": ["type": "string"], "service": ["type": "string"], "severity": ["type": "string"], "opened_at": time,
                            "resolved_at": ["type": ["string", "null"], "format": "date-time"], "duration_seconds": nullableInteger,
                        ],
                    ],
                ],
                "sla": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["clock", "met", "missed", "open", "met_percent"],
                        "properties": [
                            "clock": ["type": "string"], "met": ["type": "integer"], "missed": ["type": "integer"],
                            "open": ["type": "integer"], "met_percent": nullableNumber,
                        ],
                    ],
                ],
                "built_at": time,
            ],
        ])

    static func number(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
    static func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }

    static func json(_ usage: WeeklyReport.Usage) -> JSONValue {
        [
            "requests": .number(Double(usage.requests)), "tokens": .number(Double(usage.tokens)),
            "cost_micros": .number(Double(usage.costMicros)),
        ]
    }

    static func json(_ report: WeeklyReport, id: UUID, builtAt: Date) -> JSONValue {
        [
            "id": .string(id.postgresText), "week_start": .string(report.weekStart), "week_end": .string(report.weekEnd),
            "time_zone": .string(report.timeZone), "currency": .string(report.currency), "usage": json(report.usage),
            "previous_usage": json(report.previousUsage),
            "endpoints": .array(
                report.endpoints.map {
                    [
                        "name": .string($0.name), "probes": number($0.probes), "up": number($0.up), "down": number($0.down),
                        "uptime_percent": number($0.uptimePercent), "objective_percent": .number($0.objectivePercent),
                        "met": $0.met.map { .bool($0) } ?? .null, "p95_latency_ms": number($0.p95LatencyMs),
                        "latency_objective_ms": number($0.latencyObjectiveMs), "p95_ttft_ms": number($0.p95TTFTMs),
                        "ttft_objective_ms": number($0.ttftObjectiveMs), "error_rate_percent": number($0.errorRatePercent),
                    ]
                }),
            "incidents": .array(
                report.incidents.map {
                    [
                        "title": .string($0.title), "service": .string($0.service), "severity": .string($0.severity),
                        "opened_at": .string(RFC3339.string($0.openedAt)),
                        "resolved_at": $0.resolvedAt.map { .string(RFC3339.string($0)) } ?? .null,
                        "duration_seconds": number($0.durationSeconds),
                    ]
                }),
            "sla": .array(
                report.sla.map {
                    [
                        "clock": .string($0.clock), "met": number($0.met), "missed": number($0.missed), "open": number($0.open),
                        "met_percent": number($0.metPercent),
                    ]
                }),
            "built_at": .string(RFC3339.string(builtAt)),
        ]
    }

    /// The week as CSV: a row per figure, its section first (usage, endpoint, incident, sla).
    static func csv(_ report: WeeklyReport) -> String {
        func text(_ value: Int?) -> String { value.map(String.init) ?? "" }
        func text(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        var out = CSV.line(["section", "week_start", "week_end", "name", "field", "value", "previous", "objective", "detail"])
        let week = [report.weekStart, report.weekEnd]
        for (field, now, before) in [
            ("requests", report.usage.requests, report.previousUsage.requests),
            ("tokens", report.usage.tokens, report.previousUsage.tokens),
            ("cost_micros", report.usage.costMicros, report.previousUsage.costMicros),
        ] {
            out += CSV.line(
                ["usage"] + week + [report.currency, field, String(now), String(before), "", WeeklyReport.change(now, from: before)])
        }
        for endpoint in report.endpoints {
            let rows: [(String, String, String, String)] = [
                (
                    "uptime_percent", text(endpoint.uptimePercent), String(endpoint.objectivePercent),
                    endpoint.met.map { $0 ? "met" : "missed" } ?? ""
                ),
                ("p95_latency_ms", text(endpoint.p95LatencyMs), text(endpoint.latencyObjectiveMs), ""),
                ("p95_ttft_ms", text(endpoint.p95TTFTMs), text(endpoint.ttftObjectiveMs), ""),
                (
                    "error_rate_percent", text(endpoint.errorRatePercent), "",
                    "\(endpoint.down) down of \(endpoint.up + endpoint.down) counted"
                ),
            ]
            for (field, value, objective, detail) in rows {
                out += CSV.line(["endpoint"] + week + [endpoint.name, field, value, "", objective, detail])
            }
        }
        for incident in report.incidents {
            out += CSV.line(
                ["incident"] + week + [
                    incident.title, incident.severity, text(incident.durationSeconds), "", "",
                    "\(incident.service); opened \(RFC3339.string(incident.openedAt))"
                        + (incident.resolvedAt.map { "; resolved \(RFC3339.string($0))" } ?? "; still open"),
                ])
        }
        for clock in report.sla {
            out += CSV.line(
                ["sla"] + week + [
                    clock.clock, "met_percent", text(clock.metPercent), "", "",
                    "\(clock.met) met, \(clock.missed) missed, \(clock.open) open",
                ])
        }
        return out
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The weekly report's id.")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such tenant or report here."), .problem(429, "Rate limit used up."),
    ]

    static func register(in routes: inout RouteTable, database: Database) {
        routes.api(
            .get, .weeklyReports, scope: .reportsRead, tenant: .required,
            operation: Operation(
                id: "listWeeklyReports", summary: "The archive of weekly reports, newest week first, a page at a time.",
                tags: ["reports"],
                parameters: [
                    APIGate.tenantParameter,
                    .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (20)."),
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                ],
                responses: [.init(200, "A page.", component: summaryPage), .problem(400, "A malformed parameter.")] + common)
        ) { ctx in
            try ctx.require(.reportsRead)
            let tenant = try ctx.tenant
            let query = ctx.request.query
            let cursor = query["cursor"].map { UUID(uuidString: $0) }
            if cursor == .some(nil) { throw HTTPError(.badRequest, detail: "cursor: pass next_cursor back") }
            guard let size = query["limit"].map({ Int($0) }) ?? 20, (1...100).contains(size) else {
                throw HTTPError(.badRequest, detail: "limit: 1–100")
            }
            let rows = try database.inTenant(tenant) { tx in
                try tx.query(
                    """
                    SELECT id, to_char(week_start, 'YYYY-MM-DD'), to_char(week_start + 6, 'YYYY-MM-DD'), currency, requests, cost_micros,
                           previous_cost_micros, incidents, built_at
                    FROM weekly_reports
                    WHERE tenant_id = $1 AND ($2::uuid IS NULL OR week_start < (SELECT week_start FROM weekly_reports WHERE tenant_id = $1 AND id = $2))
                    ORDER BY week_start DESC LIMIT $3
                    """, [tenant, cursor ?? nil, size + 1])
            }
            let items: [JSONValue] = try rows.prefix(size).map { row in
                [
                    "id": .string(try row.require(0, as: UUID.self).postgresText), "week_start": .string(try row.require(1)),
                    "week_end": .string(try row.require(2)), "currency": .string(try row.require(3)),
                    "requests": .number(Double(try row.require(4, as: Int64.self))),
                    "cost_micros": .number(Double(try row.require(5, as: Int64.self))),
                    "previous_cost_micros": .number(Double(try row.require(6, as: Int64.self))),
                    "incidents": .number(Double(try row.require(7, as: Int.self))),
                    "built_at": .string(RFC3339.string(try row.require(8))),
                ]
            }
            let next = rows.count > size ? try rows[size - 1].require(0, as: UUID.self).postgresText : nil
            return .json(["items": .array(items), "next_cursor": next.map { .string($0) } ?? .null])
        }

        routes.api(
            .get, .weeklyReport, scope: .reportsRead, tenant: .required,
            operation: Operation(
                id: "getWeeklyReport",
                summary:
                    "One week's report as it was built: usage beside the week before, each endpoint against its objectives, incidents, SLA met.",
                tags: ["reports"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The report.", component: report)] + common)
        ) { ctx in
            try ctx.require(.reportsRead)
            let id = try ctx.request.uuidParameter("id")
            guard let found = try load(database, tenant: try ctx.tenant, id: id) else { throw HTTPError(.notFound) }
            return .json(json(found.report, id: id, builtAt: found.builtAt))
        }

        routes.tenant(.get, .weeklyReportCSV, permission: .reportsRead) { ctx in
            guard let id = UUID(uuidString: try ctx.request.parameter("id")),
                let found = try load(database, tenant: ctx.tenant.id, id: id)
            else { throw HTTPError(.notFound) }
            var response = Response(status: .ok, contentType: "text/csv; charset=utf-8", body: Array(csv(found.report).utf8))
            response.headers.set(
                "Content-Disposition", "attachment; filename=\"weekly-\(ctx.tenant.slug)-\(found.report.weekStart).csv\"")
            return response
        }
    }
}
