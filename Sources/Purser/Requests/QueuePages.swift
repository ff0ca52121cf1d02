// The staff queue across tenants: filters (tenant, type, priority, state, assignee, group, SLA
// breached or escalated; read by RequestFilter, as the API reads them), newest first or SLA due soonest, keyset paging, saved views, and bulk
// assignment or priority for the rows ticked.
import Foundation
import HTTPServer

enum QueuePages {
    struct Row: Sendable {
        let key: String
        let link: SiteURL
        let number: String
        let tenant: String
        let subject: String
        let priority: String
        let state: String
        let assignee: String
        let sla: String
        let tone: String
        let updated: String
    }

    struct ViewLink: Encodable, Sendable {
        let id: String
        let name: String
        let link: SiteURL
    }

    struct Page: TemplateModel {
        let formToken: String
        let queueLink = SitePage.staffRequests.url
        let viewsLink = SitePage.staffRequestViews.url
        let bulkLink = SitePage.staffRequestsBulk.url
        /// The table's rows, written directly (see `rowsHTML`).
        let rowsHTML: String
        let tenant: String
        let states: [RequestPages.Option]
        let priorities: [RequestPages.Option]
        let types: [RequestPages.Option]
        let assignees: [RequestPages.Option]
        let groups: [RequestPages.Option]
        let breached: [RequestPages.Option]
        let escalated: [RequestPages.Option]
        let sorts: [RequestPages.Option]
        let bulkAssignees: [RequestPages.Option]
        let views: [ViewLink]
        let here: String
        let nextPage: SiteURL?
        var errors: [FieldError] = []
    }

    /// The queue's filters from the query string (RequestFilter, the API's names and the older
    /// ones), and what was wrong with them. The queue opens on the active requests.
    static func filters(_ query: QueryParameters, visitor: Visitor) -> (RequestFilter, [FieldError]) {
        RequestFilter.parse(query, for: .page, viewer: visitor.user, states: .active)
    }

    static func options(_ values: [(String, String)], selected: String?) -> [RequestPages.Option] {
        values.map { RequestPages.Option(value: $0.0, label: $0.1, selected: $0.0 == (selected ?? "")) }
    }

    /// The SLA column: the soonest running clock's time left, or overdue, or how it ended.
    static func slaSummary(_ clocks: RequestClocks, now: Date) -> (text: String, tone: String) {
        let running = clocks.clocks.values.filter { $0.state == .running && $0.dueAt != nil }
        if let clock = running.min(by: { $0.dueAt! < $1.dueAt! }), let due = clock.dueAt {
            if due <= now { return ("overdue \(DisplayTime.duration(now.timeIntervalSince(due)))", "late") }
            return ("\(DisplayTime.duration(due.timeIntervalSince(now))) left", clock.warnedAt == nil ? "ok" : "warn")
        }
        if clocks.clocks.values.contains(where: { $0.state == .paused }) { return ("paused", "ok") }
        if clocks.isBreached { return ("missed", "late") }
        return clocks.clocks.isEmpty ? ("—", "ok") : ("met", "done")
    }

