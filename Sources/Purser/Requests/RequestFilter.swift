// The filters of a request list, read once for the pages (/t/{tenant}/requests, /staff/requests)
// and the API (GET /api/v1/requests) in one vocabulary, the API's: `state`, `priority`, `type`,
// `assignee` (`me`, `none` or an id), `group`, `breached=true`, `escalated=true`, `q`, `sort`,
// `cursor` (and `limit`, the API's page size). Pages write these names in their forms and links.
// Pages differ in three ways only: an empty value is "any" (the API refuses it), the queue opens
// on the active states, and the names pages wrote before are still read, because saved views and
// bookmarks hold them: `sla=breached|escalated`, `mine=1`, `unassigned=1`, `assignee=mine|unassigned`
// and `after=` (a cursor; an unreadable one starts at the first page, as it always did).
import Foundation
import struct HTTPServer.FieldError
import struct HTTPServer.QueryParameters

public struct RequestFilter: Sendable, Equatable {
    public enum Audience: Sendable { case api, page }

    public enum States: Sendable, Equatable {
        case any
        /// New, open or waiting on the customer: the work not yet done.
        case active
        case only(RequestState)

        var names: [String] {
            switch self {
            case .any: []
            case .active: [RequestState.new, .open, .pendingCustomer].map(\.rawValue)
            case .only(let state): [state.rawValue]
            }
        }

        /// As a page writes it (`any` and `active` are the pages' own).
        var value: String {
            switch self {
            case .any: "any"
            case .active: "active"
            case .only(let state): state.rawValue
            }
        }
    }

    public enum Assignee: Sendable, Equatable {
        /// The viewer, by id: two people's `assignee=me` are different filters.
        case me(UUID)
        /// Nobody yet (`assignee=none`).
        case nobody
        case person(UUID)
    }

    public var states = States.any
    public var priority: RequestPriority?
    public var type: RequestType?
    public var assignee: Assignee?
    public var group: UUID?
    public var breached = false
    public var escalated = false
    public var text: String?
    public var sort = RequestQuery.Sort.newest
    /// The staff queue's tenant (a slug); the API names its tenant through the gate instead.
    public var tenant: String?
    public var cursor: UUID?
    /// The API's page size (pages show 50).
    public var limit = 20

    public init() {}

    /// The parameters the filter reads, under their present names.
    public static let parameters = [
        "state", "priority", "type", "assignee", "group", "breached", "escalated", "q", "sort", "tenant",
        "cursor", "limit",
    ]

    /// One message per parameter, whoever asks.
    static func problem(_ field: String) -> FieldError {
        let detail =
            switch field {
            case "state": "use one of " + RequestState.allCases.map(\.rawValue).joined(separator: ", ")
            case "priority": RequestRules.priorityDetail
            case "type": RequestRules.typeDetail
            case "assignee": "use me, none or a staff member's id"
            case "group": "use a group's id"
            case "breached", "escalated": "use true or false"
            case "sla": "use breached or escalated"
            case "q": "at most 200 characters, without NUL"
            case "sort": "use newest or due"
            case "limit": "a whole number from 1 to 100"
            case "cursor": "use the next_cursor Purser gave"
            default: "is not a filter"
            }
        return FieldError(field: field, detail: detail)
    }

