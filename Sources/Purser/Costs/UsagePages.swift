// /t/{tenant}/costs/upload: people send usage as a CSV file; the same rules and the same ingest as
// the API (UsageIngest), with a wrong header refused by name and bad lines listed by number. The
// result is shown on the answer to the upload: sending the file again is harmless (duplicates).
import Foundation
import HTTPServer

enum UsagePages {
    struct Result: Encodable, Sendable {
        let accepted: Int
        let duplicates: Int
        let rejectedCount: Int
        let rejected: [Rejected]
        /// More rejected than listed: the page says the list is the first ones.
        let listedOnly: Int?
        let unpriced: [Unpriced]
    }

    struct Rejected: Encodable, Sendable {
        let position: Int
        let reason: String
    }

    struct Unpriced: Encodable, Sendable {
        let provider: String
        let item: String
        let events: Int
    }

    struct UploadPage: TemplateModel {
        let tenantName: String
        let formToken: String
        let uploadLink: SiteURL
        let columns: String
        var result: Result?
        var errors: [FieldError] = []
    }

    /// Rejected lines listed on the page at most.
    static let listed = 500

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, ingest: UsageIngest) {
        @Sendable func show(_ ctx: TenantContext, result: Result? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok) -> Response {
            let model = UploadPage(
                tenantName: ctx.tenant.name, formToken: ctx.visitor.formToken, uploadLink: .costsUpload(ctx.tenant.slug),
                columns: UsageRules.fields.sorted().joined(separator: ","), result: result, errors: errors)
            return site.page(
                "costs/upload", title: "Upload usage · \(ctx.tenant.name)", model, status: status, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .costsUpload, permission: .usageWrite) { ctx in show(ctx) }

        routes.tenant(
            .post, .costsUpload, permission: .usageWrite,
            // The media type is checked by MultipartForm after the tenant, as for request files.
            // A file over the limit is answered here, unread, with the form again (not the generic
            // 413 page); nothing is uploaded, so the form token in the dropped body is not needed.
            options: RouteOptions(bodyLimit: UsageAPI.bodyLimit, seesOversizedBody: true)
        ) { ctx in
            if ctx.request.bodyTooLarge {
                let limit = Server.size(UsageAPI.bodyLimit)
                return show(
                    ctx, errors: [FieldError(field: "file", detail: "the file is larger than \(limit); split it and upload the parts")],
                    status: .contentTooLarge)
            }
            let form = try MultipartForm(ctx.request)
            try auth.checkFormToken(form["csrf"]?.text, for: ctx.visitor)
            guard let file = form["file"], !file.data.isEmpty else {
                return show(
                    ctx, errors: [FieldError(field: "file", detail: "choose a CSV file of usage events")], status: .unprocessableContent)
            }
            do {
                let items = try CSVUsageParser.lines(file.data)
                let outcome = try ingest.ingest(items, tenant: ctx.tenant.id, actor: ctx.actor, source: .csv, now: ctx.world.now)
                return show(
                    ctx,
                    result: Result(
                        accepted: outcome.accepted, duplicates: outcome.duplicates, rejectedCount: outcome.rejected.count,
                        rejected: outcome.rejected.prefix(listed).map { Rejected(position: $0.position, reason: $0.reason) },
                        listedOnly: outcome.rejected.count > listed ? listed : nil,
                        unpriced: outcome.unpriced.map { Unpriced(provider: $0.provider, item: $0.item, events: $0.events) }))
            } catch let error as UsageCSVHeaderError {
                return show(ctx, errors: [FieldError(field: "header", detail: error.detail ?? "")], status: .unprocessableContent)
            } catch let error as UsageBatchTooLarge {
                return show(ctx, errors: [FieldError(field: "file", detail: error.detail ?? "")], status: .contentTooLarge)
            }
        }
    }
}
