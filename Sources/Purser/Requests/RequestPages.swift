// A tenant's service requests as pages: the list, the form to file one, and a request with its
// conversation (replies for everyone; internal notes shown to and written by staff only).
import Foundation
import HTTPServer

enum RequestPages {
    struct Row: Encodable, Sendable {
        let link: SiteURL
        let number: String
        let subject: String
        let type: String
        let priority: String
        let state: String
        let updated: String
    }

    struct ListPage: TemplateModel {
        let tenantName: String
        let newLink: SiteURL
        let rows: [Row]
        let nextPage: SiteURL?
        let canCreate: Bool
        var errors: [FieldError] = []
    }

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        var selected = false
    }

    struct NewPage: TemplateModel {
        let formToken: String
        /// The form's one-time key: sending it twice files one request (`FormSubmissions`).
        let formKey: String
        let createLink: SiteURL
        let types: [Option]
        let priorities: [Option]
        let subject: String
        let description: String
        var errors: [FieldError] = []
    }

    struct CommentView: Encodable, Sendable {
        let author: String
        let when: String
        let html: String
        let isInternal: Bool
    }

    /// One SLA clock as the page shows it: time left, overdue, paused, met or missed.
    struct ClockView: Encodable, Sendable {
        let label: String
        let status: String
        /// ok, warn, late or done: how the status is coloured.
        let tone: String

        init(_ kind: SLAClockKind, _ clock: RequestClock, now: Date) {
            label = kind.label
            switch clock.state {
            case .stopped:
                status = clock.breachedAt == nil ? "met" : "missed"
                tone = clock.breachedAt == nil ? "done" : "late"
            case .paused:
                status =
                    "paused, waiting on the customer · \(DisplayTime.duration(max(0, clock.clock.target - clock.clock.used(at: now, calendar: .aroundTheClock)))) left"
                tone = "ok"
            case .running:
                let due = clock.dueAt ?? now
                if due <= now {
                    status = "overdue by \(DisplayTime.duration(now.timeIntervalSince(due))) (due \(DisplayTime.format(due)))"
                    tone = "late"
                } else {
                    status = "\(DisplayTime.duration(due.timeIntervalSince(now))) left · due \(DisplayTime.format(due))"
                    tone = clock.warnedAt == nil ? "ok" : "warn"
                }
            }
        }

        static func all(_ clocks: RequestClocks, now: Date) -> [ClockView] {
            SLAClockKind.allCases.compactMap { kind in clocks[kind].map { ClockView(kind, $0, now: now) } }
        }
    }

    struct ActivityView: Encodable, Sendable {
        let when: String
        let who: String
        let summary: String
    }

    /// What staff change on a request: priority, assignee, group and tags.
    struct TriageForm: Encodable, Sendable {
        let priorities: [Option]
        let assignees: [Option]
        let groups: [Option]
        let tags: String
    }

    struct ShowPage: TemplateModel {
        let formToken: String
        let commentsLink: SiteURL
        let attachmentsLink: SiteURL
        let updateLink: SiteURL
        let watchLink: SiteURL
        let number: String
        let subject: String
        let descriptionHTML: String
        let type: String
        let priority: String
        let state: String
        let requester: String
        let assignee: String
        let group: String
        let tags: [String]
        let escalated: Bool
        let created: String
        let version: String
        let clocks: [ClockView]
        let comments: [CommentView]
        let staff: Bool
        let canReply: Bool
        /// The current state and those it may move to.
        let states: [Option]
        let triage: TriageForm?
        let watching: Bool
        let watchers: String
        let activity: [ActivityView]
        let attachments: [AttachmentView]
        /// The incident this request tracks, for those who may read incidents.
        var incident: IncidentOfRequest.View? = nil
        var errors: [FieldError] = []
    }

    struct AttachmentView: Encodable, Sendable {
        let link: SiteURL
        let filename: String
        let size: String
        let who: String
        let when: String
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, desk: RequestDesk) {
        let store = desk.store, comments = desk.comments

        routes.tenant(.get, .requests, permission: .requestsRead) { ctx in
            let tenant = ctx.tenant
            // The list's filters, read as the queue and the API read them (RequestFilter); every state unless one is named.
            var (filter, errors) = RequestFilter.parse(ctx.request.query, for: .page, viewer: ctx.visitor.user)
            filter.tenant = nil
            // A read-heavy list: the replica may serve it (ReplicaReads), the person's own new requests aside.
            let page =
                errors.isEmpty
                ? try store.database.reading(for: ctx.request, at: ctx.world.clock.now) {
                    try RequestStore(database: $0, clock: store.clock).list(tenant: tenant.id, query: filter.query, limit: 51)
                } : []
            let rows = page.prefix(50).map {
                Row(
                    link: .request(tenant.slug, number: $0.number), number: $0.number, subject: $0.subject, type: $0.type,
                    priority: $0.priority, state: $0.state.replacingOccurrences(of: "_", with: " "),
                    updated: DisplayTime.format($0.updatedAt))
            }
            return site.page(
                "requests/index", title: "Requests · \(tenant.name)",
                ListPage(
                    tenantName: tenant.name, newLink: .requestNew(tenant.slug), rows: rows,
                    nextPage: page.count > 50 ? filter.nextLink(.requests(tenant.slug), after: page[49].id) : nil,
                    canCreate: ctx.principal.can(.requestsCreate), errors: errors), status: errors.isEmpty ? .ok : .unprocessableContent,
                visitor: ctx.visitor, tenant: tenant)
        }

        @Sendable func newForm(
            _ ctx: TenantContext, subject: String = "", description: String = "", type: String? = nil, priority: String? = nil,
            formKey: String? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok
        ) -> Response {
            // A question at P3 unless the person says otherwise: the least alarming choice is the default.
            let type = RequestType(rawValue: type ?? "") ?? .question
            let priority = RequestPriority(rawValue: priority ?? "") ?? .p3
            return site.page(
                "requests/new", title: "New request",
                NewPage(
                    formToken: ctx.visitor.formToken, formKey: formKey ?? FormSubmissions.newKey(), createLink: .requests(ctx.tenant.slug),
                    types: RequestType.allCases.map {
                        Option(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == type)
                    },
                    priorities: RequestPriority.allCases.map {
                        Option(value: $0.rawValue, label: "\($0.rawValue) — \($0.meaning)", selected: $0 == priority)
                    },
                    subject: subject, description: description, errors: errors), status: status, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .requestNew, permission: .requestsCreate) { ctx in newForm(ctx) }

        routes.tenant(.post, .requests, permission: .requestsCreate, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let created = try store.create(
                    NewRequest(
                        subject: form["subject"] ?? "", description: form["description"],
                        type: form["type"] ?? "", priority: form["priority"] ?? ""),
                    tenant: ctx.tenant.id, requester: ctx.visitor.user, actor: ctx.actor,
                    formKey: FormSubmissions.key(form["form_key"]))
                return .redirect(to: SiteURL.request(ctx.tenant.slug, number: created.number).path)
            } catch let error as ValidationError {
                return newForm(
                    ctx, subject: form["subject"] ?? "", description: form["description"] ?? "", type: form["type"],
                    priority: form["priority"], formKey: FormSubmissions.key(form["form_key"]), errors: error.fieldErrors,
                    status: error.status)
            }
        }

        @Sendable func show(_ ctx: TenantContext, errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let (tenant, principal) = (ctx.tenant, ctx.principal)
            guard let found = try store.find(try ctx.request.parameter("number"), tenant: tenant.id) else { throw HTTPError(.notFound) }
            let staff = principal.can(.requestsManage)
            let thread = try comments.thread(of: found.id, tenant: tenant.id, includeInternal: staff).map {
                CommentView(
                    author: $0.author.name, when: DisplayTime.format($0.createdAt), html: Markdown.html($0.body),
                    isInternal: $0.isInternal)
            }
            let watchers = try desk.watchers.list(request: found.id, tenant: tenant.id)
            let current = RequestState(rawValue: found.state) ?? .new
            var triage: TriageForm?
            if staff {
                let (people, groups, _) = try desk.groups.choices()
                triage = TriageForm(
                    priorities: RequestPriority.allCases.map {
                        Option(value: $0.rawValue, label: $0.rawValue, selected: $0.rawValue == found.priority)
                    },
                    assignees: [Option(value: "", label: "unassigned", selected: found.assignee == nil)]
                        + people.map {
                            Option(value: $0.id.postgresText, label: $0.name, selected: $0.id == found.assignee?.id)
                        },
                    groups: [Option(value: "", label: "no group", selected: found.group == nil)]
                        + groups.map {
                            Option(value: $0.id.postgresText, label: $0.name, selected: $0.id == found.group?.id)
                        },
                    tags: found.tags.joined(separator: ", "))
            }
            let (slug, number) = (tenant.slug, found.number)
            return site.page(
                "requests/show", title: "\(found.number) · \(found.subject)",
                ShowPage(
                    formToken: ctx.visitor.formToken, commentsLink: .requestComments(slug, number: number),
                    attachmentsLink: .requestAttachments(slug, number: number), updateLink: .requestUpdate(slug, number: number),
                    watchLink: .requestWatch(slug, number: number), number: found.number, subject: found.subject,
                    descriptionHTML: Markdown.html(found.description), type: found.type, priority: found.priority,
                    state: found.state.replacingOccurrences(of: "_", with: " "), requester: found.requester.name,
                    assignee: found.assignee?.name ?? "unassigned", group: found.group?.name ?? "no group", tags: found.tags,
                    escalated: found.escalated, created: DisplayTime.format(found.createdAt), version: found.etag,
                    clocks: ClockView.all(found.clocks, now: ctx.world.clock.now), comments: thread, staff: staff,
                    canReply: principal.can(.requestsComment),
                    states: ([current] + current.next).map {
                        Option(value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "), selected: $0 == current)
                    },
                    triage: triage, watching: watchers.contains { $0.id == ctx.visitor.user },
                    watchers: watchers.map(\.name).joined(separator: ", "),
                    activity: try desk.activity.entries(of: found.id, tenant: tenant.id, includeInternal: staff).map {
                        ActivityView(when: DisplayTime.format($0.when), who: $0.who, summary: $0.summary)
                    },
                    attachments: try desk.attachments.list(request: found.id, tenant: tenant.id).map {
                        AttachmentView(
                            link: .requestAttachment(slug, number: number, id: $0.id), filename: $0.filename,
                            size: ByteCountFormatter.string(fromByteCount: Int64($0.size), countStyle: .file), who: $0.uploadedBy,
                            when: DisplayTime.format($0.createdAt))
                    },
                    incident: principal.can(.incidentsRead)
                        ? try IncidentOfRequest.view(database: store.database, tenant: tenant.id, slug: slug, request: found.id) : nil,
                    errors: errors), status: status, visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .request, permission: .requestsRead) { ctx in try show(ctx) }

        routes.tenant(.post, .requestComments, permission: .requestsComment, options: .form) { ctx in
            let form = try ctx.form()
            guard let found = try store.find(try ctx.request.parameter("number"), tenant: ctx.tenant.id) else { throw HTTPError(.notFound) }
            do {
                _ = try comments.add(
                    to: found.id, tenant: ctx.tenant.id, body: form["body"] ?? "", isInternal: form["internal"] == "1",
                    principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.request(ctx.tenant.slug, number: found.number).at("conversation").path)
            } catch let error as ValidationError {
                return try show(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        // State for anyone who may reply; priority, assignee, group and tags for staff. Only what
        // the form changed is sent, based on the version the page showed.
        routes.tenant(.post, .requestUpdate, permission: .requestsComment, options: .form) { ctx in
            let (tenant, principal) = (ctx.tenant, ctx.principal)
            let form = try ctx.form()
            guard let found = try store.find(try ctx.request.parameter("number"), tenant: tenant.id) else { throw HTTPError(.notFound) }
            var change = RequestStore.Change()
            if let state = form["state"], state != found.state { change.state = state }
            if principal.can(.requestsManage) {
                if let priority = form["priority"], priority != found.priority { change.priority = priority }
                if let assignee = form["assignee"], !assignee.isEmpty, assignee != found.assignee?.id.postgresText {
                    guard let id = UUID(uuidString: assignee) else {
                        return try show(
                            ctx, errors: [FieldError(field: "assignee", detail: "choose a person")], status: .unprocessableContent)
                    }
                    change.assigneeID = id
                }
                if let group = form["group"], !group.isEmpty, group != found.group?.id.postgresText {
                    guard let id = UUID(uuidString: group) else {
                        return try show(ctx, errors: [FieldError(field: "group", detail: "choose a group")], status: .unprocessableContent)
                    }
                    change.groupID = id
                }
                if let text = form["tags"] {
                    let tags = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter {
                        !$0.isEmpty
                    }
                    if Set(tags) != Set(found.tags) { change.tags = tags }
                }
            }
            do {
                _ = try store.update(
                    found.id, tenant: tenant.id, change: change, expected: form["version"], principal: principal,
                    actor: ctx.actor)
                return .redirect(to: SiteURL.request(tenant.slug, number: found.number).path)
            } catch let error as ValidationError {
                return try show(ctx, errors: error.fieldErrors, status: error.status)
            } catch is StaleVersion {
                return try show(
                    ctx,
                    errors: [
                        FieldError(
                            field: "version",
                            detail: "Someone changed this request while you had it open; here it is as it is now. Make your change again.")
                    ],
                    status: .conflict)
            }
        }

        registerAttachments(in: &routes, auth: auth, desk: desk) { ctx, errors, status in
            try show(ctx, errors: errors, status: status)
        }

        routes.tenant(.post, .requestWatch, permission: .requestsRead, options: .form) { ctx in
            let form = try ctx.form()
            guard let found = try store.find(try ctx.request.parameter("number"), tenant: ctx.tenant.id) else { throw HTTPError(.notFound) }
            try desk.watchers.set(form["watch"] == "1", user: ctx.visitor.user, request: found.id, tenant: ctx.tenant.id, actor: ctx.actor)
            return .redirect(to: SiteURL.request(ctx.tenant.slug, number: found.number).path)
        }
    }
}

/// Everything the request pages work with.
struct RequestDesk: Sendable {
    let store: RequestStore
    let comments: RequestComments
    let watchers: RequestWatchers
    let activity: RequestActivity
    let groups: RequestGroups
    let attachments: RequestAttachments
}

extension RequestPages {
    /// Upload (a multipart form from the request page) and download of a request's files.
    static func registerAttachments(
        in routes: inout RouteTable, auth: WebAuth, desk: RequestDesk,
        show: @escaping @Sendable (TenantContext, [FieldError], HTTPStatus) throws -> Response
    ) {
        routes.tenant(
            .post, .requestAttachments, permission: .requestsComment,
            // The media type is checked by MultipartForm after the tenant: another tenant's route is a 404 whatever is sent.
            options: RouteOptions(bodyLimit: RequestAttachments.sizeLimit + 64 * 1024)
        ) { ctx in
            let form = try MultipartForm(ctx.request)
            try auth.checkFormToken(form["csrf"]?.text, for: ctx.visitor)
            guard let found = try desk.store.find(try ctx.request.parameter("number"), tenant: ctx.tenant.id) else {
                throw HTTPError(.notFound)
            }
            guard let file = form["file"], let filename = file.filename, !filename.isEmpty else {
                return try show(ctx, [FieldError(field: "file", detail: "choose a file")], .unprocessableContent)
            }
            do {
                _ = try desk.attachments.add(
                    to: found.id, tenant: ctx.tenant.id, filename: filename,
                    contentType: file.contentType ?? "application/octet-stream", data: file.data,
                    principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.request(ctx.tenant.slug, number: found.number).at("files").path)
            } catch let error as ValidationError {
                return try show(ctx, error.fieldErrors, error.status)
            }
        }

        routes.tenant(.get, .requestAttachment, permission: .requestsRead) { ctx in
            guard let found = try desk.store.find(try ctx.request.parameter("number"), tenant: ctx.tenant.id) else {
                throw HTTPError(.notFound)
            }
            return AttachmentResponse.download(
                try desk.attachments.file(
                    try ctx.request.uuidParameter("id"), request: found.id,
                    tenant: ctx.tenant.id))
        }
    }
}