    /// The filter `query` asks for, and what was wrong with it (nothing wrong: the filter is whole).
    /// `viewer` is who `assignee=me` means; `states` what a page shows when it names no state.
    public static func parse(
        _ query: QueryParameters, for audience: Audience, viewer: UUID?,
        states defaultStates: States = .any
    ) -> (RequestFilter, [FieldError]) {
        var filter = RequestFilter()
        var errors: [FieldError] = []
        func refuse(_ field: String) { if !errors.contains(where: { $0.field == field }) { errors.append(problem(field)) } }
        /// The value given, or nil when it is missing — or empty on a page, where an empty choice is "any".
        func value(_ name: String) -> String? {
            guard let text = query[name] else { return nil }
            if text.isEmpty, audience == .page { return nil }
            return text
        }
        func flag(_ name: String) -> Bool {
            switch value(name) {
            case nil, "false": return false
            case "true": return true
            default: refuse(name); return false
            }
        }

        filter.states = defaultStates
        if let text = query["state"] {
            switch (audience, text) {
            case (.page, "any"), (.page, ""): filter.states = .any
            case (.page, "active"): filter.states = .active
            default:
                if let state = RequestState(rawValue: text) { filter.states = .only(state) } else { refuse("state") }
            }
        }
        if let text = value("priority") {
            if let priority = RequestPriority(rawValue: text) { filter.priority = priority } else { refuse("priority") }
        }
        if let text = value("type") {
            if let type = RequestType(rawValue: text) { filter.type = type } else { refuse("type") }
        }
        if let text = value("assignee") {
            switch (audience, text) {
            case (_, "me"), (.page, "mine"):
                if let viewer { filter.assignee = .me(viewer) } else { refuse("assignee") }
            case (_, "none"), (.page, "unassigned"): filter.assignee = Assignee.nobody
            default:
                if let id = UUID(uuidString: text) { filter.assignee = .person(id) } else { refuse("assignee") }
            }
        }
        if let text = value("group") {
            if let id = UUID(uuidString: text) { filter.group = id } else { refuse("group") }
        }
        filter.breached = flag("breached")
        filter.escalated = flag("escalated")
        if let text = query["q"] {
            if text.unicodeScalars.count > 200 || text.utf8.contains(0) { refuse("q") } else if !text.isEmpty { filter.text = text }
        }
        if let text = value("sort") {
            if let sort = RequestQuery.Sort(rawValue: text) { filter.sort = sort } else { refuse("sort") }
        }
        switch audience {
        case .api:
            if let text = query["limit"] {
                if let limit = Int(text), (1...100).contains(limit) { filter.limit = limit } else { refuse("limit") }
            }
            if let text = query["cursor"] {
                if let id = UUID(uuidString: text) { filter.cursor = id } else { refuse("cursor") }
            }
        case .page:
            filter.tenant = value("tenant")
            filter.cursor = (query["cursor"] ?? query["after"]).flatMap(UUID.init(uuidString:))
            // The names pages wrote before.
            switch query["sla"] ?? "" {
            case "": break
            case "breached": filter.breached = true
            case "escalated": filter.escalated = true
            default: refuse("sla")
            }
            if query["mine"] == "1" {
                if let viewer { filter.assignee = .me(viewer) } else { refuse("assignee") }
            }
            if query["unassigned"] == "1" { filter.assignee = Assignee.nobody }
        }
        return (filter, errors)
    }

    /// The statement's filters.
    public var query: RequestQuery {
        var query = RequestQuery()
        query.tenantSlug = tenant
        query.states = states.names
        query.priority = priority?.rawValue
        query.type = type?.rawValue
        switch assignee {
        case .me(let id), .person(let id): query.assignee = id
        case .nobody: query.unassigned = true
        case nil: break
        }
        query.group = group
        query.breached = breached
        query.escalated = escalated
        query.text = text
        query.sort = sort
        query.after = cursor
        return query
    }

    /// The filter as a page's links and forms write it, in the API's names, without the cursor;
    /// `states` is what the page shows when no state is named.
    func pagePairs(states defaultStates: States = .any) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        if let tenant { pairs.append(("tenant", tenant)) }
        if states != defaultStates { pairs.append(("state", states.value)) }
        if let priority { pairs.append(("priority", priority.rawValue)) }
        if let type { pairs.append(("type", type.rawValue)) }
        if let assignee { pairs.append(("assignee", assignee.value)) }
        if let group { pairs.append(("group", group.postgresText)) }
        if breached { pairs.append(("breached", "true")) }
        if escalated { pairs.append(("escalated", "true")) }
        if let text { pairs.append(("q", text)) }
        if sort != .newest { pairs.append(("sort", sort.rawValue)) }
        return pairs
    }

    /// `pagePairs` as a query string, for a form's hidden field.
    public func pageQuery(states defaultStates: States = .any) -> String {
        pagePairs(states: defaultStates).map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }.joined(separator: "&")
    }

    /// A link to the page after this one: `list` with the filter and the cursor.
    public func nextLink(_ list: SiteURL, after last: UUID, states defaultStates: States = .any) -> SiteURL {
        list.adding(QueryParameters(pagePairs(states: defaultStates))).adding("cursor", last.postgresText)
    }

    /// Every field of the filter, `me` with the viewer's id: the key of a remembered answer. Two
    /// filters with one key are the same filter (and select the same requests for anyone).
    public var key: String {
        let assignee: String =
            switch assignee {
            case .me(let id): "me:" + id.postgresText
            case .person(let id): id.postgresText
            case .nobody: "none"
            case nil: ""
            }
        return [
            tenant.map(WebAuth.escape) ?? "", states.value, priority?.rawValue ?? "", type?.rawValue ?? "", assignee,
            group?.postgresText ?? "", String(breached), String(escalated), sort.rawValue, cursor?.postgresText ?? "",
            String(limit), text.map(WebAuth.escape) ?? "",
        ].joined(separator: "|")
    }
}

extension RequestFilter.Assignee {
    /// As the API's `assignee` parameter says it.
    var value: String {
        switch self {
        case .me: "me"
        case .nobody: "none"
        case .person(let id): id.postgresText
        }
    }
}
