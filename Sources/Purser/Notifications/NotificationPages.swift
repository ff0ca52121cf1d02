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
        let slug: String
        let tenantName: String
        let channels: [ChannelRow]
        let deliveries: [DeliveryRow]
        let events: [EventOption]
        let nextPage: String?
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, channels: NotificationChannels, database: Database) {

        @Sendable func admin(_ request: Request) throws -> (Visitor, TenantMembership) {
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            try visitor.principal(in: tenant).require(.tenantSettingsManage)
            return (visitor, tenant)
        }

        @Sendable func render(_ request: Request, _ visitor: Visitor, _ tenant: TenantMembership, message: String? = nil,
                              errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let before = request.query["before"].flatMap(UUID.init(uuidString:))
            let page = try DeliveryLog.page(tenant: tenant.id, before: before, limit: 51, database: database)
            let addressesVisible = DestinationRedaction.addressesVisible(to: visitor.principal(in: tenant))
            let model = Page(
                formToken: visitor.formToken, slug: tenant.slug, tenantName: tenant.name,
                channels: try channels.list(tenant: tenant.id).map {
                    ChannelRow(id: $0.id.postgresText, kind: $0.kind, name: $0.name, target: $0.target,
                               events: $0.events.joined(separator: " "), breaker: $0.breaker)
                },
                deliveries: page.prefix(50).map {
                    DeliveryRow(created: DisplayTime.format($0.createdAt), kind: $0.kind,
                                destination: DestinationRedaction.shown($0.destination, kind: $0.kind, addressesVisible: addressesVisible),
                                event: $0.event, subject: $0.subject, state: $0.state, attempts: $0.attempts,
                                error: $0.lastError ?? "")
                },
                events: NotificationEvents.catalogue.map { EventOption(name: $0.name, description: $0.description, checked: false) },
                nextPage: page.count > 50 ? "/t/\(tenant.slug)/notifications?before=\(page[49].id.postgresText)" : nil,
                message: message, errors: errors)
            return site.page("notifications/channels", title: "Notifications · \(tenant.name)", model, status: status,
                             visitor: visitor, tenant: tenant)
        }

        routes.add(.get, "/t/{tenant}/notifications", access: .permission(.tenantSettingsManage)) { request in
            let (visitor, tenant) = try admin(request)
            return try render(request, visitor, tenant)
        }

        routes.add(.post, "/t/{tenant}/notifications/channels", access: .permission(.tenantSettingsManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            let form = try auth.form(request, from: visitor)
            do {
                let events = form.all("event")
                _ = try channels.create(NewChannel(kind: form["kind"] ?? "", name: form["name"] ?? "", target: form["target"] ?? "",
                                                   secret: form["secret"], events: events.contains("*") ? ["*"] : events),
                                        tenant: tenant.id, by: visitor.user, origin: RequestOrigin(request))
                return try render(request, visitor, tenant, message: "Channel added.", status: .created)
            } catch let error as ValidationError {
                return try render(request, visitor, tenant, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.add(.post, "/t/{tenant}/notifications/channels/{id}/test", access: .permission(.tenantSettingsManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            _ = try auth.form(request, from: visitor)
            try channels.sendTest(try request.uuidParameter("id"), tenant: tenant.id, tenantName: tenant.name)
            return try render(request, visitor, tenant, message: "A test notification is on its way; its outcome appears below.")
        }

        routes.add(.post, "/t/{tenant}/notifications/channels/{id}/delete", access: .permission(.tenantSettingsManage), options: .form) { request in
            let (visitor, tenant) = try admin(request)
            _ = try auth.form(request, from: visitor)
            try channels.delete(try request.uuidParameter("id"), tenant: tenant.id, by: visitor.user, origin: RequestOrigin(request))
            return try render(request, visitor, tenant, message: "Channel removed.")
        }

        // A person's own choice of emails, per tenant.
        routes.add(.post, "/account/notifications", access: .signedIn, options: .form) { request in
            let visitor = try auth.signedIn(request)
            let form = try auth.form(request, from: visitor)
            guard let tenant = visitor.tenants.first(where: { $0.slug == form["tenant"] }) else { throw HTTPError(.notFound) }
            let events = form.all("event").filter { NotificationEvents.isKnown($0) && $0 != "*" }
            try database.inTenant(tenant.id) { tx in
                try tx.query("""
                    INSERT INTO notification_preferences (tenant_id, user_id, events) VALUES ($1, $2, $3)
                    ON CONFLICT (tenant_id, user_id) DO UPDATE SET events = EXCLUDED.events
                    """, [tenant.id, visitor.user, events])
            }
            return .redirect(to: "/account?changed=notifications#notifications")
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
                try tx.query("SELECT events FROM notification_preferences WHERE tenant_id = $1 AND user_id = $2",
                             [tenant.id, visitor.user]).first?.require(0, as: [String].self)
            }
            return Preferences(slug: tenant.slug, name: tenant.name, events: NotificationEvents.catalogue
                .filter { $0.name != "test" }
                .map { EventOption(name: $0.name, description: $0.description, checked: chosen?.contains($0.name) ?? true) })
        }
    }
}
