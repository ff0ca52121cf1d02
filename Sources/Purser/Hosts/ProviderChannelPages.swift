// /staff/provider-channels: the provider's own notification channels (ProviderChannels) as a page
// for staff who manage providers — each channel with its events and whether it is on, the recent
// deliveries of the provider's log, a form to add a channel (a webhook's signing secret shown once)
// and one to turn a channel off or on again. Every change is audited in the provider's chain.
import Foundation
import HTTPServer
import Postgres

enum ProviderChannelPages {
    struct ChannelRow: Encodable, Sendable {
        let id: String
        let name: String
        let kind: String
        let destination: String
        let events: String
        let enabled: Bool
    }

    /// A delivery as the tenant's delivery log shows one, with the channel it went to.
    struct DeliveryRow: Encodable, Sendable {
        let to: String
        let delivery: NotificationPages.DeliveryRow
    }

    struct Page: TemplateModel {
        let heading = "Provider channels"
        let action = SitePage.staffProviderChannels.url
        let formToken: String
        let channels: [ChannelRow]
        let deliveries: [DeliveryRow]
        /// The kinds, the one chosen before a refusal still chosen.
        var kinds: [HostPages.Option] = []
        var values: [String: String] = ["events": "host.down"]
        var errors: [FieldError] = []
        var message: String?
    }

    /// The most recent deliveries shown (the log is keyed by created_at, id for this read).
    static let recentDeliveries = 50

    static func register(in routes: inout RouteTable, site: Site, database: Database, keyring: Keyring, policy: DestinationPolicy) {
        @Sendable func page(
            _ ctx: PageContext, form: QueryParameters? = nil, errors: [FieldError] = [], message: String? = nil, status: HTTPStatus = .ok
        ) throws -> Response {
            let (channels, deliveries) = try database.asStaff { tx in
                (try ProviderChannels.list(in: tx), try deliveryRows(tx))
            }
            var model = Page(
                formToken: ctx.visitor.formToken,
                channels: channels.map {
                    ChannelRow(
                        id: $0.id.postgresText, name: $0.name, kind: $0.kind.rawValue,
                        destination: $0.kind == .webhook ? DestinationRedaction.url($0.target) : $0.target,
                        events: $0.events.joined(separator: ", "), enabled: $0.enabled)
                }, deliveries: deliveries)
            (model.errors, model.message) = (errors, message)
            if let form { for name in ["kind", "name", "target", "events"] { model.values[name] = form[name] ?? "" } }
            model.kinds = ProviderChannel.Kind.allCases.map {
                HostPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0.rawValue == model.values["kind"])
            }
            return site.page("hosts/provider-channels", title: model.heading, model, status: status, visitor: ctx.visitor)
        }

        routes.staff(.get, .staffProviderChannels, permission: .providersManage) { ctx in try page(ctx) }
        routes.staff(.post, .staffProviderChannels, permission: .providersManage, options: .form) { ctx in
            let form = try ctx.form()
            let now = ctx.world.clock.now
            // Turning a channel off or on again.
            if let id = form["channel"] {
                guard let id = UUID(uuidString: id) else { throw HTTPError(.notFound) }
                let enabled = form["enabled"] == "1"
                let name = try database.asStaff { tx in
                    try ProviderChannels.setEnabled(id, enabled, actor: ctx.actor, at: now, in: tx)
                }
                return try page(ctx, message: "\(name) is \(enabled ? "on" : "off").")
            }
            do {
                let kind = ProviderChannel.Kind(rawValue: form["kind"] ?? "")
                guard let kind else { throw ValidationError(field: "kind", "choose email or webhook") }
                let made = try database.asStaff { tx in
                    try ProviderChannels.create(
                        kind: kind, name: form["name"] ?? "", target: form["target"] ?? "",
                        events: (form["events"] ?? "").split(separator: ",").map(String.init), keyring: keyring, actor: ctx.actor,
                        at: now, in: tx
                    ) { url in
                        do {
                            _ = try Destinations.check(url, policy: policy, resolver: ctx.world.resolver)
                            return nil
                        } catch let refused as RefusedDestination {
                            return refused.description
                        } catch {
                            return "the host name does not resolve"
                        }
                    }
                }
                let secret = made.secret.map { " Its signing secret, shown only now: \($0)" } ?? ""
                return try page(ctx, message: "Added \(made.channel.name).\(secret)", status: .created)
            } catch let error as ValidationError {
                return try page(ctx, form: form, errors: error.fieldErrors, status: error.status)
            }
        }
    }

    /// The provider's most recent deliveries, newest first, with the channel they went to (or the
    /// staff member's address for a mail to a person).
    static func deliveryRows(_ tx: Connection) throws -> [DeliveryRow] {
        try tx.query(
            """
            SELECT d.created_at, coalesce(c.name, 'staff member'), d.destination, d.event, d.subject, d.state, d.attempts,
                   coalesce(d.last_error, ''), d.kind
            FROM provider_deliveries d LEFT JOIN provider_channels c ON c.id = d.channel_id
            ORDER BY d.created_at DESC, d.id DESC LIMIT $1
            """, [recentDeliveries]
        ).map {
            DeliveryRow(
                to: try $0.require(1),
                delivery: NotificationPages.DeliveryRow(
                    created: DisplayTime.format(try $0.require(0, as: Date.self)), kind: try $0.require(8), destination: try $0.require(2),
                    event: try $0.require(3), subject: try $0.require(4), state: try $0.require(5),
                    attempts: Int(try $0.require(6, as: Int32.self)), error: try $0.require(7)))
        }
    }
}

extension ProviderChannels {
    /// Turns a provider channel off (its deliveries stop being made) or on again, audited; its
    /// delivery log stays. Returns the channel's name; NotFound when there is no such channel.
    static func setEnabled(_ id: UUID, _ enabled: Bool, actor: AuditActor, at now: Date, in tx: Connection) throws -> String {
        guard
            let name = try tx.query("UPDATE provider_channels SET enabled = $2 WHERE id = $1 RETURNING name", [id, enabled]).first?
                .require(0, as: String.self)
        else { throw NotFound() }
        try AuditLog.record(
            AuditEvent(
                tenant: nil, actor: actor, action: enabled ? "provider_channel.enable" : "provider_channel.disable",
                targetType: "provider_channel", targetID: id.postgresText, after: try JSONText(encoding: ["name": name]), at: now),
            in: tx)
        return name
    }
}
