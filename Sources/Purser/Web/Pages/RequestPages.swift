// A tenant's service requests as pages: the list, the form to file one, and a request with its
// conversation (replies for everyone; internal notes shown to and written by staff only).
import Foundation
import HTTPServer

enum RequestPages {
    struct Row: Sendable {
        let number: String
        let subject: String
        let type: String
        let priority: String
        let state: String
        let updated: String
    }

    struct ListPage: Sendable {
        let slug: String
        let tenantName: String
        let rows: [Row]
        let nextPage: String?
        let canCreate: Bool
    }

    struct Option: Sendable {
        let value: String
        let label: String
        var selected = false
    }

    struct NewPage: Sendable {
        let formToken: String
        let slug: String
        let types: [Option]
        let priorities: [Option]
        let subject: String
        let description: String
        var errors: [FieldError] = []
    }

    struct CommentView: Sendable {
        let author: String
        let when: String
        let html: String
        let isInternal: Bool
    }

    struct ShowPage: Sendable {
        let formToken: String
        let slug: String
        let number: String
        let subject: String
        let descriptionHTML: String
        let type: String
        let priority: String
        let state: String
        let requester: String
        let assignee: String
        let created: String
        let comments: [CommentView]
        let staff: Bool
        let canReply: Bool
        var errors: [FieldError] = []
    }

    struct QueueRow: Sendable {
        let link: String
        let number: String
        let tenant: String
        let subject: String
        let priority: String
        let state: String
        let assignee: String
        let updated: String
    }

    struct QueuePage: Sendable {
        let rows: [QueueRow]
        let tenant: String
        let priority: String
        let type: String
        let state: String
        let mine: Bool
        let unassigned: Bool
        let nextPage: String?
        var errors: [FieldError] = []
    }

    static func register(in router: inout Router, site: Site, auth: WebAuth, store: RequestStore, comments: RequestComments) {
        // The staff queue across tenants, filtered, newest first, a page at a time.
        router.add(.get, "/staff/requests") { request in
            let visitor = try auth.staff(request)
            try visitor.principal(in: nil).require(.requestsRead)
            let query = request.query
            var filter = RequestQuery()
            var errors: [FieldError] = []
            let state = query["state"] ?? "active"
            switch state {
            case "active": filter.states = ["new", "open", "pending_customer"]
            case "any", "": break
            default:
                if RequestState(rawValue: state) != nil { filter.states = [state] }
                else { errors.append(FieldError(field: "state", detail: "choose a state")) }
            }
            if let priority = query["priority"], !priority.isEmpty {
                if RequestPriority(rawValue: priority) != nil { filter.priority = priority }
                else { errors.append(FieldError(field: "priority", detail: "choose P1–P4")) }
            }
            if let type = query["type"], !type.isEmpty {
                if RequestType(rawValue: type) != nil { filter.type = type }
                else { errors.append(FieldError(field: "type", detail: "choose a type")) }
            }
            if query["mine"] == "1" { filter.assignee = visitor.user }
            filter.unassigned = query["unassigned"] == "1"
            filter.tenantSlug = query["tenant"].flatMap { $0.isEmpty ? nil : $0 }
            filter.after = query["after"].flatMap(UUID.init(uuidString:))
            let tenant = filter.tenantSlug
            let page = errors.isEmpty ? try store.queue(filter, limit: 51) : []
            let rows = page.prefix(50).map { entry in
                QueueRow(link: "/t/\(entry.tenantSlug)/requests/\(entry.request.number)", number: entry.request.number,
                         tenant: entry.tenantName, subject: entry.request.subject, priority: entry.request.priority,
                         state: entry.request.state.replacingOccurrences(of: "_", with: " "),
                         assignee: entry.request.assignee?.name ?? "—", updated: DisplayTime.format(entry.request.updatedAt))
            }
            var next: String?
            if page.count > 50 {
                let kept = query.pairs.filter { $0.name != "after" }.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }
                next = "/staff/requests?" + (kept + ["after=" + page[49].request.id.postgresText]).joined(separator: "&")
            }
            return site.page("staff-requests", title: "Request queue", QueuePage(
                rows: rows, tenant: tenant ?? "", priority: filter.priority ?? "", type: filter.type ?? "", state: state,
                mine: query["mine"] == "1", unassigned: query["unassigned"] == "1", nextPage: next, errors: errors),
                status: errors.isEmpty ? .ok : .unprocessableContent, visitor: visitor)
        }

        let formOptions = RouteOptions(bodyLimit: 256 * 1024, accepts: ["application/x-www-form-urlencoded"])

        @Sendable func context(_ request: Request) throws -> (Visitor, TenantMembership, Principal) {
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            let principal = visitor.principal(in: tenant)
            try principal.require(.requestsRead)
            return (visitor, tenant, principal)
        }

