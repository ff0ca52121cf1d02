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
        let basePath: String
        let actor: String
        let action: String
        let target: String
        let from: String
        let until: String
        let chain: String
        let staff: Bool
        let rows: [Row]
        let nextPage: String?
        let csvLink: String
        var errors: [FieldError] = []
    }

    static let pageSize = 50

    /// How to read one chain: which chain, and a transaction that can see it.
    struct Source: Sendable {
        let chain: String
        let read: @Sendable (_ body: (Connection) throws -> [AuditRow]) throws -> [AuditRow]
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, database: Database) {
        @Sendable func tenantSource(_ request: Request) throws -> (Visitor, TenantMembership, Source) {
            let visitor = try auth.signedIn(request)
            let tenant = try auth.tenant(request, for: visitor)
            try visitor.principal(in: tenant).require(.auditRead)
            let id = tenant.id
            return (visitor, tenant, Source(chain: AuditLog.chain(for: id)) { body in try database.inTenant(id, body) })
        }

        @Sendable func staffSource(_ request: Request) throws -> (Visitor, Source) {
            let visitor = try auth.staff(request)
            try visitor.principal(in: nil).require(.auditRead)
            let requested = request.query["chain"] ?? ""
            var chain = AuditLog.providerChain
            if !requested.isEmpty && requested != AuditLog.providerChain {
                guard let id = try database.pool.query("SELECT id FROM tenants WHERE slug = $1", [requested]).first?
                    .require(0, as: UUID.self) else { throw ValidationError(field: "chain", "there is no tenant \(requested)") }
                chain = AuditLog.chain(for: id)
            }
            return (visitor, Source(chain: chain) { body in try database.asStaff(body) })
        }

        routes.add(.get, "/t/{tenant}/audit", access: .permission(.auditRead)) { request in
            let (visitor, tenant, source) = try tenantSource(request)
            return try page(request, site: site, visitor: visitor, tenant: tenant, source: source,
                            heading: "Audit log · \(tenant.name)", basePath: "/t/\(tenant.slug)/audit")
        }
        routes.add(.get, "/t/{tenant}/audit.csv", access: .permission(.auditRead)) { request in
            let (_, tenant, source) = try tenantSource(request)
            return try csv(request, source: source, filename: "audit-\(tenant.slug).csv")
        }
        routes.add(.get, "/staff/audit", access: .permission(.auditRead)) { request in
            do {
                let (visitor, source) = try staffSource(request)
                return try page(request, site: site, visitor: visitor, tenant: nil, source: source,
                                heading: "Audit log", basePath: "/staff/audit")
            } catch let error as ValidationError {
                let visitor = try auth.signedIn(request)
                return site.page("audit/index", title: "Audit log", Page(
                    heading: "Audit log", basePath: "/staff/audit", actor: "", action: "", target: "", from: "", until: "",
                    chain: request.query["chain"] ?? "", staff: true, rows: [], nextPage: nil, csvLink: "/staff/audit.csv",
                    errors: error.fieldErrors), status: error.status, visitor: visitor)
            }
        }
        routes.add(.get, "/staff/audit.csv", access: .permission(.auditRead)) { request in
            let (_, source) = try staffSource(request)
            return try csv(request, source: source, filename: "audit-\(request.query["chain"] ?? "provider").csv")
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
        let filter = AuditFilter(actor: text("actor"), action: text("action"), target: text("target"), from: day("from"),
                                 until: day("until").map { $0.addingTimeInterval(86400) })
        if !errors.isEmpty { throw ValidationError(errors) }
        return filter
    }

    static func page(_ request: Request, site: Site, visitor: Visitor, tenant: TenantMembership?, source: Source,
                     heading: String, basePath: String) throws -> Response {
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
        var query = request.query.pairs.filter { $0.name != "before" }
        let csvQuery = query.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }.joined(separator: "&")
        if more, let last = rows.last { query.append(("before", String(last.sequence))) }
        let next = more ? basePath + "?" + query.map { WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value) }
            .joined(separator: "&") : nil
        let model = Page(
            heading: heading, basePath: basePath, actor: request.query["actor"] ?? "", action: request.query["action"] ?? "",
            target: request.query["target"] ?? "", from: request.query["from"] ?? "", until: request.query["until"] ?? "",
            chain: request.query["chain"] ?? "", staff: tenant == nil,
            rows: rows.map { row in
                Row(sequence: String(row.sequence), time: DisplayTime.format(row.occurredAt), actor: row.actor,
                    actorKind: row.actorKind, action: row.action,
                    target: row.targetType.isEmpty ? row.targetID : row.targetType + " " + row.targetID, reason: row.reason,
                    address: row.address, change: [row.before, row.after].filter { !$0.isEmpty }.joined(separator: " → "))
            },
            nextPage: next, csvLink: basePath + ".csv" + (csvQuery.isEmpty ? "" : "?" + csvQuery), errors: errors)
        return site.page("audit/index", title: heading, model, status: errors.isEmpty ? .ok : .unprocessableContent,
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
        return Response(status: .ok, headers: HTTPHeaders([
            ("Content-Type", "text/csv; charset=utf-8"),
            ("Content-Disposition", "attachment; filename=\"\(safeName)\""),
            ("Cache-Control", "no-store"),
        ]), body: .stream(body))
    }
}
