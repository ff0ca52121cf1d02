// /staff/targets: the provider's staff (providers.manage) make deployment targets for a tenant —
// the sandbox, a SageMaker account whose keys are sealed at once (and never shown again, only
// their last four characters), or a GPU host pool — and see every tenant's targets.
import Foundation
import HTTPServer

enum TargetPages {
    struct Row: Encodable, Sendable {
        let tenant: String
        let name: String
        let kind: String
        let region: String
        let endpointURL: String
        let credentials: String
        let created: String
    }

    struct Page: TemplateModel {
        let formToken: String
        let createLink: SiteURL
        let environmentLink = SitePage.staffEnvironments.url
        let deploymentsLink: SiteURL
        let rows: [Row]
        let kinds: [DeploymentPages.Option]
        let tenant: String
        let name: String
        let region: String
        let endpointURL: String
        let settings: String
        /// What was typed in the environment form, kept when it is refused.
        let environmentTenant: String
        let environmentName: String
        let environmentPosition: String
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, targets: DeploymentTargets, database: Database) {
        @Sendable func render(
            _ ctx: PageContext, form: QueryParameters? = nil, environmentForm: QueryParameters? = nil, message: String? = nil,
            errors: [FieldError] = [], status: HTTPStatus = .ok
        ) throws -> Response {
            let rows = try targets.allTargets().map { entry in
                Row(
                    tenant: entry.tenant, name: entry.target.name, kind: entry.target.kind.label, region: entry.target.region ?? "—",
                    endpointURL: entry.target.endpointURL ?? "—", credentials: entry.target.credentialsHint ?? "—",
                    created: DisplayTime.format(entry.target.createdAt))
            }
            return site.page(
                "deployments/targets", title: "Deployment targets",
                Page(
                    formToken: ctx.visitor.formToken, createLink: SitePage.staffTargets.url,
                    deploymentsLink: SitePage.staffDeployments.url, rows: rows,
                    kinds: TargetKind.allCases.map {
                        DeploymentPages.Option(value: $0.rawValue, label: $0.label, selected: (form?["kind"] ?? "sandbox") == $0.rawValue)
                    },
                    tenant: form?["tenant"] ?? "", name: form?["name"] ?? "", region: form?["region"] ?? "",
                    endpointURL: form?["endpoint_url"] ?? "", settings: form?["settings"] ?? "",
                    environmentTenant: environmentForm?["tenant"] ?? "", environmentName: environmentForm?["environment"] ?? "",
                    environmentPosition: environmentForm?["position"] ?? "", message: message, errors: errors),
                status: status, visitor: ctx.visitor)
        }

        routes.staff(.get, .staffTargets, permission: .providersManage) { ctx in try render(ctx) }

        // A tenant's environments, in order: the second form of the page.
        routes.staff(.post, .staffEnvironments, permission: .providersManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let slug = (form["tenant"] ?? "").trimmingCharacters(in: .whitespaces)
                guard
                    let tenant = try database.asStaff({
                        try $0.query("SELECT id FROM tenants WHERE slug = $1", [slug]).first?.require(0, as: UUID.self)
                    })
                else { throw ValidationError(field: "tenant", "no tenant with this slug") }
                let made = try targets.createEnvironment(
                    name: form["environment"] ?? "", position: Int(form["position"] ?? "") ?? 0, tenant: tenant, actor: ctx.actor)
                return try render(ctx, message: "Environment \(made.name) (\(made.position)) made for \(slug).", status: .created)
            } catch let error as ValidationError {
                return try render(ctx, environmentForm: form, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.staff(.post, .staffTargets, permission: .providersManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let slug = (form["tenant"] ?? "").trimmingCharacters(in: .whitespaces)
                guard
                    let tenant = try database.asStaff({
                        try $0.query("SELECT id FROM tenants WHERE slug = $1", [slug]).first?.require(0, as: UUID.self)
                    })
                else { throw ValidationError(field: "tenant", "no tenant with this slug") }
                let key = (form["access_key_id"] ?? "").trimmingCharacters(in: .whitespaces)
                let secret = form["secret_access_key"] ?? ""
                let apiKey = (form["api_key"] ?? "").trimmingCharacters(in: .whitespaces)
                let made = try targets.create(
                    NewTarget(
                        name: form["name"] ?? "", kind: form["kind"] ?? "", region: form["region"], endpointURL: form["endpoint_url"],
                        credentials: key.isEmpty && secret.isEmpty && apiKey.isEmpty
                            ? nil : ProviderCredentials(accessKeyID: key, secretAccessKey: secret, apiKey: apiKey.isEmpty ? nil : apiKey),
                        settings: form["settings"]),
                    tenant: tenant, by: ctx.visitor.user, actor: ctx.actor)
                return try render(ctx, message: "Target \(made.name) made for \(slug).", status: .created)
            } catch let error as ValidationError {
                // The secret is never echoed back into the form.
                return try render(ctx, form: form, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
