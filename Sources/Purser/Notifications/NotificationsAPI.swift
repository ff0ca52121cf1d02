// GET /api/v1/notifications/deliveries: the tenant's delivery log, newest first, keyset-paged with
// `cursor`/`next_cursor` like every list (`before`/`next` are their deprecated names, kept one release).
// It is the notifications page's log, so it asks what the page asks (tenant.settings.manage), and
// shows destinations as the page does: a URL as scheme and host only, e-mail addresses whole only
// to tenant admins and staff.
import Foundation
import HTTPServer
import Postgres

enum NotificationsAPI {
    static let delivery = SchemaComponent(
        "Delivery",
        schema: [
            "type": "object",
            "required": [
                "id", "kind", "destination", "event", "subject", "state", "attempts", "last_error", "last_status",
                "created_at", "delivered_at",
            ],
            "properties": [
                "id": ["type": "string", "format": "uuid"],
                "kind": ["type": "string", "enum": ["email", "slack", "teams", "pagerduty", "webhook"]],
                "destination": [
                    "type": "string",
                    "description":
                        "Scheme and host of a URL; e-mail addresses, shown as …@domain except to tenant admins and staff.",
                ],
                "event": ["type": "string"], "subject": ["type": "string"],
                "state": ["type": "string", "enum": ["pending", "delivered", "dead"]],
                "attempts": ["type": "integer"], "last_error": ["type": ["string", "null"]],
                "last_status": ["type": ["integer", "null"]],
                "created_at": ["type": "string", "format": "date-time"],
                "delivered_at": ["type": ["string", "null"], "format": "date-time"],
            ],
        ])

    static let deliveryPage = SchemaComponent.page(
        "DeliveryPage", of: delivery,
        extra: [
            (
                "next",
                [
                    "type": ["string", "null"], "format": "uuid", "deprecated": true,
                    "description": "The same as `next_cursor`, under its old name; removed in the next release.",
                ]
            )
        ])

    static func register(in routes: inout RouteTable, database: Database) {
        routes.api(
            .get, .deliveries, scope: .notificationsRead, tenant: .required,
            operation: Operation(
                id: "listNotificationDeliveries", summary: "The tenant's notification deliveries and their outcome, newest first.",
                tags: ["notifications"],
                parameters: [
                    APIGate.tenantParameter,
                    .init(
                        "cursor", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "`next_cursor` of the previous page."),
                    .init(
                        "before", in: .query, schema: ["type": "string", "format": "uuid"],
                        description: "The old name of `cursor`; removed in the next release.", deprecated: true),
                    .init(
                        "limit", in: .query, schema: ["type": "integer", "minimum": 1, "maximum": 200],
                        description: "Deliveries per page (default 50)."),
                ],
                responses: [
                    .init(200, "A page of deliveries.", component: deliveryPage),
                    .problem(400, "A malformed parameter, or a staff token without ?tenant."), .problem(401, "No valid token."),
                    .problem(403, "The token lacks notifications:read, or its owner tenant.settings.manage."),
                    .problem(404, "No such tenant for this token."),
                    .problem(429, "Rate limit used up."),
                ])
        ) { ctx in
            try ctx.require(.tenantSettingsManage)
            let request = ctx.request
            let addressesVisible = DestinationRedaction.addressesVisible(to: ctx.principal)
            var before: UUID?
            for name in ["cursor", "before"] {
                guard let text = request.query[name] else { continue }
                guard let id = UUID(uuidString: text) else {
                    throw HTTPError(
                        .badRequest, detail: "\(name) is not one Purser gave.",
                        fieldErrors: [FieldError(field: name, detail: "is not one Purser gave")])
                }
                if let earlier = before, earlier != id {
                    throw HTTPError(
                        .badRequest, detail: "cursor and before (its old name) disagree; send cursor only.",
                        fieldErrors: [FieldError(field: "before", detail: "disagrees with cursor")])
                }
                before = id
            }
            var limit = 50
            if let text = request.query["limit"] {
                guard let value = Int(text), (1...200).contains(value) else {
                    throw HTTPError(.badRequest, detail: "limit must be a whole number from 1 to 200.")
                }
                limit = value
            }
            let page = try DeliveryLog.page(tenant: try ctx.tenant, before: before, limit: limit + 1, database: database)
            let items = page.prefix(limit).map { record -> JSONValue in
                [
                    "id": .string(record.id.postgresText), "kind": .string(record.kind),
                    "destination": .string(
                        DestinationRedaction.shown(record.destination, kind: record.kind, addressesVisible: addressesVisible)),
                    "event": .string(record.event), "subject": .string(record.subject), "state": .string(record.state),
                    "attempts": .number(Double(record.attempts)), "last_error": record.lastError.map { .string($0) } ?? .null,
                    "last_status": record.lastStatus.map { .number(Double($0)) } ?? .null,
                    "created_at": .string(RFC3339.string(record.createdAt)),
                    "delivered_at": record.deliveredAt.map { .string(RFC3339.string($0)) } ?? .null,
                ]
            }
            let next: JSONValue = page.count > limit ? .string(page[limit - 1].id.postgresText) : .null
            return .json(["items": .array(Array(items)), "next_cursor": next, "next": next])
        }
    }
}
