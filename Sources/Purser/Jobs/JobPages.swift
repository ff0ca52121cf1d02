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
        let retryLink: SiteURL
        let cancelLink: SiteURL
    }

    struct Page: TemplateModel {
        let formToken: String
        let counts: [CountRow]
        let troubled: [TroubleRow]
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, jobs: JobAdministration) {

        @Sendable func render(
            _ visitor: Visitor, message: String? = nil, errors: [FieldError] = [],
            status: HTTPStatus = .ok
        ) throws -> Response {
            var byKind: [String: [String: Int]] = [:]
            for count in try jobs.counts() { byKind[count.kind, default: [:]][count.state] = count.count }
            let counts = byKind.keys.sorted().map { kind in
                let states = byKind[kind]!
                return CountRow(
                    kind: kind, queued: states["queued"] ?? 0, running: states["running"] ?? 0,
                    failed: states["failed"] ?? 0, succeeded: states["succeeded"] ?? 0, dead: states["dead"] ?? 0)
            }
            let troubled = try jobs.troubled().map {
                TroubleRow(
                    id: String($0.id), kind: $0.kind, tenant: $0.tenant ?? "—", attempts: $0.attempts, error: $0.error,
                    finished: DisplayTime.format($0.finishedAt), retryLink: .staffJobRetry($0.id),
                    cancelLink: .staffJobCancel($0.id))
            }
            return site.page(
                "jobs/index", title: "Jobs",
                Page(
                    formToken: visitor.formToken, counts: counts, troubled: troubled,
                    message: message, errors: errors),
                status: status, visitor: visitor)
        }

        routes.staff(.get, .staffJobs, permission: .jobsManage) { ctx in try render(ctx.visitor) }
        // The address people may know from other tools.
        routes.everyone(.get, .adminJobs) { _ in .redirect(to: SitePage.staffJobs.url.path, status: .movedPermanently) }

        let changes: [(page: SitePage, verb: String, change: @Sendable (Int64, AuditActor) throws -> Void)] = [
            (.staffJobRetry, "queued again", { try jobs.retry($0, by: $1) }),
            (.staffJobCancel, "cancelled", { try jobs.cancel($0, by: $1) }),
        ]
        for (page, verb, change) in changes {
            routes.staff(.post, page, permission: .jobsManage, options: .form) { ctx in
                _ = try ctx.form()
                guard let id = Int64(try ctx.request.parameter("id")) else { throw HTTPError(.notFound) }
                do {
                    try change(id, ctx.actor)
                    return try render(ctx.visitor, message: "Job \(id) \(verb).")
                } catch let error as ValidationError {
                    return try render(ctx.visitor, errors: error.fieldErrors, status: error.status)
                }
            }
        }
    }
}
