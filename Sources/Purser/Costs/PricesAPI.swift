// /api/v1/prices: the price catalogue for pipelines and scripts. Anyone with costs:read reads the
// list prices (public list prices, the same for every tenant) and a tenant's own markups and
// negotiated prices (a customer token its own; a staff token names ?tenant=). Provider admins
// (costs.manage, scope prices:write) add list prices, negotiated prices and markups. A body is read
// into the /staff/prices form's fields and checked by the page's own validation, so the API and the
// page refuse the same things in the same words: a fraction of a micro-unit, an overlap of
// effective dates, an unknown currency. Amounts travel as decimal strings, never JSON numbers.
import Foundation
import HTTPServer
import Postgres

enum PricesAPI {
    static let amount: JSONValue = [
        "type": ["string", "null"], "description": "A decimal of the currency, at most six decimals (micro-units).",
        "examples": ["2.50"],
    ]

    static let price = SchemaComponent(
        "Price",
        schema: [
            "type": "object",
            "required": [
                "id", "kind", "provider", "item", "currency", "effective_from", "effective_to", "input_per_million", "output_per_million",
                "cached_input_per_million", "per_gpu_hour",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"], "kind": ["type": "string", "enum": ["tokens", "gpu"]],
                "provider": ["type": "string"],
                "item": ["type": "string", "description": "The model (tokens) or GPU type (gpu), as usage events name it."],
                "currency": ["type": "string", "examples": ["USD"]],
                "effective_from": ["type": "string", "format": "date-time"],
                "effective_to": ["type": ["string", "null"], "format": "date-time", "description": "Null: open-ended."],
                "input_per_million": amount, "output_per_million": amount, "cached_input_per_million": amount, "per_gpu_hour": amount,
                "source": ["type": "string", "description": "Where a list price was read (a negotiated price has a note instead)."],
                "source_read_on": ["type": "string", "format": "date"], "note": ["type": "string"],
            ],
        ])

    static let pricePage = SchemaComponent.page("PricePage", of: price, description: "In the order the prices were added.")