    /// The queue's rows as HTML, written here rather than by Mustache: fifty rows of ten fields
    /// are most of the page, and the template engine's per-field lookups cost five times this.
    static func rowsHTML(_ rows: [Row]) -> String {
        guard !rows.isEmpty else { return #"<tr><td colspan="9" class="muted">Nothing in the queue.</td></tr>"# }
        let e = Markdown.escape
        var html = ""
        html.reserveCapacity(rows.count * 600)
        for row in rows {
            html += #"<tr><td><input type="checkbox" name="request" value="\#(e(row.key))" aria-label="Select \#(e(row.number))"></td>"#
            html += #"<td><a href="\#(e(row.link.path))">\#(e(row.number))</a></td><td>\#(e(row.tenant))</td><td>\#(e(row.subject))</td>"#
            html += #"<td><span class="badge">\#(e(row.priority))</span></td><td>\#(e(row.state))</td><td>\#(e(row.assignee))</td>"#
            html += #"<td class="tone-\#(e(row.tone))">\#(e(row.sla))</td><td>\#(e(row.updated))</td></tr>"# + "\n"
        }
        return html
    }

    static func register(in routes: inout RouteTable, site: Site, desk: RequestDesk, views: SavedViews) {
        // Inline first: a remembered visitor with a remembered page is answered on the I/O thread;
        // anything that needs the database moves to a worker.
        routes.staff(.get, .staffRequests, permission: .requestsRead, options: .inlineFirst) { ctx in
            let (request, visitor) = (ctx.request, ctx.visitor)
            // A page already rendered for this session and filter is served while no request has
            // changed anywhere and the minute is the same (its times left are shown to the minute).
            // The page is drawn from the filter alone, so two spellings of one filter share it; a
            // query with mistakes is never remembered or served from memory.
            let (filter, errors) = filters(request.query, visitor: visitor)
            let now = ctx.world.clock.now
            let minute = Int(now.timeIntervalSince1970 / 60)
            let key = errors.isEmpty ? "queue|\(visitor.session.id.postgresText)|\(minute)|" + filter.key : nil
            let lists = desk.store.lists
            if let key, let page = lists?.answer(key, tenant: RequestListCache.everyTenant) {
                var response = Response(status: .ok, contentType: "text/html; charset=utf-8", body: page)
                response.headers.set("Cache-Control", "no-store")
                return response
            }
            guard request.mayBlock else { throw WouldBlock() }
            let generation = lists?.generation(of: RequestListCache.everyTenant)
            let response = try queuePage(filter, errors, visitor, now: now)
            if response.status == .ok, let key, let generation {
                lists?.keep(response.bodyBytes, for: key, tenant: RequestListCache.everyTenant, generation: generation)
            }
            return response
        }

        /// The queue as it stands at `now` (the minute its remembered copy is kept under).
        /// `refused`: what was wrong with a bulk change, shown above the queue (which still lists).
        @Sendable func queuePage(
            _ filter: RequestFilter, _ errors: [FieldError], _ visitor: Visitor, now: Date, refused: [FieldError] = []
        ) throws -> Response {
            let page = errors.isEmpty ? try desk.store.queue(filter.query, limit: 51) : []
            let rows = page.prefix(50).map { entry in
                let sla = slaSummary(entry.request.clocks, now: now)
                return Row(
                    key: entry.request.id.postgresText, link: .request(entry.tenantSlug, number: entry.request.number),
                    number: entry.request.number, tenant: entry.tenantName, subject: entry.request.subject,
                    priority: entry.request.priority, state: entry.request.state.replacingOccurrences(of: "_", with: " "),
                    assignee: entry.request.assignee?.name ?? "—", sla: sla.text, tone: sla.tone,
                    updated: DisplayTime.format(entry.request.updatedAt))
            }
            // Forms and links write the filter in the API's names, whatever names it came in.
            let next = page.count > 50 ? filter.nextLink(SitePage.staffRequests.url, after: page[49].request.id, states: .active) : nil
            let (staff, groups, saved) = try desk.groups.choices(views: views, user: visitor.user)
            return site.page(
                "requests/queue", title: "Request queue",
                Page(
                    formToken: visitor.formToken, rowsHTML: rowsHTML(Array(rows)), tenant: filter.tenant ?? "",
                    states: options(
                        [("active", "active"), ("any", "any")]
                            + RequestState.allCases.map {
                                ($0.rawValue, $0.rawValue.replacingOccurrences(of: "_", with: " "))
                            }, selected: filter.states.value),
                    priorities: options(
                        [("", "any")] + RequestPriority.allCases.map { ($0.rawValue, $0.rawValue) }, selected: filter.priority?.rawValue),
                    types: options(
                        [("", "any")] + RequestType.allCases.map { ($0.rawValue, $0.rawValue) }, selected: filter.type?.rawValue),
                    assignees: options(
                        [("", "anyone"), ("me", "me"), ("none", "nobody")] + staff.map { ($0.id.postgresText, $0.name) },
                        selected: filter.assignee?.value),
                    groups: options([("", "any")] + groups.map { ($0.id.postgresText, $0.name) }, selected: filter.group?.postgresText),
                    breached: options([("", "any"), ("true", "breached")], selected: filter.breached ? "true" : nil),
                    escalated: options([("", "any"), ("true", "escalated")], selected: filter.escalated ? "true" : nil),
                    sorts: options([("newest", "newest first"), ("due", "SLA due soonest")], selected: filter.sort.rawValue),
                    bulkAssignees: options([("", "—")] + staff.map { ($0.id.postgresText, $0.name) }, selected: nil),
                    views: saved.map {
                        ViewLink(
                            id: $0.id.postgresText, name: $0.name,
                            link: SitePage.staffRequests.url.adding(QueryParameters(parsing: $0.query)))
                    },
                    here: filter.pageQuery(states: .active), nextPage: next, errors: errors + refused),
                status: (errors + refused).isEmpty ? .ok : .unprocessableContent, visitor: visitor)
        }

        // Bulk: assign the ticked requests to someone and/or set their priority; each request is
        // changed (and audited) on its own, and the page says how many changed.
        routes.staff(.post, .staffRequestsBulk, permission: .requestsManage, options: .form) { ctx in
            let form = try ctx.form()
            let ids = form.pairs.filter { $0.name == "request" }.compactMap { UUID(uuidString: $0.value) }
            var change = RequestStore.Change()
            var refused: [FieldError] = []
            if let assignee = form["assignee"], !assignee.isEmpty {
                change.assigneeID = UUID(uuidString: assignee)
                if change.assigneeID == nil { refused.append(FieldError(field: "assignee", detail: "choose someone from the list")) }
            }
            if let priority = form["priority"], !priority.isEmpty {
                change.priority = priority
                if RequestPriority(rawValue: priority) == nil {
                    refused.append(FieldError(field: "priority", detail: "choose one of P1, P2, P3, P4"))
                }
            }
            if ids.isEmpty { refused.append(FieldError(field: "request", detail: "tick the requests to change")) }
            if refused.isEmpty && change.assigneeID == nil && change.priority == nil {
                refused.append(FieldError(field: "assignee", detail: "choose an assignee or a priority to set"))
            }
            let back = SitePage.staffRequests.url.adding(QueryParameters(parsing: form["back"] ?? "")).path
            // Nothing chosen used to send the queue back unchanged without a word.
            if !refused.isEmpty {
                let (filter, errors) = filters(QueryParameters(parsing: form["back"] ?? ""), visitor: ctx.visitor)
                return try queuePage(filter, errors, ctx.visitor, now: ctx.world.now, refused: refused)
            }
            for id in ids.prefix(100) {
                guard let tenant = try desk.store.tenant(of: id) else { continue }
                _ = try desk.store.update(id, tenant: tenant, change: change, expected: nil, principal: ctx.principal, actor: ctx.actor)
            }
            return .redirect(to: back)
        }

        routes.staff(.post, .staffRequestViews, options: .form) { ctx in
            let form = try ctx.form()
            let query = QueryParameters(parsing: form["query"] ?? "")
            if let delete = form["delete"].flatMap(UUID.init(uuidString:)) {
                try views.delete(delete, user: ctx.visitor.user)
                return .redirect(to: SitePage.staffRequests.url.path)
            }
            try views.save(name: form["name"] ?? "", query: query, user: ctx.visitor.user)
            return .redirect(to: SitePage.staffRequests.url.adding(query).path)
        }
    }
}
