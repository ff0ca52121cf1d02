// /t/{tenant}/models: the tenant's models with their versions and model cards (Markdown), and the
// provider's catalogue they can start from.
import Foundation
import HTTPServer

enum RegistryPages {
    struct VersionView: Encodable, Sendable {
        let version: String
        let format: String
        let size: String
        let context: String
        let digest: String
        let artifact: String
        let created: String
        let cardHTML: String
    }

    struct ModelView: Encodable, Sendable {
        let name: String
        let family: String
        let source: String
        let licence: String
        let owner: String
        let versions: [VersionView]
    }

    struct CatalogueView: Encodable, Sendable {
        let name: String
        let publisher: String
        let size: String
        let context: String
        let licence: String
        let openWeights: Bool
    }

    struct Page: TemplateModel {
        let tenantName: String
        let models: [ModelView]
        let catalogue: [CatalogueView]
        let deploymentsLink: SiteURL
        let newDeploymentLink: SiteURL
        let canRequest: Bool
    }

    /// 8 030 000 000 → "8.0B"; 70 600 000 000 → "70.6B".
    static func parameters(_ count: Int64) -> String {
        let billions = Double(count) / 1e9
        return billions >= 1 ? String(format: "%.1fB", billions) : String(format: "%.0fM", Double(count) / 1e6)
    }

    static func register(in routes: inout RouteTable, site: Site, registry: ModelRegistry) {
        routes.tenant(.get, .models, permission: .deploymentsRead) { ctx in
            let tenant = ctx.tenant
            // One query for every version, grouped by model: no query per model.
            let versions = Dictionary(grouping: try registry.allVersions(tenant: tenant.id), by: \.modelID)
            let models = try registry.models(tenant: tenant.id, limit: 100).map { model in
                ModelView(
                    name: model.name, family: model.family, source: model.source.replacingOccurrences(of: "_", with: " "),
                    licence: model.licence, owner: model.owner?.name ?? "—",
                    versions: (versions[model.id] ?? []).map {
                        VersionView(
                            version: $0.version, format: $0.format, size: parameters($0.parameterCount),
                            context: "\($0.contextLength / 1024)k tokens", digest: String($0.digest.prefix(19)) + "…",
                            artifact: $0.artifactURI, created: DisplayTime.format($0.createdAt), cardHTML: Markdown.html($0.card))
                    })
            }
            let catalogue = try registry.catalogue().map {
                CatalogueView(
                    name: $0.name, publisher: $0.publisher, size: parameters($0.parameterCount),
                    context: "\($0.contextLength / 1024)k tokens", licence: $0.licence, openWeights: $0.openWeights)
            }
            return site.page(
                "models/index", title: "Models · \(tenant.name)",
                Page(
                    tenantName: tenant.name, models: models, catalogue: catalogue, deploymentsLink: .deployments(tenant.slug),
                    newDeploymentLink: .deploymentNew(tenant.slug), canRequest: ctx.principal.can(.deploymentsRequest)),
                visitor: ctx.visitor, tenant: tenant)
        }
    }
}