    static let markup = SchemaComponent(
        "PriceMarkup",
        schema: [
            "type": "object", "required": ["id", "markup_bp", "effective_from", "effective_to", "note"],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "markup_bp": ["type": "integer", "description": "Basis points on the list price: 1500 is +15 %, -1000 a 10 % discount."],
                "effective_from": ["type": "string", "format": "date-time"],
                "effective_to": ["type": ["string", "null"], "format": "date-time"], "note": ["type": "string"],
            ],
        ])

    static let markupPage = SchemaComponent.page("PriceMarkupPage", of: markup)

    static let dateOrTime: JSONValue = [
        "type": "string", "description": "A date (midnight UTC), such as 2026-12-01, or an RFC 3339 time.", "examples": ["2026-12-01"],
    ]
    static let amountField: JSONValue = ["type": "string", "description": "A decimal of the currency, at most six decimals."]

    static let newPrice = SchemaComponent(
        "NewPrice",
        schema: [
            "type": "object", "required": ["provider", "item", "currency", "effective_from", "source", "source_read_on"],
            "additionalProperties": false,
            "properties": [
                "kind": ["type": "string", "enum": ["tokens", "gpu"], "description": "tokens (the default) or gpu."],
                "provider": ["type": "string", "maxLength": 50], "item": ["type": "string", "maxLength": 200],
                "currency": ["type": "string", "minLength": 3, "maxLength": 3], "effective_from": dateOrTime,
                "effective_to": dateOrTime, "input_per_million": amountField, "output_per_million": amountField,
                "cached_input_per_million": amountField, "per_gpu_hour": amountField,
                "source": ["type": "string", "maxLength": 500, "description": "Where the price was read (a URL)."],
                "source_read_on": ["type": "string", "format": "date"],
            ],
        ])

    static let newNegotiated = SchemaComponent(
        "NewNegotiatedPrice",
        schema: [
            "type": "object", "required": ["provider", "item", "currency", "effective_from"], "additionalProperties": false,
            "properties": [
                "kind": ["type": "string", "enum": ["tokens", "gpu"]], "provider": ["type": "string", "maxLength": 50],
                "item": ["type": "string", "maxLength": 200], "currency": ["type": "string", "minLength": 3, "maxLength": 3],
                "effective_from": dateOrTime, "effective_to": dateOrTime, "input_per_million": amountField,
                "output_per_million": amountField, "cached_input_per_million": amountField, "per_gpu_hour": amountField,
                "note": ["type": "string", "maxLength": 500, "description": "Which contract, for whoever reads the price later."],
            ],
        ])

    static let newMarkup = SchemaComponent(
        "NewPriceMarkup",
        schema: [
            "type": "object", "required": ["markup_bp", "effective_from"], "additionalProperties": false,
            "properties": [
                "markup_bp": ["type": "integer", "minimum": -10000, "maximum": 100_000],
                "effective_from": dateOrTime, "effective_to": dateOrTime, "note": ["type": "string", "maxLength": 500],
            ],
        ])

    /// A price body. Its names are the API's; `form` gives them the page's names for its validation.
    struct PriceBody: Decodable {
        var kind, provider, item, currency, effectiveFrom, effectiveTo, input, output, cached, gpuHour, source, sourceReadOn, note: String?

        enum CodingKeys: String, CodingKey {
            case kind, provider, item, currency, source, note
            case effectiveFrom = "effective_from", effectiveTo = "effective_to", input = "input_per_million"
            case output = "output_per_million", cached = "cached_input_per_million", gpuHour = "per_gpu_hour"
            case sourceReadOn = "source_read_on"
        }

        static let listFields: Set<String> = [
            "kind", "provider", "item", "currency", "effective_from", "effective_to", "input_per_million", "output_per_million",
            "cached_input_per_million", "per_gpu_hour", "source", "source_read_on",
        ]
        static let negotiatedFields = listFields.subtracting(["source", "source_read_on"]).union(["note"])

        /// The page's field names for the API's.
        static let pageNames = [
            "input": "input_per_million", "output": "output_per_million", "cached": "cached_input_per_million",
            "gpu_hour": "per_gpu_hour",
        ]

        var form: QueryParameters {
            let pairs: [(String, String?)] = [
                ("kind", kind ?? "tokens"), ("provider", provider), ("item", item), ("currency", currency),
                ("effective_from", effectiveFrom), ("effective_to", effectiveTo), ("input", input), ("output", output),
                ("cached", cached), ("gpu_hour", gpuHour), ("source", source), ("source_read_on", sourceReadOn), ("note", note),
            ]
            return QueryParameters(pairs.compactMap { name, value in value.map { (name, $0) } })
        }
    }

    struct MarkupBody: Decodable {
        let markupBP: Int?
        let effectiveFrom: String?
        let effectiveTo: String?
        let note: String?

        enum CodingKeys: String, CodingKey {
            case note
            case markupBP = "markup_bp", effectiveFrom = "effective_from", effectiveTo = "effective_to"
        }

        static let fields: Set<String> = ["markup_bp", "effective_from", "effective_to", "note"]

        var form: QueryParameters {
            let pairs: [(String, String?)] = [
                ("markup_bp", markupBP.map(String.init)), ("effective_from", effectiveFrom), ("effective_to", effectiveTo), ("note", note),
            ]
            return QueryParameters(pairs.compactMap { name, value in value.map { (name, $0) } })
        }
    }

    /// The page's validation, its field names said as the API's.
    static func checked<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ValidationError {
            var renamed = ValidationError(
                error.fieldErrors.map { FieldError(field: PriceBody.pageNames[$0.field] ?? $0.field, detail: $0.detail) },
                refusal: error.refusal)
            renamed.extensionMembers = error.extensionMembers
            throw renamed
        }
    }

    static func json(_ entry: PriceEntry, id: UUID) -> JSONValue {
        func decimal(_ micros: Int64?) -> JSONValue { micros.map { .string(MicroUnits.format($0)) } ?? .null }
        return [
            "id": .string(id.postgresText), "kind": .string(entry.kind.rawValue), "provider": .string(entry.provider),
            "item": .string(entry.item), "currency": .string(entry.currency), "effective_from": .string(RFC3339.string(entry.from)),
            "effective_to": entry.to.map { .string(RFC3339.string($0)) } ?? .null,
            "input_per_million": decimal(entry.inputPerMillion), "output_per_million": decimal(entry.outputPerMillion),
            "cached_input_per_million": decimal(entry.cachedInputPerMillion), "per_gpu_hour": decimal(entry.perGPUHour),
        ]
    }

    /// `object` with `members` after its own.
    static func adding(_ object: JSONValue, _ members: [(String, JSONValue)]) -> JSONValue {
        guard case .object(let pairs) = object else { return object }
        return .object(pairs + members)
    }

    static func json(list row: PriceCatalogue.Row) -> JSONValue {
        adding(json(row.entry, id: row.id), [("source", .string(row.entry.source)), ("source_read_on", .string(row.entry.sourceReadOn))])
    }

    static func json(negotiated row: PriceCatalogue.NegotiatedRow) -> JSONValue {
        adding(json(row.entry, id: row.id), [("note", .string(row.note))])
    }

    static func json(_ markup: MarkupEntry, id: UUID) -> JSONValue {
        [
            "id": .string(id.postgresText), "markup_bp": .number(Double(markup.basisPoints)),
            "effective_from": .string(RFC3339.string(markup.from)), "effective_to": markup.to.map { .string(RFC3339.string($0)) } ?? .null,
            "note": .string(markup.note),
        ]
    }

    /// A page of `rows` asked for one more than `limit`: the items and the cursor of the next page.
    static func page<Item>(_ rows: [Item], limit: Int, id: (Item) -> UUID, json: (Item) -> JSONValue) -> Response {
        let items = rows.prefix(limit)
        return .json([
            "items": .array(items.map(json)), "next_cursor": rows.count > limit ? .string(id(items.last!).postgresText) : .null,
        ])
    }

    /// 201 with the list the new entry is read in as its Location: a price is listed under its
    /// provider and item, a tenant's terms under the tenant (named when a staff token named it).
    static func created(_ value: JSONValue, at path: APIPath, _ query: [(String, String?)]) -> Response {
        let pairs = query.compactMap { name, value in
            value.map { name + "=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
        }
        return Response.json(value, status: .created)
            .located(at: path.path() + (pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")))
    }

    static let pagingParameters: [HTTPServer.Operation.Parameter] = [
        .init("limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 100], description: "Page size (50)."),
        .init("cursor", in: .query, schema: ["type": "string", "format": "uuid"], description: "`next_cursor` of the previous page."),
    ]
    static let common: [HTTPServer.Operation.ResponseDoc] = [
        .problem(400, "A malformed query or body."), .problem(401, "No valid token."),
        .problem(403, "A missing scope or permission."), .problem(404, "No such tenant."), .problem(429, "Rate limit used up."),
    ]
    static let emptyParameter = HTTPServer.Operation.ResponseDoc.problem(422, "An empty `cursor`: leave it out or give one.")
    static let writeProblems: [HTTPServer.Operation.ResponseDoc] = [
        .problem(
            422,
            "A value refused, by field: a fraction of a micro-unit, an effective period that overlaps another of the same item, a bad date or currency."
        )
    ]

    static func register(in routes: inout RouteTable, database: Database) {
        let catalogue = PriceCatalogue(database: database)

        routes.api(
            .get, .prices, scope: .costsRead,
            operation: Operation(
                id: "listPrices", summary: "The list prices: per provider and model or GPU type, with effective dates and source.",
                tags: ["costs"],
                parameters: pagingParameters + [
                    .init("provider", in: .query, description: "Only this provider's prices (exact)."),
                    .init("item", in: .query, description: "Only this model's or GPU type's prices (exact)."),
                ],
                responses: [.init(200, "A page of prices.", component: pricePage), emptyParameter] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            let (limit, cursor) = try DeploymentsAPI.paging(ctx.request, default: 50)
            let query = ctx.request.query
            let rows = try catalogue.prices(
                after: cursor, limit: limit + 1, provider: query["provider"].flatMap { $0.isEmpty ? nil : $0 },
                item: query["item"].flatMap { $0.isEmpty ? nil : UsageRules.nfc($0) })
            return page(rows, limit: limit, id: \.id, json: json(list:))
        }

        routes.api(
            .post, .prices, scope: .pricesWrite, options: .json,
            operation: Operation(
                id: "createPrice",
                summary:
                    "Add a list price from a date; it closes the open-ended price it follows, and re-rates usage when it reaches back.",
                tags: ["costs"], parameters: [TokensAPI.idempotencyParameter], requestComponent: newPrice,
                responses: [.init(201, "The price.", component: price, headers: ["Location"])] + writeProblems + common)
        ) { ctx in
            try ctx.require(.costsManage)
            let body = try ctx.request.decode(PriceBody.self, fields: PriceBody.listFields)
            return try checked {
                let entry = try PricePages.price(from: body.form)
                let added = try catalogue.add(entry, actor: ctx.actor, now: ctx.world.now)
                return created(
                    json(list: PriceCatalogue.Row(entry: entry, id: added.id)), at: .prices,
                    [("provider", entry.provider), ("item", entry.item)])
            }
        }

        routes.api(
            .get, .negotiatedPrices, scope: .costsRead, tenant: .required,
            operation: Operation(
                id: "listNegotiatedPrices", summary: "The tenant's negotiated prices, which replace the list and take no markup.",
                tags: ["costs"], parameters: [APIGate.tenantParameter] + pagingParameters,
                responses: [.init(200, "A page of negotiated prices.", component: pricePage), emptyParameter] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            let (limit, cursor) = try DeploymentsAPI.paging(ctx.request, default: 50)
            let rows = try catalogue.negotiated(tenant: try ctx.tenant, after: cursor, limit: limit + 1)
            return page(rows, limit: limit, id: \.id, json: json(negotiated:))
        }

        routes.api(
            .post, .negotiatedPrices, scope: .pricesWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createNegotiatedPrice", summary: "Add a price negotiated with the tenant named, from a date.", tags: ["costs"],
                parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newNegotiated,
                responses: [.init(201, "The negotiated price.", component: price, headers: ["Location"])] + writeProblems + common)
        ) { ctx in
            try ctx.require(.costsManage)
            let tenant = try ctx.tenant
            let body = try ctx.request.decode(PriceBody.self, fields: PriceBody.negotiatedFields)
            return try checked {
                let entry = try PricePages.price(from: body.form, negotiated: true)
                let note = String((body.note ?? "").trimmingCharacters(in: .whitespaces).prefix(500))
                let id = try catalogue.addNegotiated(entry, tenant: tenant, note: note, actor: ctx.actor, now: ctx.world.now)
                return created(
                    adding(json(entry, id: id), [("note", .string(note))]), at: .negotiatedPrices,
                    [("tenant", ctx.request.query["tenant"])])
            }
        }

        routes.api(
            .get, .priceMarkups, scope: .costsRead, tenant: .required,
            operation: Operation(
                id: "listPriceMarkups", summary: "The tenant's markups and discounts on list prices, in basis points.", tags: ["costs"],
                parameters: [APIGate.tenantParameter] + pagingParameters,
                responses: [.init(200, "A page of markups.", component: markupPage), emptyParameter] + common)
        ) { ctx in
            try ctx.require(.costsRead)
            let (limit, cursor) = try DeploymentsAPI.paging(ctx.request, default: 50)
            let rows = try catalogue.markups(tenant: try ctx.tenant, after: cursor, limit: limit + 1)
            return page(rows, limit: limit, id: \.id) { json($0.entry, id: $0.id) }
        }

        routes.api(
            .post, .priceMarkups, scope: .pricesWrite, tenant: .required, options: .json,
            operation: Operation(
                id: "createPriceMarkup",
                summary: "Set the tenant's markup (or a discount, negative) from a date; it closes the open-ended one before it.",
                tags: ["costs"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: newMarkup,
                responses: [.init(201, "The markup.", component: markup, headers: ["Location"])] + writeProblems + common)
        ) { ctx in
            try ctx.require(.costsManage)
            let tenant = try ctx.tenant
            let body = try ctx.request.decode(MarkupBody.self, fields: MarkupBody.fields)
            let entry = try PricePages.markup(from: body.form, tenant: tenant)
            return created(
                json(entry, id: try catalogue.setMarkup(entry, actor: ctx.actor, now: ctx.world.now)), at: .priceMarkups,
                [("tenant", ctx.request.query["tenant"])])
        }
    }
}
