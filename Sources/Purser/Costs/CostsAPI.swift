// The cost API: GET /api/v1/reports/costs (the report as JSON, like /reports/sla: a customer's token
// reports on its tenant; a staff token on every tenant or on one named with ?tenant=), the budgets
// (read with costs:read, managed with budgets:write by those holding tenant.settings.manage), and
// GET /api/v1/budgets/{id}/status, which a gateway reads before each call to enforce a hard stop:
// one read of the budget and one indexed read of a rollup.
import Foundation
import HTTPServer
import Postgres

enum CostsAPI {
    static let figures = SchemaComponent(
        "CostFigures",
        schema: [
            "type": "object",
            "required": [
                "currency", "cost", "requests", "input_tokens", "output_tokens", "cached_input_tokens", "cost_per_request",
                "cost_per_1k_tokens", "cache_hit_share", "gpu_hours", "gpu_cost", "unpriced_events",
            ],
            "properties": [
                "currency": ["type": "string", "examples": ["USD"]],
                "cost": ["type": "string", "description": "Exact decimal of the currency (from micro-units).", "examples": ["1234.56"]],
                "cost_micros": ["type": "integer"],
                "requests": ["type": "integer"], "input_tokens": ["type": "integer"], "output_tokens": ["type": "integer"],
                "cached_input_tokens": ["type": "integer"],
                "cost_per_request": ["type": ["string", "null"]], "cost_per_1k_tokens": ["type": ["string", "null"]],
                "cache_hit_share": [
                    "type": ["string", "null"], "description": "Cached input over all input tokens, percent to a tenth.",
                ],
                "gpu_hours": ["type": "string"], "gpu_cost": ["type": "string"], "unpriced_events": ["type": "integer"],
            ],
        ])

