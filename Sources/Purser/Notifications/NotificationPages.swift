// /t/{tenant}/notifications: a tenant admin's channels (add, test, remove, breaker state) and the
// delivery log; /account/notifications: which events a person wants by email, per tenant.
// A URL destination is shown as scheme and host only, once saved (the whole URL is sealed).
import Foundation
import HTTPServer
import Postgres

enum NotificationPages {
    struct ChannelRow: Encodable, Sendable {
        let id: String
        let kind: String
        let name: String
        let target: String
        let events: String
        let breaker: String
        let testLink: SiteURL
        let deleteLink: SiteURL
    }

    struct DeliveryRow: Encodable, Sendable {
        let created: String
        let kind: String
        let destination: String
        let event: String
        let subject: String
        let state: String
        let attempts: Int
        let error: String
    }

    struct EventOption: Encodable, Sendable {
        let name: String
        let description: String
        let checked: Bool
    }

    struct Page: TemplateModel {
        let formToken: String
        let tenantName: String
        /// Where the form adding a channel posts.
        let channelsLink: SiteURL
        let channels: [ChannelRow]
        let deliveries: [DeliveryRow]
        let events: [EventOption]
        let nextPage: SiteURL?
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, channels: NotificationChannels, database: Database) {

        @Sendable func render(
            _ ctx: TenantContext, message: String? = nil, errors: [FieldError] = [],
            status: HTTPStatus = .ok
        ) throws -> Response {
            let tenant = ctx.tenant
            let before = ctx.request.query["before"].flatMap(UUID.init(uuidString:))
            let page = try DeliveryLog.page(tenant: tenant.id, before: before, limit: 51, database: database)
            let addressesVisible = DestinationRedaction.addressesVisible(to: ctx.principal)
            let model = Page(
                formToken: ctx.visitor.formToken, tenantName: tenant.name, channelsLink: .channels(tenant.slug),
                channels: try channels.list(tenant: tenant.id).map {
                    ChannelRow(
                        id: $0.id.postgresText, kind: $0.kind, name: $0.name, target: $0.target,
                        events: $0.events.joined(separator: " "), breaker: $0.breaker,
                        testLink: .channelTest(tenant.slug, id: $0.id), deleteLink: .channelDelete(tenant.slug, id: $0.id))
                },
                deliveries: page.prefix(50).map {
                    DeliveryRow(
                        created: DisplayTime.format($0.createdAt), kind: $0.kind,
                        destination: DestinationRedaction.shown($0.destination, kind: $0.kind, addressesVisible: addressesVisible),
                        event: $0.event, subject: $0.subject, state: $0.state, attempts: $0.attempts,
                        error: $0.lastError ?? "")
                },
                events: NotificationEvents.catalogue.map { EventOption(name: $0.name, description: $0.description, checked: false) },
                nextPage: page.count > 50 ? SiteURL.notifications(tenant.slug).adding("before", page[49].id.postgresText) : nil,
                message: message, errors: errors)
            return site.page(
                "notifications/channels", title: "Notifications · \(tenant.name)", model, status: status,
                visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .notifications, permission: .tenantSettingsManage) { ctx in try render(ctx) }

        routes.tenant(.post, .channels, permission: .tenantSettingsManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let events = form.all("event")
                _ = try channels.create(
                    NewChannel(
                        kind: form["kind"] ?? "", name: form["name"] ?? "", target: form["target"] ?? "",
                        secret: form["secret"], events: events.contains("*") ? ["*"] : events),
                    tenant: ctx.tenant.id, by: ctx.actor)
                return try render(ctx, message: "Channel added.", status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.tenant(.post, .channelTest, permission: .tenantSettingsManage, options: .form) { ctx in
            _ = try ctx.form()
            try channels.sendTest(try ctx.request.uuidParameter("id"), tenant: ctx.tenant.id, tenantName: ctx.tenant.name)
            return try render(ctx, message: "A test notification is on its way; its outcome appears below.")
        }

        routes.tenant(.post, .channelDelete, permission: .tenantSettingsManage, options: .form) { ctx in
            _ = try ctx.form()
            try channels.delete(try ctx.request.uuidParameter("id"), tenant: ctx.tenant.id, by: ctx.actor)
            return try render(ctx, message: "Channel removed.")
        }

        // A person's own choice of emails, per tenant.
        routes.signedIn(.post, .accountNotifications, options: .form) { ctx in
            let form = try ctx.form()
            guard let tenant = ctx.visitor.tenants.first(where: { $0.slug == form["tenant"] }) else { throw HTTPError(.notFound) }
            let events = form.all("event").filter { NotificationEvents.isKnown($0) && $0 != "*" }
            try database.inTenant(tenant.id) { tx in
                try tx.query(
                    """
                    INSERT INTO notification_preferences (tenant_id, user_id, events) VALUES ($1, $2, $3)
                    ON CONFLICT (tenant_id, user_id) DO UPDATE SET events = EXCLUDED.events
                    """, [tenant.id, ctx.visitor.user, events])
            }
            return .redirect(to: SitePage.account.url.adding("changed", "notifications").at("notifications").path)
        }
    }

    /// The email choices of `visitor` in each of their tenants, for the account page.
    struct Preferences: Encodable, Sendable {
        let slug: String
        let name: String
        let events: [EventOption]
    }

    static func preferences(for visitor: Visitor, database: Database) throws -> [Preferences] {
        try visitor.tenants.map { tenant in
            let chosen = try database.inTenant(tenant.id) { tx in
                try tx.query(
                    "SELECT events FROM notification_preferences WHERE tenant_id = $1 AND user_id = $2",
                    [tenant.id, visitor.user]
                ).first?.require(0, as: [String].self)
            }
            return Preferences(
                slug: tenant.slug, name: tenant.name,
                events: NotificationEvents.catalogue
                    .filter { $0.name != "test" }
                    .map { EventOption(name: $0.name, description: $0.description, checked: chosen?.contains($0.name) ?? true) })
        }
    }
}
