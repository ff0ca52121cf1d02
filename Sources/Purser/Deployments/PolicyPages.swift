// /t/{tenant}/deployments/policies: who must approve a deployment to each environment, set by the
// tenant's admins (tenant.settings.manage) — how many approvals from which roles, the provider's
// sign-off, reset on change, how long approvals count, and the promotion gate. Audited.
import Foundation
import HTTPServer

enum PolicyPages {
    struct RoleChoice: Encodable, Sendable {
        let value: String
        let checked: Bool
    }

    struct EnvironmentPolicy: Encodable, Sendable {
        let environment: String
        let position: Int
        let summary: String
        let requiredApprovals: Int
        let roles: [RoleChoice]
        let providerSignoff: Bool
        let resetOnChange: Bool
        let validityHours: Int
        let promotionGateHours: Double
    }

    struct Page: TemplateModel {
        let formToken: String
        let saveLink: SiteURL
        let deploymentsLink: SiteURL
        let policies: [EnvironmentPolicy]
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        @Sendable func render(_ ctx: TenantContext, message: String? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok) throws
            -> Response
        {
            let tenant = ctx.tenant.id
            let policies = try database.inTenant(tenant) { tx in
                try DeploymentTargets.environments(tx, tenant: tenant).map { environment in
                    let policy = try ApprovalPolicies.policy(tx, tenant: tenant, environment: environment.id)
                    return EnvironmentPolicy(
                        environment: environment.name, position: environment.position, summary: DeploymentPages.policyText(policy),
                        requiredApprovals: policy.requiredApprovals,
                        roles: [CustomerRole.approver, .tenantAdmin].map {
                            RoleChoice(value: $0.rawValue, checked: policy.approverRoles.contains($0))
                        },
                        providerSignoff: policy.providerSignoff, resetOnChange: policy.resetOnChange,
                        validityHours: Int(policy.validity / 3600), promotionGateHours: policy.promotionGate / 3600)
                }
            }
            return site.page(
                "deployments/policies", title: "Approval policies",
                Page(
                    formToken: ctx.visitor.formToken, saveLink: .deploymentPolicies(ctx.tenant.slug),
                    deploymentsLink: .deployments(ctx.tenant.slug), policies: policies, message: message, errors: errors),
                status: status, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .deploymentPolicies, permission: .tenantSettingsManage) { ctx in try render(ctx) }

        routes.tenant(.post, .deploymentPolicies, permission: .tenantSettingsManage, options: .form) { ctx in
            let form = try ctx.form()
            let tenant = ctx.tenant.id
            do {
                let name = form["environment"] ?? ""
                guard
                    let environment = try database.inTenant(tenant, { try DeploymentTargets.environments($0, tenant: tenant) })
                        .first(where: { $0.name == name })
                else { throw ValidationError(field: "environment", "no such environment") }
                guard let required = Int(form["required_approvals"] ?? ""),
                    let validity = Double(form["validity_hours"] ?? ""), validity > 0,
                    let gate = Double((form["promotion_gate_hours"] ?? "").isEmpty ? "0" : form["promotion_gate_hours"]!), gate >= 0
                else {
                    throw ValidationError(
                        field: "required_approvals", "whole approvals, and hours as numbers (validity above 0, the gate 0 or more)")
                }
                // "inf" and 1e308 read as numbers; hours beyond a year are refused before they become seconds.
                let year = ApprovalPolicies.longest / 3600
                guard validity * 3600 >= 1, validity <= year else {
                    throw ValidationError(field: "validity_hours", "1 second to 8760 hours")
                }
                guard gate <= year else { throw ValidationError(field: "promotion_gate_hours", "0 to 8760 hours") }
                let roles = form.pairs.filter { $0.name == "approver_roles" }.compactMap { CustomerRole(rawValue: $0.value) }
                let policy = ApprovalPolicy(
                    requiredApprovals: required, approverRoles: roles, providerSignoff: form["provider_signoff"] == "1",
                    resetOnChange: form["reset_on_change"] == "1", validity: validity * 3600, promotionGate: gate * 3600)
                try database.inTenant(tenant) { tx in
                    try ApprovalPolicies.set(
                        tx, policy, tenant: tenant, environment: environment.id, by: ctx.visitor.user, actor: ctx.actor, at: ctx.world.now)
                }
                return try render(ctx, message: "The policy for \(environment.name) is saved.")
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
