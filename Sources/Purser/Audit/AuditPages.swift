// The audit log viewer: a tenant's chain for its admins (/t/{tenant}/audit), any chain for staff
// (/staff/audit), filtered by actor, action, target and period, paged by sequence, and exported as
// CSV streamed in pages (the whole log never sits in memory).
import Foundation
import HTTPServer
import Postgres

enum AuditPages {
    struct Row: Encodable, Sendable {
        let sequence: String
        let time: String
        let actor: String
        let actorKind: String
        let action: String
        let target: String
        let reason: String
        let address: String
        let change: String
    }

    struct Page: TemplateModel {
        let heading: String
        /// The page itself: the filter form's action.
        let pageLink: SiteURL
        let actor: String
        let action: String
        let target: String
        let from: String
        let until: String
        let chain: String
        let staff: Bool
        let rows: [Row]
        let nextPage: SiteURL?
        let csvLink: SiteURL
        var errors: [FieldError] = []
    }

    static let pageSize = 50

    /// How to read one chain: which chain, and a transaction that can see it.
    struct Source: Sendable {
        let chain: String
        let read: @Sendable (_ body: (Connection) throws -> [AuditRow]) throws -> [AuditRow]
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        @Sendable func tenantSource(_ tenant: TenantMembership) -> Source {
            let id = tenant.id
            return Source(chain: AuditLog.chain(for: id)) { body in try database.inTenant(id, body) }
        }

        @Sendable func staffSource(_ request: Request) throws -> Source {
            let requested = request.query["chain"] ?? ""
            var chain = AuditLog.providerChain
            if !requested.isEmpty && requested != AuditLog.providerChain {
                guard
                    let id = try database.pool.query("SELECT id FROM tenants WHERE slug = $1", [requested]).first?
                        .require(0, as: UUID.self)
                else { throw ValidationError(field: "chain", "there is no tenant \(requested)") }
                chain = AuditLog.chain(for: id)
            }
            return Source(chain: chain) { body in try database.asStaff(body) }
        }

        routes.tenant(.get, .audit, permission: .auditRead) { ctx in
            try page(
                ctx.request, site: site, visitor: ctx.visitor, tenant: ctx.tenant, source: tenantSource(ctx.tenant),
                heading: "Audit log · \(ctx.tenant.name)", pageLink: .audit(ctx.tenant.slug), csvLink: .auditCSV(ctx.tenant.slug))
        }
        routes.tenant(.get, .auditCSV, permission: .auditRead) { ctx in
            try csv(ctx.request, source: tenantSource(ctx.tenant), filename: "audit-\(ctx.tenant.slug).csv")
        }
        routes.staff(.get, .staffAudit, permission: .auditRead) { ctx in
            let request = ctx.request
            do {
                return try page(
                    request, site: site, visitor: ctx.visitor, tenant: nil, source: try staffSource(request),
                    heading: "Audit log", pageLink: SitePage.staffAudit.url, csvLink: SitePage.staffAuditCSV.url)
            } catch let error as ValidationError {
                return site.page(
                    "audit/index", title: "Audit log",
                    Page(
                        heading: "Audit log", pageLink: SitePage.staffAudit.url, actor: "", action: "", target: "", from: "", until: "",
                        chain: request.query["chain"] ?? "", staff: true, rows: [], nextPage: nil, csvLink: SitePage.staffAuditCSV.url,
                        errors: error.fieldErrors), status: error.status, visitor: ctx.visitor)
            }
        }
        routes.staff(.get, .staffAuditCSV, permission: .auditRead) { ctx in
            try csv(ctx.request, source: try staffSource(ctx.request), filename: "audit-\(ctx.request.query["chain"] ?? "provider").csv")
        }
    }

    static func filter(_ request: Request) throws -> AuditFilter {
        func text(_ name: String) -> String? {
            let value = (request.query[name] ?? "").trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : String(value.prefix(200))
        }
        var errors: [FieldError] = []
        func day(_ name: String) -> Date? {
            guard let value = text(name) else { return nil }
            guard let date = RFC3339.date(value + "T00:00:00Z") else {
                errors.append(FieldError(field: name, detail: "use a date such as 2026-11-23"))
                return nil
            }
            return date
        }
        let filter = AuditFilter(
            actor: text("actor"), action: text("action"), target: text("target"), from: day("from"),
            until: day("until").map { $0.addingTimeInterval(86400) })
        if !errors.isEmpty { throw ValidationError(errors) }
        return filter
    }

    static func page(
        _ request: Request, site: Site, visitor: Visitor, tenant: TenantMembership?, source: Source,
        heading: String, pageLink: SiteURL, csvLink: SiteURL
    ) throws -> Response {
        var errors: [FieldError] = []
        var rows: [AuditRow] = []
        let before = request.query["before"].flatMap(Int64.init)
        do {
            let filter = try filter(request)
            rows = try source.read { tx in
                try AuditQuery.page(chain: source.chain, filter: filter, before: before, limit: pageSize + 1, in: tx)
            }
        } catch let error as ValidationError {
            errors = error.fieldErrors
        }
        let more = rows.count > pageSize
        rows = Array(rows.prefix(pageSize))
        // Links keep the filters asked for; the next page adds where this one ended.
        let filters = QueryParameters(request.query.pairs.filter { $0.name != "before" })
        let model = Page(
            heading: heading, pageLink: pageLink, actor: request.query["actor"] ?? "", action: request.query["action"] ?? "",
            target: request.query["target"] ?? "", from: request.query["from"] ?? "", until: request.query["until"] ?? "",
            chain: request.query["chain"] ?? "", staff: tenant == nil,
            rows: rows.map { row in
                Row(
                    sequence: String(row.sequence), time: DisplayTime.format(row.occurredAt), actor: row.actor,
                    actorKind: row.actorKind, action: row.action,
                    target: row.targetType.isEmpty ? row.targetID : row.targetType + " " + row.targetID, reason: row.reason,
                    address: row.address, change: [row.before, row.after].filter { !$0.isEmpty }.joined(separator: " → "))
            },
            nextPage: more ? rows.last.map { pageLink.adding(filters).adding("before", String($0.sequence)) } : nil,
            csvLink: csvLink.adding(filters), errors: errors)
        return site.page(
            "audit/index", title: heading, model, status: errors.isEmpty ? .ok : .unprocessableContent,
            visitor: visitor, tenant: tenant)
    }

    /// The filtered chain as CSV, fetched 500 rows at a time on the worker threads, a little ahead
    /// of the client (the server's stream never reads the database on an I/O thread).
    static func csv(_ request: Request, source: Source, filename: String) throws -> Response {
        let filter = try filter(request)
        let cursor = Locked<(before: Int64?, started: Bool, done: Bool)>((nil, false, false))
        let body: @Sendable () throws -> [UInt8]? = {
            let state = cursor.withLock { $0 }
            if state.done { return nil }
            var text = state.started ? "" : CSV.line(AuditRow.columns)
            let rows = try source.read { tx in
                try AuditQuery.page(chain: source.chain, filter: filter, before: state.before, limit: 500, in: tx)
            }
            for row in rows { text += CSV.line(row.cells) }
            cursor.withLock { $0 = (rows.last?.sequence ?? state.before, true, rows.count < 500) }
            return Array(text.utf8)
        }
        let safeName = filename.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return Response(
            status: .ok,
            headers: HTTPHeaders([
                ("Content-Type", "text/csv; charset=utf-8"),
                ("Content-Disposition", "attachment; filename=\"\(safeName)\""),
                ("Cache-Control", "no-store"),
            ]), body: .stream(body))
    }
}
