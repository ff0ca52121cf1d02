// /staff/jobs: the queue at a glance for platform engineers and provider admins — counts by kind
// and state, dead and retrying jobs with their errors, retry and cancel.
import Foundation
import HTTPServer

enum JobPages {
    struct CountRow: Encodable, Sendable {
        let kind: String
        let queued: Int
        let running: Int
        let failed: Int
        let succeeded: Int
        let dead: Int
    }

    struct TroubleRow: Encodable, Sendable {
        let id: String
        let kind: String
        let tenant: String
        let attempts: Int
        let error: String
        let finished: String
    }

    struct Page: TemplateModel {
        let formToken: String
        let counts: [CountRow]
        let troubled: [TroubleRow]
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, jobs: JobAdministration) {

        @Sendable func staff(_ request: Request) throws -> Visitor {
            let visitor = try auth.staff(request)
            try visitor.principal(in: nil).require(.jobsManage)
            return visitor
        }

        @Sendable func render(_ visitor: Visitor, message: String? = nil, errors: [FieldError] = [],
                              status: HTTPStatus = .ok) throws -> Response {
            var byKind: [String: [String: Int]] = [:]
            for count in try jobs.counts() { byKind[count.kind, default: [:]][count.state] = count.count }
            let counts = byKind.keys.sorted().map { kind in
                let states = byKind[kind]!
                return CountRow(kind: kind, queued: states["queued"] ?? 0, running: states["running"] ?? 0,
                                failed: states["failed"] ?? 0, succeeded: states["succeeded"] ?? 0, dead: states["dead"] ?? 0)
            }
            let troubled = try jobs.troubled().map {
                TroubleRow(id: String($0.id), kind: $0.kind, tenant: $0.tenant ?? "—", attempts: $0.attempts, error: $0.error,
                           finished: DisplayTime.format($0.finishedAt))
            }
            return site.page("jobs/index", title: "Jobs", Page(formToken: visitor.formToken, counts: counts, troubled: troubled,
                                                                message: message, errors: errors),
                             status: status, visitor: visitor)
        }

        routes.add(.get, "/staff/jobs", access: .permission(.jobsManage)) { request in try render(try staff(request)) }
        // The address people may know from other tools.
        routes.add(.get, "/admin/jobs", access: .everyone) { _ in .redirect(to: "/staff/jobs", status: .movedPermanently) }

        for (action, verb) in [("retry", "queued again"), ("cancel", "cancelled")] {
            routes.add(.post, "/staff/jobs/{id}/\(action)", access: .permission(.jobsManage), options: .form) { request in
                let visitor = try staff(request)
                _ = try auth.form(request, from: visitor)
                guard let id = Int64(try request.parameter("id")) else { throw HTTPError(.notFound) }
                do {
                    if action == "retry" {
                        try jobs.retry(id, by: visitor.user, origin: RequestOrigin(request))
                    } else {
                        try jobs.cancel(id, by: visitor.user, origin: RequestOrigin(request))
                    }
                    return try render(visitor, message: "Job \(id) \(verb).")
                } catch let error as ValidationError {
                    return try render(visitor, errors: error.fieldErrors, status: error.status)
                }
            }
        }
    }
}
