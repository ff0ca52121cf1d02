// /t/{tenant}/access-policies: the tenant's access policies, listed for everyone who may ask, and
// written by tenant admins (tenant.settings.manage): a new one, or one changed (`?edit=<id>`).
import Foundation
import HTTPServer

enum AccessPolicyPages {
    struct Row: Encodable, Sendable {
        let name: String
        let target: String
        let who: String
        let maximum: String
        let approvals: String
        let conditions: String
        let editLink: SiteURL?
    }

    struct Choice: Encodable, Sendable {
        let value: String
        let checked: Bool
    }

    struct Form: Encodable, Sendable {
        var id = ""
        var name = ""
        var ssh = true
        var hostLabels = ""
        var pool = false
        var sshLogin = ""
        var roles: [Choice] = []
        var requesterRoles: [Choice] = []
        var approverRoles: [Choice] = []
        var breakGlassRoles: [Choice] = []
        var maxMinutes = "60"
        var customerApprovals = "1"
        var providerApprovals = "0"
        var links: [Choice] = []
        var businessHours = false
        var breakGlassMinutes = "60"
        var lapseMinutes = "1440"
        var enabled = true
        var permitPortForwarding = false
        var sourceAddresses = ""
        var forceCommand = ""
    }

    struct Page: TemplateModel {
        let formToken: String
        let saveLink: SiteURL
        let accessLink: SiteURL
        let policies: [Row]
        let canEdit: Bool
        let form: Form
        var errors: [FieldError] = []
    }

    static let everyRole = CustomerRole.allCases.map(\.rawValue) + StaffRole.allCases.map(\.rawValue)

    static func form(_ policy: AccessPolicy?) -> Form {
        func choices(_ all: [String], _ chosen: Set<String>) -> [Choice] { all.map { Choice(value: $0, checked: chosen.contains($0)) } }
        guard let policy else {
            return Form(
                roles: choices(everyRole, ["approver"]), requesterRoles: choices(everyRole, ["requester"]),
                approverRoles: choices(CustomerRole.allCases.map(\.rawValue), ["approver", "tenant_admin"]),
                breakGlassRoles: choices(everyRole, []), links: choices(LinkRequirement.allCases.map(\.rawValue), ["none"]))
        }
        return Form(
            id: policy.id.postgresText, name: policy.name, ssh: policy.kind == .ssh,
            hostLabels: policy.hostLabels.joined(separator: ", "), pool: policy.hostSource == .pool,
            sshLogin: policy.sshLogin ?? "", roles: choices(everyRole, [policy.role ?? ""]),
            requesterRoles: choices(everyRole, policy.requesterRoles),
            approverRoles: choices(CustomerRole.allCases.map(\.rawValue), policy.approverRoles),
            breakGlassRoles: choices(everyRole, policy.breakGlassRoles), maxMinutes: String(policy.maxSeconds / 60),
            customerApprovals: String(policy.customerApprovals), providerApprovals: String(policy.providerApprovals),
            links: choices(LinkRequirement.allCases.map(\.rawValue), [policy.linkRequired.rawValue]),
            businessHours: policy.businessHoursOnly, breakGlassMinutes: String(policy.breakGlassMaxSeconds / 60),
            lapseMinutes: String(policy.lapseSeconds / 60), enabled: policy.enabled, permitPortForwarding: policy.permitPortForwarding,
            sourceAddresses: policy.sourceAddresses.joined(separator: ", "), forceCommand: policy.forceCommand ?? "")
    }

