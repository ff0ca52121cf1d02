// POST /api/v1/usage: a gateway or a pipeline reports usage events, a JSON array or NDJSON of up
// to 10,000 a call. A customer's token reports for its own tenant (whatever the events say); a staff
// pipeline names the tenant with ?tenant=. Bad events are rejected one by one with their index or
// line; the rest are stored (UsageIngest). The answer counts accepted, duplicate and rejected events.
import Foundation
import HTTPServer
import Postgres

enum UsageAPI {
    /// 10,000 events of about a kilobyte each, with room: the route's own limit (413 past it).
    static let bodyLimit = 16 * 1024 * 1024
    static let ndjson = "application/x-ndjson"

    static let event = SchemaComponent(
        "UsageEvent",
        schema: [
            "type": "object", "required": ["event_id", "occurred_at", "provider"], "additionalProperties": false,
            "description":
                "Tokens of a model (model, token counts) or GPU time (gpu_type, gpu_seconds, host). Absent dimensions are empty.",
            "properties": [
                "event_id": [
                    "type": "string", "minLength": 1, "maxLength": 128, "description": "Yours: a re-sent event_id is a duplicate.",
                ],
                "occurred_at": ["type": "string", "format": "date-time"],
                "provider": ["type": "string", "maxLength": 50, "examples": ["openai", "anthropic", "aws-bedrock"]],
                "model": ["type": "string", "maxLength": 200],
                "endpoint": ["type": "string", "maxLength": 200], "deployment": ["type": "string", "maxLength": 200],
                "team": ["type": "string", "maxLength": 100], "feature": ["type": "string", "maxLength": 100],
                "key_ref": ["type": "string", "maxLength": 200, "description": "Your own gateway key's name, never a secret."],
                "input_tokens": ["type": "integer", "minimum": 0, "maximum": 1_000_000_000, "description": "Uncached input tokens."],
                "output_tokens": ["type": "integer", "minimum": 0, "maximum": 1_000_000_000],
                "cached_input_tokens": ["type": "integer", "minimum": 0, "maximum": 1_000_000_000],
                "requests": ["type": "integer", "minimum": 0, "maximum": 1_000_000],
                "latency_ms": ["type": "integer", "minimum": 0, "maximum": 86_400_000],
                "ttft_ms": ["type": "integer", "minimum": 0, "maximum": 86_400_000],
                "status": ["type": ["string", "integer"]],
                "host": ["type": "string", "maxLength": 200], "gpu_type": ["type": "string", "maxLength": 100],
                "gpu_seconds": ["type": "number", "minimum": 0, "maximum": 31_536_000],
            ],
        ])

    static let batch = SchemaComponent(
        "UsageBatch", uses: [event],
        schema: ["type": "array", "maxItems": 10_000, "items": event.ref])

    static let outcome = SchemaComponent(
        "UsageIngestResult",
        schema: [
            "type": "object", "required": ["accepted", "duplicates", "rejected", "rejections", "unpriced"],
            "properties": [
                "accepted": ["type": "integer"], "duplicates": ["type": "integer"], "rejected": ["type": "integer"],
                "rejections": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["reason"],
                        "properties": [
                            "index": ["type": "integer", "description": "The element of a JSON array, from 0."],
                            "line": ["type": "integer", "description": "The NDJSON line, from 1."],
                            "reason": ["type": "string"],
                        ],
                    ],
                ],
                "unpriced": [
                    "type": "array", "description": "Accepted events no price in the tenant's currency covers (yet).",
                    "items": [
                        "type": "object", "required": ["provider", "model", "events"],
                        "properties": ["provider": ["type": "string"], "model": ["type": "string"], "events": ["type": "integer"]],
                    ],
                ],
            ],
        ])

    static func json(_ outcome: UsageIngestOutcome, positionName: String) -> JSONValue {
        [
            "accepted": .number(Double(outcome.accepted)), "duplicates": .number(Double(outcome.duplicates)),
            "rejected": .number(Double(outcome.rejected.count)),
            "rejections": .array(
                outcome.rejected.map { .object([(positionName, .number(Double($0.position))), ("reason", .string($0.reason))]) }),
            "unpriced": .array(
                outcome.unpriced.map {
                    ["provider": .string($0.provider), "model": .string($0.item), "events": .number(Double($0.events))]
                }
            ),
        ]
    }

    static func register(in routes: inout RouteTable, ingest: UsageIngest) {
        routes.api(
            .post, .usage, scope: .usageWrite, tenant: .required,
            options: RouteOptions(bodyLimit: bodyLimit, accepts: ["application/json", ndjson]),
            operation: Operation(
                id: "ingestUsage",
                summary:
                    "Report usage events: a JSON array, or NDJSON (application/x-ndjson, one event a line), of at most 10,000 events.",
                tags: ["costs"], parameters: [APIGate.tenantParameter, TokensAPI.idempotencyParameter], requestComponent: batch,
                // NDJSON is taken too (application/x-ndjson, one event a line, rejections by line), but
                // described in the summary only: a JSON Schema of an NDJSON body is not one clients can use.
                requestContentTypes: ["application/json"],
                responses: [
                    .init(200, "What became of the batch: events rejected are listed with their index or line.", component: outcome),
                    .problem(401, "No valid token."), .problem(403, "A missing scope or permission."), .problem(404, "No such tenant."),
                    .problem(409, "The same Idempotency-Key is still running."),
                    .problem(413, "More than 10,000 events, or a body over 16 MiB."),
                    .problem(422, "A JSON array that cannot be read, or an Idempotency-Key reused with another body."),
                    .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.usageWrite)
            let lines = ctx.request.contentType == ndjson
            let items = try lines ? NDJSONUsageParser.lines(ctx.request.body) : NDJSONUsageParser.array(ctx.request.body)
            let outcome = try ingest.ingest(items, tenant: try ctx.tenant, actor: ctx.actor, source: .api, now: ctx.world.now)
            return .json(json(outcome, positionName: lines ? "line" : "index"))
        }
    }
}
