// The staff queue across tenants: filters (tenant, type, priority, state, assignee, group, SLA
// breached or escalated), newest first or SLA due soonest, keyset paging, saved views, and bulk
// assignment or priority for the rows ticked.
import Foundation
import HTTPServer

enum QueuePages {
    struct Row: Sendable {
        let key: String
        let link: String
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
        let link: String
    }

    struct Page: TemplateModel {
        let formToken: String
        /// The table's rows, written directly (see `rowsHTML`).
        let rowsHTML: String
        let tenant: String
        let states: [RequestPages.Option]
        let priorities: [RequestPages.Option]
        let types: [RequestPages.Option]
        let assignees: [RequestPages.Option]
        let groups: [RequestPages.Option]
        let slas: [RequestPages.Option]
        let sorts: [RequestPages.Option]
        let bulkAssignees: [RequestPages.Option]
        let views: [ViewLink]
        let here: String
        let nextPage: String?
        var errors: [FieldError] = []
    }

    /// The queue's filters from the query string, and what was wrong with them.
    static func filters(_ query: QueryParameters, visitor: Visitor) -> (RequestQuery, [FieldError]) {
        var filter = RequestQuery()
        var errors: [FieldError] = []
        switch query["state"] ?? "active" {
        case "active": filter.states = ["new", "open", "pending_customer"]
        case "any", "": break
        case let state where RequestState(rawValue: state) != nil: filter.states = [state]
        default: errors.append(FieldError(field: "state", detail: "choose a state"))
        }
        if let priority = query["priority"], !priority.isEmpty {
            if RequestPriority(rawValue: priority) != nil { filter.priority = priority }
            else { errors.append(FieldError(field: "priority", detail: "choose P1–P4")) }
        }
        if let type = query["type"], !type.isEmpty {
            if RequestType(rawValue: type) != nil { filter.type = type }
            else { errors.append(FieldError(field: "type", detail: "choose a type")) }
        }
        switch query["assignee"] ?? "" {
        case "": break
        case "mine": filter.assignee = visitor.user
        case "unassigned": filter.unassigned = true
        case let id:
            if let id = UUID(uuidString: id) { filter.assignee = id }
            else { errors.append(FieldError(field: "assignee", detail: "choose a person")) }
        }
        // The older spellings, kept for links people saved.
        if query["mine"] == "1" { filter.assignee = visitor.user }
        if query["unassigned"] == "1" { filter.unassigned = true }
        if let group = query["group"], !group.isEmpty {
            if let id = UUID(uuidString: group) { filter.group = id }
            else { errors.append(FieldError(field: "group", detail: "choose a group")) }
        }
        switch query["sla"] ?? "" {
        case "": break
        case "breached": filter.breached = true
        case "escalated": filter.escalated = true
        default: errors.append(FieldError(field: "sla", detail: "choose breached or escalated"))
        }
        if let sort = query["sort"], !sort.isEmpty {
            if let order = RequestQuery.Sort(rawValue: sort) { filter.sort = order }
            else { errors.append(FieldError(field: "sort", detail: "sort by newest or due")) }
        }
        filter.tenantSlug = query["tenant"].flatMap { $0.isEmpty ? nil : $0 }
        filter.after = query["after"].flatMap(UUID.init(uuidString:))
        return (filter, errors)
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
            html += #"<td><a href="\#(e(row.link))">\#(e(row.number))</a></td><td>\#(e(row.tenant))</td><td>\#(e(row.subject))</td>"#
            html += #"<td><span class="badge">\#(e(row.priority))</span></td><td>\#(e(row.state))</td><td>\#(e(row.assignee))</td>"#
            html += #"<td class="tone-\#(e(row.tone))">\#(e(row.sla))</td><td>\#(e(row.updated))</td></tr>"# + "\n"
        }
        return html
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, desk: RequestDesk, views: SavedViews) {
        // Inline first: a remembered visitor with a remembered page is answered on the I/O thread;
        // anything that needs the database moves to a worker.
        routes.add(.get, "/staff/requests", access: .permission(.requestsRead), options: .inlineFirst) { request in
            let visitor = try auth.staff(request)
            try visitor.principal(in: nil).require(.requestsRead)
            // A page already rendered for this session and query is served while no request has
            // changed anywhere and the minute is the same (its times left are shown to the minute).
            let minute = Int(Date().timeIntervalSince1970 / 60)
            let key = "queue|\(visitor.session.id.postgresText)|\(minute)|" + request.query.pairs.map { $0.name + "=" + $0.value }
                .joined(separator: "&")
            let lists = desk.store.lists
            if let page = lists?.answer(key, tenant: RequestListCache.everyTenant) {
                var response = Response(status: .ok, contentType: "text/html; charset=utf-8", body: page)
                response.headers.set("Cache-Control", "no-store")
                return response
            }
            guard request.mayBlock else { throw WouldBlock() }
            let generation = lists?.generation(of: RequestListCache.everyTenant)
            let response = try queuePage(request, visitor)
            if response.status == .ok, let generation {
                lists?.keep(response.bodyBytes, for: key, tenant: RequestListCache.everyTenant, generation: generation)
            }
            return response
        }

        @Sendable func queuePage(_ request: Request, _ visitor: Visitor) throws -> Response {
            let query = request.query
            let (filter, errors) = filters(query, visitor: visitor)
            let page = errors.isEmpty ? try desk.store.queue(filter, limit: 51) : []
            let now = Date()
            let rows = page.prefix(50).map { entry in
                let sla = slaSummary(entry.request.clocks, now: now)
                return Row(key: entry.request.id.postgresText, link: "/t/\(entry.tenantSlug)/requests/\(entry.request.number)",
                           number: entry.request.number, tenant: entry.tenantName, subject: entry.request.subject,
                           priority: entry.request.priority, state: entry.request.state.replacingOccurrences(of: "_", with: " "),
                           assignee: entry.request.assignee?.name ?? "—", sla: sla.text, tone: sla.tone,
                           updated: DisplayTime.format(entry.request.updatedAt))
            }
            let kept = query.pairs.filter { $0.name != "after" }.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }
            var next: String?
            if page.count > 50 { next = "/staff/requests?" + (kept + ["after=" + page[49].request.id.postgresText]).joined(separator: "&") }
            let (staff, groups, saved) = try desk.groups.choices(views: views, user: visitor.user)
            return site.page("requests/queue", title: "Request queue", Page(
                formToken: visitor.formToken, rowsHTML: rowsHTML(Array(rows)), tenant: filter.tenantSlug ?? "",
                states: options([("active", "active"), ("any", "any")] + RequestState.allCases.map {
                    ($0.rawValue, $0.rawValue.replacingOccurrences(of: "_", with: " "))
                }, selected: query["state"] ?? "active"),
                priorities: options([("", "any")] + RequestPriority.allCases.map { ($0.rawValue, $0.rawValue) }, selected: query["priority"]),
                types: options([("", "any")] + RequestType.allCases.map { ($0.rawValue, $0.rawValue) }, selected: query["type"]),
                assignees: options([("", "anyone"), ("mine", "me"), ("unassigned", "nobody")] + staff.map { ($0.id.postgresText, $0.name) },
                                   selected: query["assignee"] ?? (query["mine"] == "1" ? "mine" : query["unassigned"] == "1" ? "unassigned" : "")),
                groups: options([("", "any")] + groups.map { ($0.id.postgresText, $0.name) }, selected: query["group"]),
                slas: options([("", "any"), ("breached", "breached"), ("escalated", "escalated")], selected: query["sla"]),
                sorts: options([("newest", "newest first"), ("due", "SLA due soonest")], selected: query["sort"] ?? "newest"),
                bulkAssignees: options([("", "—")] + staff.map { ($0.id.postgresText, $0.name) }, selected: nil),
                views: saved.map {
                    ViewLink(id: $0.id.postgresText, name: $0.name, link: "/staff/requests" + ($0.query.isEmpty ? "" : "?" + $0.query))
                },
                here: kept.joined(separator: "&"), nextPage: next, errors: errors),
                status: errors.isEmpty ? .ok : .unprocessableContent, visitor: visitor)
        }

        // Bulk: assign the ticked requests to someone and/or set their priority; each request is
        // changed (and audited) on its own, and the page says how many changed.
        routes.add(.post, "/staff/requests/bulk", access: .permission(.requestsManage), options: .form) { request in
            let visitor = try auth.staff(request)
            let form = try auth.form(request, from: visitor)
            let principal = visitor.principal(in: nil)
            try principal.require(.requestsManage)
            let ids = form.pairs.filter { $0.name == "request" }.compactMap { UUID(uuidString: $0.value) }
            var change = RequestStore.Change()
            if let assignee = form["assignee"], !assignee.isEmpty { change.assigneeID = UUID(uuidString: assignee) }
            if let priority = form["priority"], !priority.isEmpty { change.priority = priority }
            let back = "/staff/requests" + ((form["back"] ?? "").isEmpty ? "" : "?" + (form["back"] ?? ""))
            guard !ids.isEmpty, change.assigneeID != nil || change.priority != nil else { return .redirect(to: back) }
            for id in ids.prefix(100) {
                guard let tenant = try desk.store.tenant(of: id) else { continue }
                _ = try desk.store.update(id, tenant: tenant, change: change, expected: nil, principal: principal, actor: .staff,
                                          actorID: visitor.user, origin: RequestOrigin(request))
            }
            return .redirect(to: back)
        }

        routes.add(.post, "/staff/requests/views", access: .staff, options: .form) { request in
            let visitor = try auth.staff(request)
            let form = try auth.form(request, from: visitor)
            let query = QueryParameters(parsing: form["query"] ?? "")
            if let delete = form["delete"].flatMap(UUID.init(uuidString:)) {
                try views.delete(delete, user: visitor.user)
                return .redirect(to: "/staff/requests")
            }
            try views.save(name: form["name"] ?? "", query: query, user: visitor.user)
            return .redirect(to: "/staff/requests" + ((form["query"] ?? "").isEmpty ? "" : "?" + (form["query"] ?? "")))
        }
    }
}
