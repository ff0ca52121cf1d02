// GET /api/v1/reports/sla: the SLA report as JSON — a customer's token reports on its tenant; a
// staff token on every tenant, or on one named with ?tenant=.
import Foundation
import HTTPServer
import Postgres

enum ReportsAPI {
    static let figures = SchemaComponent(
        "SLAFigures",
        schema: [
            "type": "object", "required": ["met", "missed", "open", "met_percent", "p50_seconds", "p90_seconds"],
            "properties": [
                "met": ["type": "integer"], "missed": ["type": "integer"],
                "open": ["type": "integer", "description": "Still running, no verdict yet."],
                "met_percent": ["type": ["number", "null"]],
                "p50_seconds": ["type": ["number", "null"], "description": "Median working time counted by ended clocks."],
                "p90_seconds": ["type": ["number", "null"]],
            ],
        ])

    static let breach = SchemaComponent(
        "SLABreach",
        schema: [
            "type": "object", "required": ["number", "tenant", "subject", "priority", "clock", "due_at"],
            "properties": [
                "number": ["type": "string", "examples": ["ACME-42"]], "tenant": ["type": "string"], "subject": ["type": "string"],
                "priority": ["type": "string", "enum": .array(RequestPriority.allCases.map { .string($0.rawValue) })],
                "clock": ["type": "string", "enum": .array(SLAClockKind.allCases.map { .string($0.rawValue) })],
                "due_at": ["type": "string", "format": "date-time"],
            ],
        ])

    static let report = SchemaComponent(
        "SLAReport", uses: [figures, breach],
        schema: [
            "type": "object", "required": ["from", "to", "group_by", "period", "groups", "totals", "breaches"],
            "properties": [
                "from": ["type": "string", "format": "date"], "to": ["type": "string", "format": "date"],
                "group_by": ["type": "string", "enum": ["tenant", "priority", "type", "period"]],
                "period": ["type": "string", "enum": ["day", "week", "month"]],
                "groups": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["key"],
                        "properties": ["key": ["type": "string"]],
                        "additionalProperties": figures.ref,
                    ],
                ],
                "totals": ["type": "object", "description": "Figures per clock over every group.", "additionalProperties": figures.ref],
                "breaches": ["type": "array", "items": breach.ref],
            ],
        ])

    static func json(_ figures: SLAReport.Figures) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map { .number(($0 * 10).rounded() / 10) } ?? .null }
        return [
            "met": .number(Double(figures.met)), "missed": .number(Double(figures.missed)), "open": .number(Double(figures.open)),
            "met_percent": number(figures.metPercent), "p50_seconds": number(figures.p50), "p90_seconds": number(figures.p90),
        ]
    }

    static func pairs(_ clocks: [SLAClockKind: SLAReport.Figures]) -> [(String, JSONValue)] {
        SLAClockKind.allCases.compactMap { kind in clocks[kind].map { (kind.rawValue, json($0)) } }
    }

    static func json(_ report: SLAReport) -> JSONValue {
        [
            "from": .string(String(RFC3339.string(report.query.from).prefix(10))),
            "to": .string(String(RFC3339.string(report.query.to.addingTimeInterval(-86400)).prefix(10))),
            "group_by": .string(report.query.grouping.rawValue), "period": .string(report.query.period.rawValue),
            "groups": .array(report.rows.map { .object([("key", .string($0.key))] + pairs($0.clocks)) }),
            "totals": .object(pairs(report.totals)),
            "breaches": .array(
                report.breaches.map {
                    [
                        "number": .string($0.number), "tenant": .string($0.tenant), "subject": .string($0.subject),
                        "priority": .string($0.priority), "clock": .string($0.clock.rawValue), "due_at": .string(RFC3339.string($0.dueAt)),
                    ]
                }),
        ]
    }

    static func register(in routes: inout RouteTable, database: Database) {
        routes.api(
            .get, .slaReport, scope: .reportsRead,
            operation: Operation(
                id: "getSLAReport", summary: "SLA targets met and missed, with response and resolution time percentiles, and the breaches.",
                tags: ["reports"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "from", in: .query, schema: ["type": "string", "format": "date"],
                        description: "First day (UTC); 30 days before `to` by default."),
                    .init(
                        "to", in: .query, schema: ["type": "string", "format": "date"],
                        description: "Last day, inclusive (UTC); today by default."),
                    .init(
                        "group_by", in: .query, schema: ["type": "string", "enum": ["tenant", "priority", "type", "period"]],
                        description: "How rows are grouped (priority)."),
                    .init(
                        "period", in: .query, schema: ["type": "string", "enum": ["day", "week", "month"]],
                        description: "The bucket when grouping by period (month)."),
                    ReadYourWrites.parameter,
                ],
                responses: [
                    .init(200, "The report.", component: report),
                    .problem(401, "No valid token."), .problem(403, "A missing scope or permission."), .problem(404, "No such tenant."),
                    .problem(422, "A bad date, grouping or period."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.reportsRead)
            var query = try SLAReport.Query(parameters: ctx.request.query, now: ctx.world.clock.now, emptyIsDefault: false)
            query.tenant = ctx.caller.tenant
            let report = try database.reading(for: ctx.request, at: ctx.world.clock.now) { try SLAReport.compute(query, database: $0) }
            return .json(json(report))
        }
    }
}