    static let report = SchemaComponent(
        "CostReport", uses: [figures],
        schema: [
            "type": "object",
            "required": ["from", "to", "group_by", "then_by", "groups", "groups_truncated", "totals", "daily", "unpriced_models"],
            "properties": [
                "from": ["type": "string", "format": "date"], "to": ["type": "string", "format": "date"],
                "group_by": ["type": "string"], "then_by": ["type": ["string", "null"]],
                "groups_truncated": [
                    "type": "boolean",
                    "description": "More groups than 1,000: groups holds the largest by spend; totals count them all.",
                ],
                "groups": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["key", "figures"],
                        "properties": ["key": ["type": "string"], "then": ["type": "string"], "figures": figures.ref],
                    ],
                ],
                "totals": ["type": "array", "items": figures.ref],
                "daily": [
                    "type": "object", "description": "Spend per day for the first grouping's largest groups (the rest as other).",
                    "properties": [
                        "currency": ["type": "string"], "series": ["type": "array", "items": ["type": "string"]],
                        "days": [
                            "type": "array",
                            "items": [
                                "type": "object",
                                "properties": [
                                    "day": ["type": "string", "format": "date"],
                                    "costs": ["type": "array", "items": ["type": "string"]],
                                ],
                            ],
                        ],
                    ],
                ],
                "unpriced_models": [
                    "type": "array",
                    "items": [
                        "type": "object",
                        "properties": ["provider": ["type": "string"], "model": ["type": "string"], "events": ["type": "integer"]],
                    ],
                ],
            ],
        ])

    static let budget = SchemaComponent(
        "Budget",
        schema: [
            "type": "object",
            "required": ["id", "name", "scope", "scope_value", "amount", "currency", "period", "thresholds", "version"],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"],
                "scope": ["type": "string", "enum": ["tenant", "team", "key"]], "scope_value": ["type": "string"],
                "amount": ["type": "string", "examples": ["2500.00"]], "currency": ["type": "string"],
                "period": ["type": "string", "enum": ["month", "custom"]],
                "starts_on": ["type": ["string", "null"], "format": "date"], "ends_on": ["type": ["string", "null"], "format": "date"],
                "repeats": [
                    "type": "boolean", "description": "A custom period that starts again the day after it ends, as long each time.",
                ],
                "thresholds": ["type": "array", "items": ["type": "integer"]], "version": ["type": "integer"],
            ],
        ])

    static let budgetPage = SchemaComponent(
        "BudgetPage", uses: [budget],
        schema: [
            "type": "object", "required": ["items", "next_cursor"],
            "properties": ["items": ["type": "array", "items": budget.ref], "next_cursor": ["type": "null"]],
        ])

    static let newBudget = SchemaComponent(
        "NewBudget",
        schema: [
            "type": "object", "required": ["name", "amount"], "additionalProperties": false,
            "properties": [
                "name": ["type": "string", "maxLength": 200], "scope": ["type": "string", "enum": ["tenant", "team", "key"]],
                "scope_value": ["type": "string", "maxLength": 200],
                "amount": ["type": "string", "description": "A decimal of the tenant's currency, at most six decimals."],
                "period": ["type": "string", "enum": ["month", "custom"]],
                "starts_on": ["type": "string", "format": "date"],
                "ends_on": ["type": "string", "format": "date", "description": "The custom period's last day, inclusive."],
                "repeats": [
                    "type": "boolean",
                    "description": "Custom periods only: the period repeats, every (ends_on − starts_on + 1) days from starts_on.",
                ],
                "thresholds": ["type": "array", "items": ["type": "integer", "minimum": 1, "maximum": 1000], "maxItems": 10],
            ],
        ])

    static let status = SchemaComponent(
        "BudgetStatus",
        schema: [
            "type": "object",
            "required": ["id", "active", "currency", "amount", "spend", "remaining", "used_percent", "exceeded", "reached"],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "active": ["type": "boolean", "description": "False outside a custom period."],
                "period_from": ["type": ["string", "null"], "format": "date"],
                "period_to": ["type": ["string", "null"], "format": "date"],
                "currency": ["type": "string"], "amount": ["type": "string"], "spend": ["type": "string"],
                "spend_micros": ["type": "integer"], "remaining": ["type": "string"], "used_percent": ["type": "string"],
                "exceeded": ["type": "boolean", "description": "Spend has reached the amount: a gateway's hard stop."],
                "reached": ["type": "array", "items": ["type": "integer"]],
            ],
        ])

    static func json(_ figures: CostReport.Figures, currency: String) -> JSONValue {
        func decimal(_ micros: Int64?) -> JSONValue { micros.map { .string(Money.decimal($0, grouping: false)) } ?? .null }
        return [
            "currency": .string(currency), "cost": decimal(figures.costMicros), "cost_micros": .number(Double(figures.costMicros)),
            "requests": .number(Double(figures.requests)), "input_tokens": .number(Double(figures.inputTokens)),
            "output_tokens": .number(Double(figures.outputTokens)), "cached_input_tokens": .number(Double(figures.cachedInputTokens)),
            "cost_per_request": decimal(figures.costPerRequest), "cost_per_1k_tokens": decimal(figures.costPer1kTokens),
            "cache_hit_share": figures.inputTokens + figures.cachedInputTokens == 0
                ? .null : .string(figures.cacheHitShare.replacingOccurrences(of: " %", with: "")),
            "gpu_hours": .string(figures.gpuHours), "gpu_cost": decimal(figures.gpuCostMicros),
            "unpriced_events": .number(Double(figures.unpricedEvents)),
        ]
    }

    static func json(_ report: CostReport) -> JSONValue {
        let groups: [JSONValue] = report.rows.map { row in
            var pairs: [(String, JSONValue)] = [("key", .string(row.key))]
            if let subKey = row.subKey { pairs.append(("then", .string(subKey))) }
            pairs.append(("figures", json(row.figures, currency: row.currency)))
            return .object(pairs)
        }
        let days: [JSONValue] = report.days.map { day in
            ["day": .string(day.day.description), "costs": .array(day.values.map { .string(Money.decimal($0, grouping: false)) })]
        }
        return [
            "from": .string(report.query.period.from.description), "to": .string(report.query.period.to.description),
            "group_by": .string(report.query.groupBy.rawValue), "then_by": report.query.thenBy.map { .string($0.rawValue) } ?? .null,
            "groups": .array(groups), "groups_truncated": .bool(report.truncated),
            "totals": .array(report.totals.map { json($0.figures, currency: $0.currency) }),
            "daily": [
                "currency": .string(report.seriesCurrency), "series": .array(report.series.map { .string($0) }), "days": .array(days),
            ],
            "unpriced_models": .array(
                report.unpriced.map {
                    ["provider": .string($0.provider), "model": .string($0.model), "events": .number(Double($0.events))]
                }),
        ]
    }

    static func json(_ budget: Budget) -> JSONValue {
        [
            "id": .string(budget.id.postgresText), "name": .string(budget.name), "scope": .string(budget.scope.rawValue),
            "scope_value": .string(budget.scopeValue), "amount": .string(budget.amount.plain), "currency": .string(budget.currency),
            "period": .string(budget.period.rawValue), "starts_on": budget.startsOn.map { .string($0.description) } ?? .null,
            "ends_on": budget.endsOn.map { .string($0.description) } ?? .null, "repeats": .bool(budget.repeats),
            "thresholds": .array(budget.thresholds.map { .number(Double($0)) }), "version": .number(Double(budget.version)),
        ]
    }

    static func json(_ status: BudgetStatus) -> JSONValue {
        let currency = status.budget.currency
        return [
            "id": .string(status.budget.id.postgresText), "active": .bool(status.period != nil),
            "period_from": status.period.map { .string($0.from.description) } ?? .null,
            "period_to": status.period.map { .string($0.to.description) } ?? .null, "currency": .string(currency),
            "amount": .string(status.budget.amount.plain), "spend": .string(Money(micros: status.spendMicros, currency: currency).plain),
            "spend_micros": .number(Double(status.spendMicros)),
            "remaining": .string(Money(micros: status.remainingMicros, currency: currency).plain),
            "used_percent": .string(status.usedPercent.replacingOccurrences(of: " %", with: "")), "exceeded": .bool(status.exceeded),
            "reached": .array(status.reached.map { .number(Double($0)) }),
        ]
    }

    /// A budget as JSON with its version as the ETag ("v3").
    static func answer(_ budget: Budget, status: HTTPStatus = .ok) -> Response {
        var response = Response.json(json(budget), status: status)
        response.headers.set("ETag", budget.etag)
        return response
    }

    static let idParameter = HTTPServer.Operation.Parameter(
        "id", in: .path, schema: ["type": "string", "format": "uuid"], description: "The budget's id.")
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
        .problem(404, "No such budget in this tenant."), .problem(429, "Rate limit used up."),
    ]

    /// A budget body: JSON with the form's names (thresholds as a list of integers).
    struct BudgetBody: Decodable {
        let name: String?
        let scope: String?
        let scopeValue: String?
        let amount: String?
        let period: String?
        let startsOn: String?
        let endsOn: String?
        let thresholds: [Int]?
        let repeats: Bool?

        enum CodingKeys: String, CodingKey {
            case name, scope, amount, period, thresholds, repeats
            case scopeValue = "scope_value", startsOn = "starts_on", endsOn = "ends_on"
        }

        static let fields: Set<String> = [
            "name", "scope", "scope_value", "amount", "period", "starts_on", "ends_on", "thresholds", "repeats",
        ]

        var input: BudgetInput {
            var input = BudgetInput()
            input.name = name ?? ""
            input.scope = scope ?? "tenant"
            input.scopeValue = scopeValue ?? ""
            input.amount = amount ?? ""
            input.period = period ?? "month"
            input.startsOn = startsOn ?? ""
            input.endsOn = endsOn ?? ""
            input.thresholds = thresholds?.map(String.init).joined(separator: ",") ?? ""
            if thresholds?.isEmpty == true { input.thresholds = "x" }
            input.repeats = repeats ?? false
            return input
        }
    }

    static func register(in routes: inout RouteTable, database: Database) {
        let store = BudgetStore(database: database, clock: routes.world.clock)
        let periodParameters: [HTTPServer.Operation.Parameter] = [
            .init("from", in: .query, schema: ["type": "string", "format": "date"], description: "First local day (the tenant's zone)."),
            .init(
                "to", in: .query, schema: ["type": "string", "format": "date"], description: "Last local day, inclusive; today by default."),
            .init(
                "preset", in: .query, schema: ["type": "string", "enum": .array(CostPeriod.Preset.allCases.map { .string($0.rawValue) })],
                description: "A period instead of from/to; this month when neither is given."),
            .init(
                "group_by", in: .query,
                schema: ["type": "string", "enum": .array(CostReport.Dimension.allCases.map { .string($0.rawValue) })],
                description: "How rows are grouped (model). `tenant` only for staff across tenants."),
            .init(
                "then_by", in: .query,
                schema: [
                    "type": "string", "enum": .array(CostReport.Dimension.allCases.filter { !$0.isSlice }.map { .string($0.rawValue) }),
                ],
                description: "A second grouping within the first."),
        ]
        let filterParameters =
            CostReport.Dimension.filters.map {
                HTTPServer.Operation.Parameter($0.rawValue, in: .query, description: "Only this \($0.rawValue) (exact).")
            }
            + [
                HTTPServer.Operation.Parameter(
                    "endpoint", in: .query,
                    description: "Only this endpoint or deployment (exact), grouped by day or endpoint, with no other filter.")
            ]
        routes.api(
            .get, .costReport, scope: .costsRead,
            operation: Operation(
                id: "getCostReport",
                summary: "Spend, tokens, requests and GPU time over whole local days, grouped and filtered, with the daily series.",
                tags: ["costs"], parameters: [APIGate.tenantParameter] + periodParameters + filterParameters + [ReadYourWrites.parameter],
                responses: [
                    .init(200, "The report.", component: report),
                    .problem(401, "No valid token."), .problem(403, "A missing scope or permission."), .problem(404, "No such tenant."),
                    .problem(422, "A bad date, period, grouping or filter."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.costsRead)
            let tenant = ctx.caller.tenant
            let today =
                try tenant.map { try CostReport.today(database, tenant: $0, now: ctx.world.clock.now) }
                ?? LocalDate(ctx.world.clock.now, in: TimeZone(identifier: "UTC")!)
            let query = try CostReport.Query(tenant: tenant, parameters: ctx.request.query, today: today, emptyIsDefault: false)
            let report = try database.reading(for: ctx.request, at: ctx.world.clock.now) { try CostReport.compute(query, database: $0) }
            return .json(json(report))
        }

        routes.api(
            .get, .budgets, scope: .costsRead, tenant: .required,
            operation: Operation(
                id: "listBudgets", summary: "The tenant's budgets, by name.", tags: ["costs"], parameters: [APIGate.tenantParameter],
                responses: [.init(200, "The budgets.", component: budgetPage)] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            return .json(["items": .array(try store.list(tenant: try ctx.tenant).map(json)), "next_cursor": .null])
        }

        routes.api(
            .post, .budgets, scope: .budgetsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createBudget", summary: "Add a budget (the caller's owner is told when a threshold fires).", tags: ["costs"],
                parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newBudget,
                responses: [
                    .init(201, "The budget.", component: budget, headers: ["Location", "ETag"]), .problem(400, "Malformed JSON."),
                    .problem(409, "The same Idempotency-Key is still running."), .problem(422, "Invalid values."),
                ] + common)
        ) { ctx in
            try ctx.require(.tenantSettingsManage)
            let body = try ctx.request.decode(
                BudgetBody.self, fields: BudgetBody.fields)
            let owner: UUID? = ctx.caller.identity.staffRole == nil ? ctx.caller.identity.user : nil
            let made = try store.create(tenant: try ctx.tenant, body.input, owner: owner, actor: ctx.actor)
            return answer(made, status: .created).located(at: APIPath.budget.path(made.id.postgresText))
        }

        routes.api(
            .get, .budget, scope: .costsRead, tenant: .required,
            operation: Operation(
                id: "getBudget", summary: "One budget.", tags: ["costs"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The budget.", component: budget, headers: ["ETag"])] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            return answer(try store.get(tenant: try ctx.tenant, id: try ctx.request.uuidParameter("id")))
        }

        routes.api(
            .put, .budget, scope: .budgetsWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "updateBudget",
                summary: "Replace a budget's settings (owners and fired thresholds stay); send the ETag you read as If-Match.",
                tags: ["costs"],
                parameters: [
                    APIGate.tenantParameter, idParameter,
                    .init("If-Match", in: .header, description: "The ETag of the version the change is based on (optional)."),
                ],
                requestComponent: newBudget,
                responses: [
                    .init(200, "The budget as changed.", component: budget, headers: ["ETag"]), .problem(400, "Malformed JSON."),
                    .problem(412, "The budget changed since the given ETag."), .problem(422, "Invalid values."),
                ] + common)
        ) { ctx in
            try ctx.require(.tenantSettingsManage)
            let body = try ctx.request.decode(
                BudgetBody.self, fields: BudgetBody.fields)
            return answer(
                try store.update(
                    tenant: try ctx.tenant, id: try ctx.request.uuidParameter("id"), ifMatch: ctx.request.headers["If-Match"],
                    body.input, actor: ctx.actor))
        }

        routes.api(
            .delete, .budget, scope: .budgetsWrite, tenant: .required,
            operation: Operation(
                id: "deleteBudget", summary: "Remove a budget and the record of its fired thresholds.", tags: ["costs"],
                parameters: [APIGate.tenantParameter, idParameter], responses: [.init(204, "Removed.")] + common)
        ) { ctx in
            try ctx.require(.tenantSettingsManage)
            try store.delete(tenant: try ctx.tenant, id: try ctx.request.uuidParameter("id"), actor: ctx.actor)
            return Response(status: .noContent)
        }

        routes.api(
            .get, .budgetStatus, scope: .costsRead, tenant: .required,
            operation: Operation(
                id: "getBudgetStatus",
                summary: "Where a budget stands in its current period: spend, remaining, thresholds reached, and whether it is exceeded.",
                tags: ["costs"], parameters: [APIGate.tenantParameter, idParameter],
                responses: [.init(200, "The status.", component: status)] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            let found = try BudgetStatus.load(
                database, tenant: try ctx.tenant, id: try ctx.request.uuidParameter("id"), now: ctx.world.clock.now)
            var response = Response.json(json(found))
            response.headers.set("Cache-Control", "no-store")
            return response
        }
    }
}
