// POST /api/v1/integrations/alertmanager: Prometheus Alertmanager's webhook receiver. The tenant
// is the customer token's own, or the one a staff token names with ?tenant= (a delivery naming no
// tenant is refused). The whole delivery is one transaction: a malformed payload is a 400 and
// leaves nothing behind; a good one is recorded and grouped by IncidentIntake.
import Foundation
import HTTPServer
import Postgres

enum AlertmanagerAPI {
    static let result = SchemaComponent(
        "AlertIntakeResult",
        schema: [
            "type": "object", "required": ["opened", "joined", "resolved", "recorded"],
            "properties": [
                "opened": [
                    "type": "array", "items": ["type": "string", "format": "uuid"], "description": "Incidents this delivery opened.",
                ],
                "joined": [
                    "type": "array", "items": ["type": "string", "format": "uuid"], "description": "Open incidents its alerts joined.",
                ],
                "resolved": [
                    "type": "array", "items": ["type": "string", "format": "uuid"], "description": "Incidents resolved with their alerts.",
                ],
                "recorded": ["type": "integer", "description": "Alerts recorded or counted again."],
            ],
        ])

    static let payload = SchemaComponent(
        "AlertmanagerWebhook",
        schema: [
            "type": "object", "description": "Alertmanager's webhook payload, version 4.",
            "required": ["version", "status", "receiver", "groupKey", "alerts"],
            "properties": [
                "version": ["type": "string", "enum": ["4"]], "status": ["type": "string", "enum": ["firing", "resolved"]],
                "receiver": ["type": "string"], "groupKey": ["type": "string"],
                "truncatedAlerts": ["type": "integer"], "externalURL": ["type": "string"],
                "groupLabels": ["type": "object", "additionalProperties": ["type": "string"]],
                "commonLabels": ["type": "object", "additionalProperties": ["type": "string"]],
                "commonAnnotations": ["type": "object", "additionalProperties": ["type": "string"]],
                "alerts": [
                    "type": "array", "minItems": 1, "maxItems": 5000,
                    "items": [
                        "type": "object", "required": ["status", "labels", "startsAt", "fingerprint"],
                        "properties": [
                            "status": ["type": "string", "enum": ["firing", "resolved"]],
                            "labels": [
                                "type": "object", "additionalProperties": ["type": "string"],
                                "description":
                                    "alertname, service (or job) groups alerts, severity (critical, error, warning or SEV1–SEV4; none or another value is SEV4).",
                            ],
                            "annotations": ["type": "object", "additionalProperties": ["type": "string"]],
                            "startsAt": ["type": "string", "format": "date-time"], "endsAt": ["type": "string"],
                            "generatorURL": ["type": "string"],
                            "fingerprint": ["type": "string", "minLength": 1, "maxLength": 200],
                        ],
                    ],
                ],
            ],
        ])

    static func register(in routes: inout RouteTable, database: Database, publicURL: String) {
        routes.api(
            .post, .alertmanager, scope: .alertsWrite, tenant: .required,
            options: RouteOptions(bodyLimit: 8 * 1024 * 1024, accepts: ["application/json"]),
            operation: Operation(
                id: "receiveAlertmanagerWebhook",
                summary: "Alertmanager's webhook: alerts are deduplicated by fingerprint and grouped by service into incidents.",
                tags: ["incidents"], parameters: [APIGate.tenantParameter], requestComponent: payload,
                responses: [
                    .init(200, "What the delivery did.", component: result),
                    .problem(400, "A malformed payload, or no tenant named: nothing is recorded."),
                    .problem(401, "No valid token."), .problem(403, "A missing scope or permission."),
                    .problem(404, "No such tenant."), .problem(413, "Over 8 MiB."), .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.incidentsManage)
            let tenant = try ctx.tenant
            let decoded = try ctx.request.decode(AlertmanagerPayload.self)
            return try database.inTenant(tenant) { tx in
                let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
                let signals: [IncidentSignal]
                switch decoded.signals(slug: slug) {
                case .success(let found): signals = found
                case .failure(let refusal):
                    throw HTTPError(
                        .badRequest, title: "Malformed Alertmanager payload", detail: refusal.description, fieldErrors: refusal.fieldErrors)
                }
                let done = try IncidentIntake.receive(
                    tx, database: database, tenant: tenant, signals: signals, reporter: ctx.principal.user, actor: ctx.actor,
                    at: ctx.world.now, publicURL: publicURL)
                let ids = { (list: [UUID]) in JSONValue.array(list.map { .string($0.postgresText) }) }
                return .json([
                    "opened": ids(done.opened), "joined": ids(done.joined), "resolved": ids(done.resolved),
                    "recorded": .number(Double(done.recorded)),
                ])
            }
        }
    }
}