    /// The policy a submitted form describes (its values checked by `AccessPolicy.problems` when saved).
    static func policy(_ form: QueryParameters, at now: Date) -> AccessPolicy {
        let all = { (name: String) in Set(form.pairs.filter { $0.name == name }.map(\.value)) }
        let minutes = { (name: String) in (Int(form[name] ?? "") ?? 0) * 60 }
        let ssh = form["kind"] != "role"
        // Source addresses are one field, split on commas and white space.
        let sources = (form["source_addresses"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        let command = (form["force_command"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // Host labels: one field, split like the addresses (a single `host_label` is taken too).
        let labels = ((form["host_labels"] ?? "") + "," + (form["host_label"] ?? ""))
            .split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        return AccessPolicy(
            id: UUID(uuidString: form["id"] ?? "") ?? UUID.v7(at: now), name: form["name"] ?? "", kind: ssh ? .ssh : .role,
            hostLabels: ssh ? labels : [], hostSource: ssh && form["host_source"] == "pool" ? .pool : .tenant,
            sshLogin: ssh ? form["ssh_login"] : nil, role: ssh ? nil : form["role"],
            requesterRoles: all("requester_roles"), maxSeconds: minutes("max_minutes"),
            customerApprovals: Int(form["customer_approvals"] ?? "") ?? -1, approverRoles: all("approver_roles"),
            providerApprovals: Int(form["provider_approvals"] ?? "") ?? -1,
            linkRequired: LinkRequirement(rawValue: form["link_required"] ?? "") ?? .none, businessHoursOnly: form["business_hours"] == "1",
            breakGlassRoles: all("break_glass_roles"), breakGlassMaxSeconds: minutes("break_glass_minutes"),
            lapseSeconds: minutes("lapse_minutes"), enabled: form["enabled"] == "1",
            permitPortForwarding: ssh && form["permit_port_forwarding"] == "1", sourceAddresses: ssh ? sources : [],
            forceCommand: ssh && !command.isEmpty ? command : nil)
    }

    static func register(in routes: inout RouteTable, site: Site, store: AccessStore) {
        @Sendable func page(_ ctx: TenantContext, form: Form? = nil, errors: [FieldError] = []) throws -> Response {
            let slug = ctx.tenant.slug
            let canEdit = ctx.principal.can(.tenantSettingsManage)
            let policies = try store.policies(tenant: ctx.tenant.id)
            let editing = ctx.request.query["edit"].flatMap(UUID.init(uuidString:)).flatMap { id in policies.first { $0.id == id } }
            let model = Page(
                formToken: ctx.visitor.formToken, saveLink: .accessPolicies(slug), accessLink: .access(slug),
                policies: policies.map { policy in
                    Row(
                        name: policy.name + (policy.enabled ? "" : " (off)"), target: policy.target,
                        who: policy.requesterRoles.sorted().joined(separator: ", "), maximum: AccessRules.words(policy.maxSeconds),
                        approvals:
                            "customer \(policy.customerApprovals) (\(policy.approverRoles.sorted().joined(separator: ", "))), provider \(policy.providerApprovals)",
                        conditions: [
                            policy.linkRequired == .none ? nil : "linked \(policy.linkRequired.rawValue)",
                            policy.businessHoursOnly ? "business hours" : nil,
                            policy.breakGlassRoles.isEmpty
                                ? nil
                                : "break-glass: \(policy.breakGlassRoles.sorted().joined(separator: ", ")) up to \(AccessRules.words(policy.breakGlassMaxSeconds))",
                            policy.kind == .ssh && policy.permitPortForwarding ? "port forwarding" : nil,
                            policy.sourceAddresses.isEmpty ? nil : "from \(policy.sourceAddresses.joined(separator: ", "))",
                            policy.forceCommand.map { "only runs \($0)" },
                            "lapses after \(AccessRules.words(policy.lapseSeconds))",
                        ].compactMap { $0 }.joined(separator: "; "),
                        editLink: canEdit ? SiteURL.accessPolicies(slug).adding("edit", policy.id.postgresText) : nil)
                }, canEdit: canEdit, form: form ?? Self.form(editing), errors: errors)
            return site.page(
                "access/policies", title: "Access policies", model, status: errors.isEmpty ? .ok : .unprocessableContent,
                visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .accessPolicies, permission: .accessRequest) { ctx in try page(ctx) }

        routes.tenant(.post, .accessPolicies, permission: .tenantSettingsManage, options: .form) { ctx in
            let submitted = try ctx.form()
            let policy = Self.policy(submitted, at: ctx.world.now)
            do {
                try store.save(policy, tenant: ctx.tenant.id, actor: ctx.actor, principal: ctx.principal)
                return .redirect(to: SiteURL.accessPolicies(ctx.tenant.slug).path)
            } catch let error as AccessRefused {
                return try page(ctx, form: Self.form(policy), errors: [FieldError(field: "host_source", detail: error.detail ?? "refused")])
            } catch let error as AccessPolicyArchived {
                return try page(ctx, form: Self.form(policy), errors: [FieldError(field: "id", detail: error.detail ?? "archived")])
            } catch let error as ValidationError {
                var form = Self.form(policy)
                (form.maxMinutes, form.customerApprovals) = (submitted["max_minutes"] ?? "", submitted["customer_approvals"] ?? "")
                (form.providerApprovals, form.lapseMinutes) = (submitted["provider_approvals"] ?? "", submitted["lapse_minutes"] ?? "")
                form.breakGlassMinutes = submitted["break_glass_minutes"] ?? ""
                form.sourceAddresses = submitted["source_addresses"] ?? ""
                form.hostLabels = submitted["host_labels"] ?? form.hostLabels
                return try page(ctx, form: form, errors: error.fieldErrors)
            }
        }
    }
}
