// The pages around incidents: /t/{tenant}/runbooks (Markdown per alert name or service),
// /t/{tenant}/escalation (who is told, and after how long, when nobody acknowledges) and
// /staff/incidents (every tenant's open incidents, then the latest others).
import Foundation
import HTTPServer
import Postgres

enum IncidentSettingsPages {
    struct RunbookRow: Encodable, Sendable {
        let match: String
        let value: String
        let title: String
        let body: String
        let html: String
    }

    struct RunbooksPage: TemplateModel {
        let formToken: String
        let formLink: SiteURL
        let backLink: SiteURL
        let runbooks: [RunbookRow]
        let canManage: Bool
        var errors: [FieldError] = []
    }

    struct Choice: Encodable, Sendable {
        let value: String
        let label: String
        let checked: Bool
    }

    struct LevelForm: Encodable, Sendable {
        let index: Int
        let first: Bool
        let after: String
        let people: [Choice]
        let channels: [Choice]
    }

    struct EscalationPage: TemplateModel {
        let formToken: String
        let formLink: SiteURL
        let backLink: SiteURL
        let levels: [LevelForm]
        let canManage: Bool
        let hasChannels: Bool
        var errors: [FieldError] = []
    }

    struct StaffPage: TemplateModel {
        let open: [IncidentPages.Row]
        let recent: [IncidentPages.Row]
        /// The next page of open incidents (older ones), nil on the last.
        let nextLink: SiteURL?
        /// Set after the first page: a way back to the newest.
        let firstLink: SiteURL?
    }

    static func register(in routes: inout RouteTable, site: Site, store: IncidentStore, database: Database) {
        @Sendable func runbooks(_ ctx: TenantContext, errors: [FieldError] = []) throws -> Response {
            let all = try database.inTenant(ctx.tenant.id) { tx in try Runbooks.all(tx, tenant: ctx.tenant.id) }
            let model = RunbooksPage(
                formToken: ctx.visitor.formToken, formLink: .runbooks(ctx.tenant.slug), backLink: .incidents(ctx.tenant.slug),
                runbooks: all.map {
                    RunbookRow(match: $0.match.rawValue, value: $0.value, title: $0.title, body: $0.body, html: Markdown.html($0.body))
                },
                canManage: ctx.principal.can(.incidentsManage), errors: errors)
            return site.page(
                "incidents/runbooks", title: "Runbooks", model, status: errors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor,
                tenant: ctx.tenant)
        }

        routes.tenant(.get, .runbooks, permission: .incidentsRead) { ctx in try runbooks(ctx) }

        routes.tenant(
            .post, .runbooks, permission: .incidentsManage,
            options: RouteOptions(bodyLimit: 128 * 1024, accepts: ["application/x-www-form-urlencoded"])
        ) { ctx in
            let form = try ctx.form()
            do {
                try database.inTenant(ctx.tenant.id) { tx in
                    try Runbooks.save(
                        tx, tenant: ctx.tenant.id, match: form["match"] ?? "", value: form["value"] ?? "", title: form["title"] ?? "",
                        body: form["body"] ?? "", by: ctx.principal.user, actor: ctx.actor, at: ctx.world.now)
                }
                return .redirect(to: SiteURL.runbooks(ctx.tenant.slug).path)
            } catch let error as ValidationError {
                return try runbooks(ctx, errors: error.fieldErrors)
            }
        }

        @Sendable func escalation(_ ctx: TenantContext, shown: [EscalationLevel]? = nil, errors: [FieldError] = []) throws -> Response {
            let tenant = ctx.tenant.id
            let (levels, people, channels) = try database.inTenant(tenant) { tx in
                (
                    try shown ?? EscalationPolicies.levels(tx, tenant: tenant), try IncidentPages.people(tx, tenant: tenant),
                    try tx.query("SELECT id, name, kind FROM notification_channels WHERE tenant_id = $1 ORDER BY name", [tenant]).map {
                        (try $0.require(0, as: UUID.self), try $0.require(1, as: String.self) + " (" + $0.require(2, as: String.self) + ")")
                    }
                )
            }
            // The levels there are, and one empty level to add.
            let forms = (0..<min(levels.count + 1, EscalationPolicies.maxLevels)).map { index in
                let level = index < levels.count ? levels[index] : nil
                return LevelForm(
                    index: index, first: index == 0, after: level.map { String($0.afterMinutes) } ?? (index == 0 ? "0" : "15"),
                    people: people.map { Choice(value: $0.0.postgresText, label: $0.1, checked: level?.people.contains($0.0) ?? false) },
                    channels: channels.map {
                        Choice(value: $0.0.postgresText, label: $0.1, checked: level?.channels.contains($0.0) ?? false)
                    })
            }
            let model = EscalationPage(
                formToken: ctx.visitor.formToken, formLink: .escalationPolicy(ctx.tenant.slug), backLink: .incidents(ctx.tenant.slug),
                levels: forms, canManage: ctx.principal.can(.incidentsManage), hasChannels: !channels.isEmpty, errors: errors)
            return site.page(
                "incidents/escalation", title: "Escalation policy", model, status: errors.isEmpty ? .ok : .unprocessableContent,
                visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .escalationPolicy, permission: .incidentsRead) { ctx in try escalation(ctx) }

        routes.tenant(.post, .escalationPolicy, permission: .incidentsManage, options: .form) { ctx in
            let form = try ctx.form()
            // Levels in order; a level that names nobody and no channel is left out.
            var levels: [EscalationLevel] = []
            for index in 0..<EscalationPolicies.maxLevels {
                let people = form.all("people_\(index)").compactMap(UUID.init(uuidString:))
                let channels = form.all("channels_\(index)").compactMap(UUID.init(uuidString:))
                guard !people.isEmpty || !channels.isEmpty else { continue }
                let after = Int((form["after_\(index)"] ?? "").trimmingCharacters(in: .whitespaces)) ?? -1
                levels.append(EscalationLevel(afterMinutes: levels.isEmpty ? 0 : after, people: people, channels: channels))
            }
            do {
                try database.inTenant(ctx.tenant.id) { tx in
                    try EscalationPolicies.save(
                        tx, tenant: ctx.tenant.id, levels: levels, by: ctx.principal.user, actor: ctx.actor, at: ctx.world.now)
                }
                return .redirect(to: SiteURL.escalationPolicy(ctx.tenant.slug).path)
            } catch let error as ValidationError {
                return try escalation(ctx, shown: levels, errors: error.fieldErrors)
            }
        }

        routes.staff(.get, .staffIncidents, permission: .incidentsRead) { ctx in
            func rows(_ items: [(incident: Incident, slug: String)]) -> [IncidentPages.Row] {
                items.map { item in
                    var row = IncidentPages.row(item.incident, slug: item.slug)
                    row.tenant = item.slug
                    return row
                }
            }
            // Open incidents a page at a time after `cursor` (the last id of the page before), as the
            // tenant's incident list pages; an unreadable cursor starts at the first page.
            let cursor = ctx.request.query["cursor"].flatMap(UUID.init(uuidString:))
            let open = try store.list(tenant: nil, states: [.detected, .triaged, .mitigated], cursor: cursor, limit: 200)
            let recent = try store.list(tenant: nil, states: [.resolved, .reviewed], limit: 50)
            return site.page(
                "incidents/staff", title: "Incidents",
                StaffPage(
                    open: rows(open.items), recent: rows(recent.items),
                    nextLink: open.next.map { SitePage.staffIncidents.url.adding("cursor", $0.postgresText) },
                    firstLink: cursor == nil ? nil : SitePage.staffIncidents.url),
                visitor: ctx.visitor)
        }
    }
}
