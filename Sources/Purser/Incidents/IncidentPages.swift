// The incident pages: /t/{tenant}/incidents (open and recent incidents, and a form to open one),
// /t/{tenant}/incidents/{id} (state, people, runbooks, timeline, updates and notes, postmortem,
// with the buttons its viewer may use) and /t/{tenant}/incidents/{id}/acknowledge, where e-mail
// links land: its GET only shows a confirmation, its POST acknowledges. A refusal is shown on the
// page, not as an error page.
import Foundation
import HTTPServer
import Postgres

enum IncidentPages {
    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        var selected = false
    }

    struct Row: Encodable, Sendable {
        let link: SiteURL
        let title: String
        let severity: String
        let state: String
        let service: String
        let opened: String
        let acknowledged: Bool
        let request: String
        var tenant: String? = nil
    }

    struct IndexPage: TemplateModel {
        let formToken: String
        let formLink: SiteURL
        let runbooksLink: SiteURL
        let escalationLink: SiteURL
        let rows: [Row]
        let nextLink: SiteURL?
        let showingAll: Bool
        let allLink: SiteURL
        let openLink: SiteURL
        let canManage: Bool
        let severities: [Option]
        var values = NewValues()
        var errors: [FieldError] = []
    }

    struct NewValues: Encodable, Sendable {
        var title = ""
        var service = ""
        var description = ""
    }

    struct Entry: Encodable, Sendable {
        let when: String
        let kind: String
        let actor: String?
        let html: String?
        let text: String?
        let isInternal: Bool
    }

    struct RunbookView: Encodable, Sendable {
        let title: String
        let match: String
        let html: String
    }

    struct ActionView: Encodable, Sendable {
        let id: String
        let title: String
        let owner: String
        let due: String
        let done: Bool
    }

    struct PostmortemView: Encodable, Sendable {
        let summary: String
        let impact: String
        let timeline: String
        let rootCause: String
        let wentWell: String
        let required: Bool
        let complete: Bool
        let actions: [ActionView]
    }

    struct ShowPage: TemplateModel {
        let formToken: String
        let backLink: SiteURL
        let requestLink: SiteURL
        let title: String
        let severity: String
        let state: String
        let service: String
        let source: String
        let request: String
        let requestState: String
        let commander: String?
        let responders: String
        let opened: String
        let acknowledged: String?
        let escalationLevel: Int
        let acknowledgeLink: SiteURL?
        let updateLink: SiteURL?
        let commentsLink: SiteURL?
        let postmortemLink: SiteURL?
        let actionsLink: SiteURL?
        let moves: [Option]
        let severities: [Option]
        let people: [Option]
        /// The same people, the incident's responders selected.
        let responderOptions: [Option]
        let version: String
        let canNote: Bool
        let runbooks: [RunbookView]
        let timeline: [Entry]
        let postmortem: PostmortemView
        var errors: [FieldError] = []
    }

    struct AcknowledgePage: TemplateModel {
        let formToken: String
        let formLink: SiteURL?
        let incidentLink: SiteURL
        let title: String
        let severity: String
        let state: String
        let acknowledged: String?
        var errors: [FieldError] = []
    }

    static func row(_ incident: Incident, slug: String) -> Row {
        Row(
            link: .incident(slug, id: incident.id), title: incident.title, severity: incident.severity.rawValue,
            state: incident.state.rawValue,
            service: incident.service, opened: DisplayTime.format(incident.openedAt), acknowledged: incident.acknowledgedAt != nil,
            request: incident.requestNumber)
    }

    /// A refusal shown on the form: a bad value, a refused move, a stale version.
    static func messages(_ error: Error) -> [FieldError]? {
        if let error = error as? ValidationError { return error.fieldErrors }
        if let error = error as? IncidentChanged { return [FieldError(field: "version", detail: error.detail ?? "changed")] }
        if let error = error as? Forbidden { return [FieldError(field: "permission", detail: error.detail ?? "forbidden")] }
        return nil
    }

    /// Active members of the tenant and active staff: who can command, respond or own an action.
    static func people(_ tx: Connection, tenant: UUID) throws -> [(UUID, String)] {
        try tx.query(
            """
            SELECT u.id, u.name FROM users u WHERE \(Outbox.belongs("u", tenant: "$1")) ORDER BY u.staff_role IS NOT NULL, u.name LIMIT 500
            """, [tenant]
        ).map { (try $0.require(0), try $0.require(1)) }
    }

    static func register(in routes: inout RouteTable, site: Site, store: IncidentStore, database: Database, comments: RequestComments) {
        @Sendable func index(_ ctx: TenantContext, values: NewValues = NewValues(), severity: String = "SEV2", errors: [FieldError] = [])
            throws -> Response
        {
            let tenant = ctx.tenant, query = ctx.request.query
            let showingAll = query["view"] == "all"
            let cursor = query["cursor"].flatMap(UUID.init(uuidString:))
            let page = try store.list(
                tenant: tenant.id, states: showingAll ? nil : [.detected, .triaged, .mitigated], cursor: cursor, limit: 50)
            let model = IndexPage(
                formToken: ctx.visitor.formToken, formLink: .incidents(tenant.slug), runbooksLink: .runbooks(tenant.slug),
                escalationLink: .escalationPolicy(tenant.slug), rows: page.items.map { row($0.incident, slug: tenant.slug) },
                nextLink: page.next.map {
                    SiteURL.incidents(tenant.slug).adding("view", showingAll ? "all" : nil).adding("cursor", $0.postgresText)
                },
                showingAll: showingAll, allLink: SiteURL.incidents(tenant.slug).adding("view", "all"), openLink: .incidents(tenant.slug),
                canManage: ctx.principal.can(.incidentsManage),
                severities: IncidentSeverity.allCases.map {
                    Option(value: $0.rawValue, label: $0.rawValue, selected: $0.rawValue == severity)
                },
                values: values, errors: errors)
            return site.page(
                "incidents/index", title: "Incidents", model, status: errors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor,
                tenant: tenant)
        }

        routes.tenant(.get, .incidents, permission: .incidentsRead) { ctx in try index(ctx) }

        routes.tenant(.post, .incidents, permission: .incidentsManage, options: .form) { ctx in
            let form = try ctx.form()
            let values = NewValues(title: form["title"] ?? "", service: form["service"] ?? "", description: form["description"] ?? "")
            do {
                let opened = try store.open(
                    NewIncident(
                        title: values.title, severity: form["severity"] ?? "", service: values.service, description: values.description),
                    tenant: ctx.tenant.id, principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.incident(ctx.tenant.slug, id: opened.id).path)
            } catch {
                guard let errors = messages(error) else { throw error }
                return try index(ctx, values: values, severity: form["severity"] ?? "", errors: errors)
            }
        }

        @Sendable func show(_ ctx: TenantContext, errors: [FieldError] = []) throws -> Response {
            let tenant = ctx.tenant, now = ctx.world.now
            guard let id = UUID(uuidString: try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
            let staffView = ctx.principal.can(.requestsManage)
            let found = try database.inTenant(tenant.id) {
                tx -> (Incident, [IncidentTimelineEntry], [Runbook], Postmortem, [(UUID, String)])? in
                guard let incident = try IncidentStore.load(tx, tenant: tenant.id, id: id) else { return nil }
                return (
                    incident,
                    try IncidentTimeline.entries(tx, tenant: tenant.id, incident: incident, includeInternal: staffView, now: now),
                    try Runbooks.matching(tx, tenant: tenant.id, incident: incident.id, service: incident.service),
                    try Postmortems.load(tx, tenant: tenant.id, incident: incident.id) ?? Postmortem(),
                    ctx.principal.can(.incidentsManage) ? try people(tx, tenant: tenant.id) : []
                )
            }
            guard let (incident, entries, runbooks, postmortem, people) = found else { throw HTTPError(.notFound) }
            let manage = ctx.principal.can(.incidentsManage)
            let slug = tenant.slug
            let model = ShowPage(
                formToken: ctx.visitor.formToken, backLink: .incidents(slug), requestLink: .request(slug, number: incident.requestNumber),
                title: incident.title, severity: incident.severity.rawValue, state: incident.state.rawValue, service: incident.service,
                source: incident.source.rawValue, request: incident.requestNumber, requestState: incident.requestState,
                commander: incident.commander?.name, responders: incident.responders.map(\.name).joined(separator: ", "),
                opened: DisplayTime.format(incident.openedAt),
                acknowledged: incident.acknowledgedAt.map { DisplayTime.format($0) + " by " + (incident.acknowledgedBy ?? "") },
                escalationLevel: incident.escalationLevel,
                acknowledgeLink: manage && incident.state.isOpen && incident.acknowledgedAt == nil
                    ? .incidentAcknowledge(slug, id: id) : nil,
                updateLink: manage ? .incidentUpdate(slug, id: id) : nil,
                commentsLink: manage ? .incidentComments(slug, id: id) : nil,
                postmortemLink: manage ? .incidentPostmortem(slug, id: id) : nil,
                actionsLink: manage ? .incidentActions(slug, id: id) : nil,
                moves: incident.state.next.map { Option(value: $0.rawValue, label: $0.rawValue) },
                severities: IncidentSeverity.allCases.map {
                    Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == incident.severity)
                },
                people: people.map { Option(value: $0.0.postgresText, label: $0.1, selected: $0.0 == incident.commander?.id) },
                responderOptions: people.map { person in
                    Option(value: person.0.postgresText, label: person.1, selected: incident.responders.contains { $0.id == person.0 })
                },
                version: incident.etag, canNote: staffView,
                runbooks: runbooks.map {
                    RunbookView(title: $0.title, match: "\($0.match.rawValue) \($0.value)", html: Markdown.html($0.body))
                },
                timeline: entries.map {
                    let written = $0.kind == "update" || $0.kind == "internal_note"
                    return Entry(
                        when: DisplayTime.format($0.at), kind: $0.kind.replacingOccurrences(of: "_", with: " "), actor: $0.actor,
                        html: written ? Markdown.html($0.detail) : nil, text: written ? nil : $0.detail, isInternal: $0.isInternal)
                },
                postmortem: PostmortemView(
                    summary: postmortem.summary, impact: postmortem.impact, timeline: postmortem.timeline, rootCause: postmortem.rootCause,
                    wentWell: postmortem.wentWell, required: incident.severity.needsPostmortem, complete: postmortem.isComplete,
                    actions: postmortem.actions.map {
                        ActionView(id: $0.id.postgresText, title: $0.title, owner: $0.owner.name, due: $0.dueOn, done: $0.doneAt != nil)
                    }),
                errors: errors)
            return site.page(
                "incidents/show", title: incident.title, model, status: errors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor,
                tenant: tenant)
        }

        routes.tenant(.get, .incident, permission: .incidentsRead) { ctx in try show(ctx) }

        /// A change on one incident: done, back to its page; refused, its page with the message.
        @Sendable func change(_ ctx: TenantContext, _ body: (UUID, QueryParameters) throws -> Void) throws -> Response {
            let form = try ctx.form()
            guard let id = UUID(uuidString: try ctx.request.parameter("id")), try store.find(id, tenant: ctx.tenant.id) != nil else {
                throw HTTPError(.notFound)
            }
            do {
                try body(id, form)
                return .redirect(to: SiteURL.incident(ctx.tenant.slug, id: id).path)
            } catch {
                guard let errors = messages(error) else { throw error }
                return try show(ctx, errors: errors)
            }
        }

        routes.tenant(.post, .incidentUpdate, permission: .incidentsManage, options: .form) { ctx in
            try change(ctx) { id, form in
                let commander = (form["commander_id"] ?? "").isEmpty ? nil : UUID(uuidString: form["commander_id"]!)
                if !(form["commander_id"] ?? "").isEmpty && commander == nil {
                    throw ValidationError(field: "commander_id", "choose someone from the list")
                }
                let responders = form.all("responders").compactMap(UUID.init(uuidString:))
                var change = IncidentChange(
                    severity: (form["severity"] ?? "").isEmpty ? nil : form["severity"],
                    state: (form["state"] ?? "").isEmpty ? nil : form["state"], commanderID: commander,
                    responders: form["people_form"] == "1" ? responders : nil)
                // The people form shows the current commander chosen: '—' chosen there means nobody.
                change.clearsCommander = form["people_form"] == "1" && commander == nil
                _ = try store.change(
                    id, tenant: ctx.tenant.id, change: change, expected: form["version"], principal: ctx.principal, actor: ctx.actor)
            }
        }

        routes.tenant(.post, .incidentComments, permission: .incidentsManage, options: .form) { ctx in
            try change(ctx) { id, form in
                guard let incident = try store.find(id, tenant: ctx.tenant.id) else { throw HTTPError(.notFound) }
                _ = try comments.add(
                    to: incident.requestID, tenant: ctx.tenant.id, body: form["body"] ?? "", isInternal: form["internal"] == "1",
                    principal: ctx.principal, actor: ctx.actor)
            }
        }

        routes.tenant(
            .post, .incidentPostmortem, permission: .incidentsManage,
            options: RouteOptions(bodyLimit: 128 * 1024, accepts: ["application/x-www-form-urlencoded"])
        ) { ctx in
            try change(ctx) { id, form in
                try database.inTenant(ctx.tenant.id) { tx in
                    try Postmortems.save(
                        tx, tenant: ctx.tenant.id, incident: id,
                        text: PostmortemText(
                            summary: form["summary"] ?? "", impact: form["impact"] ?? "", timeline: form["timeline"] ?? "",
                            rootCause: form["root_cause"] ?? "", wentWell: form["went_well"] ?? ""), by: ctx.principal.user,
                        actor: ctx.actor,
                        at: ctx.world.now)
                }
            }
        }

        routes.tenant(.post, .incidentActions, permission: .incidentsManage, options: .form) { ctx in
            try change(ctx) { id, form in
                try database.inTenant(ctx.tenant.id) { tx in
                    if let action = form["action_id"] {
                        guard let action = UUID(uuidString: action) else { throw ValidationError(field: "action", "no such action item") }
                        try Postmortems.setDone(
                            tx, tenant: ctx.tenant.id, incident: id, action: action, done: form["done"] == "1", by: ctx.principal.user,
                            actor: ctx.actor, at: ctx.world.now)
                    } else {
                        guard let owner = UUID(uuidString: form["owner_id"] ?? "") else {
                            throw ValidationError(field: "owner_id", "choose the action's owner")
                        }
                        try Postmortems.addAction(
                            tx, tenant: ctx.tenant.id, incident: id,
                            item: PostmortemActionInput(title: form["title"] ?? "", ownerID: owner, dueOn: form["due_on"] ?? ""),
                            by: ctx.principal.user, actor: ctx.actor, at: ctx.world.now)
                    }
                }
            }
        }

        @Sendable func confirm(_ ctx: TenantContext, errors: [FieldError] = []) throws -> Response {
            guard let id = UUID(uuidString: try ctx.request.parameter("id")), let incident = try store.find(id, tenant: ctx.tenant.id)
            else {
                throw HTTPError(.notFound)
            }
            let model = AcknowledgePage(
                formToken: ctx.visitor.formToken,
                formLink: incident.state.isOpen && incident.acknowledgedAt == nil ? .incidentAcknowledge(ctx.tenant.slug, id: id) : nil,
                incidentLink: .incident(ctx.tenant.slug, id: id), title: incident.title, severity: incident.severity.rawValue,
                state: incident.state.rawValue,
                acknowledged: incident.acknowledgedAt.map { DisplayTime.format($0) + " by " + (incident.acknowledgedBy ?? "") },
                errors: errors)
            return site.page(
                "incidents/acknowledge", title: "Acknowledge incident", model, status: errors.isEmpty ? .ok : .unprocessableContent,
                visitor: ctx.visitor, tenant: ctx.tenant)
        }

        // Where paging e-mails link: a GET shows what would be acknowledged and never acknowledges.
        routes.tenant(.get, .incidentAcknowledge, permission: .incidentsManage) { ctx in try confirm(ctx) }

        routes.tenant(.post, .incidentAcknowledge, permission: .incidentsManage, options: .form) { ctx in
            _ = try ctx.form()
            guard let id = UUID(uuidString: try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
            do {
                _ = try store.acknowledge(id, tenant: ctx.tenant.id, principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.incident(ctx.tenant.slug, id: id).path)
            } catch {
                guard let errors = messages(error) else { throw error }
                return try confirm(ctx, errors: errors)
            }
        }
    }
}