        router.add(.get, "/t/{tenant}/requests") { request in
            let (visitor, tenant, principal) = try context(request)
            var query = RequestQuery()
            query.after = request.query["after"].flatMap(UUID.init(uuidString:))
            let page = try store.list(tenant: tenant.id, query: query, limit: 51)
            let rows = page.prefix(50).map {
                Row(number: $0.number, subject: $0.subject, type: $0.type, priority: $0.priority,
                    state: $0.state.replacingOccurrences(of: "_", with: " "), updated: DisplayTime.format($0.updatedAt))
            }
            return site.page("requests", title: "Requests · \(tenant.name)", ListPage(
                slug: tenant.slug, tenantName: tenant.name, rows: rows,
                nextPage: page.count > 50 ? "/t/\(tenant.slug)/requests?after=\(page[49].id.postgresText)" : nil,
                canCreate: principal.can(.requestsCreate)), visitor: visitor, tenant: tenant)
        }

        @Sendable func newForm(_ visitor: Visitor, _ tenant: TenantMembership, subject: String = "", description: String = "",
                               errors: [FieldError] = [], status: HTTPStatus = .ok) -> Response {
            site.page("request-new", title: "New request", NewPage(
                formToken: visitor.formToken, slug: tenant.slug,
                // A question at P3 unless the person says otherwise: the least alarming choice is the default.
                types: RequestType.allCases.map { Option(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == .question) },
                priorities: RequestPriority.allCases.map {
                    Option(value: $0.rawValue, label: "\($0.rawValue) — \($0.meaning)", selected: $0 == .p3)
                },
                subject: subject, description: description, errors: errors), status: status, visitor: visitor, tenant: tenant)
        }

        router.add(.get, "/t/{tenant}/requests/new") { request in
            let (visitor, tenant, principal) = try context(request)
            try principal.require(.requestsCreate)
            return newForm(visitor, tenant)
        }

        router.add(.post, "/t/{tenant}/requests", options: .form) { request in
            let (visitor, tenant, principal) = try context(request)
            try principal.require(.requestsCreate)
            let form = try auth.form(request, from: visitor)
            do {
                let created = try store.create(NewRequest(subject: form["subject"] ?? "", description: form["description"],
                                                          type: form["type"] ?? "", priority: form["priority"] ?? ""),
                                               tenant: tenant.id, requester: visitor.user, actor: .user, actorID: visitor.user,
                                               origin: RequestOrigin(request))
                return .redirect(to: "/t/\(tenant.slug)/requests/\(created.number)")
            } catch let error as ValidationError {
                return newForm(visitor, tenant, subject: form["subject"] ?? "", description: form["description"] ?? "",
                               errors: error.fieldErrors, status: error.status)
            }
        }

        @Sendable func show(_ request: Request, _ visitor: Visitor, _ tenant: TenantMembership, _ principal: Principal,
                            errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            guard let found = try store.find(try request.parameter("number"), tenant: tenant.id) else { throw HTTPError(.notFound) }
            let staff = principal.can(.requestsManage)
            let thread = try comments.thread(of: found.id, tenant: tenant.id, includeInternal: staff).map {
                CommentView(author: $0.author.name, when: DisplayTime.format($0.createdAt), html: Markdown.html($0.body),
                            isInternal: $0.isInternal)
            }
            return site.page("request", title: "\(found.number) · \(found.subject)", ShowPage(
                formToken: visitor.formToken, slug: tenant.slug, number: found.number, subject: found.subject,
                descriptionHTML: Markdown.html(found.description), type: found.type, priority: found.priority,
                state: found.state.replacingOccurrences(of: "_", with: " "), requester: found.requester.name,
                assignee: found.assignee?.name ?? "unassigned", created: DisplayTime.format(found.createdAt), comments: thread,
                staff: staff, canReply: principal.can(.requestsComment), errors: errors), status: status, visitor: visitor, tenant: tenant)
        }

        router.add(.get, "/t/{tenant}/requests/{number}") { request in
            let (visitor, tenant, principal) = try context(request)
            return try show(request, visitor, tenant, principal)
        }

        router.add(.post, "/t/{tenant}/requests/{number}/comments", options: .form) { request in
            let (visitor, tenant, principal) = try context(request)
            let form = try auth.form(request, from: visitor)
            let number = try request.parameter("number")
            guard let found = try store.find(number, tenant: tenant.id) else { throw HTTPError(.notFound) }
            do {
                _ = try comments.add(to: found.id, tenant: tenant.id, body: form["body"] ?? "", isInternal: form["internal"] == "1",
                                     principal: principal, actor: .user, actorID: visitor.user, origin: RequestOrigin(request))
                return .redirect(to: "/t/\(tenant.slug)/requests/\(found.number)#conversation")
            } catch let error as ValidationError {
                return try show(request, visitor, tenant, principal, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
