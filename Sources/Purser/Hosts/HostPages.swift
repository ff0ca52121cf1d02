// The GPU host inventory as pages: /t/{tenant}/hosts lists a tenant's hosts (for those who may ask
// for SSH access to them, and for staff who manage hosts), /staff/hosts every host, the shared
// pool's included. Staff who manage hosts add hosts there and drain or undrain them.
import Foundation
import HTTPServer

enum HostPages {
    struct Row: Encodable, Sendable {
        let id: String
        let name: String
        let tenant: String
        let address: String
        let runtime: String
        let gpus: String
        let models: String
        let labels: String
        let state: String
        let health: String
        let principal: String
        let canDrain: Bool
        let canUndrain: Bool
    }

    struct ListPage: TemplateModel {
        let heading: String
        let formToken: String
        let formLink: SiteURL
        let rows: [Row]
        /// The next page of hosts (by tenant, then name), nil on the last; and back to the first.
        let nextLink: SiteURL?
        let firstLink: SiteURL?
        let showTenant: Bool
        let canEdit: Bool
        let caLink = SitePage.sshCAPublicKey.url
        let krlLink = SitePage.sshKRL.url
        /// Where staff hear of pool hosts going down (the staff page only).
        let providerChannelsLink = SitePage.staffProviderChannels.url
        var values: [String: String] = [:]
        /// The add form's runtimes, the one chosen before a refusal still chosen.
        var runtimes: [Option] = []
        var errors: [FieldError] = []
        var message: String?
    }

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    /// Hosts on one page; the rest follow the page's next link.
    static let pageSize = 200

    static func row(_ host: GPUHost, canEdit: Bool) -> Row {
        let health: String
        if let reading = host.health, let at = host.healthAt {
            let used = reading.gpus.map { "\($0.utilizationPercent)%" }.joined(separator: " ")
            health =
                "\(reading.gpus.count) GPU(s) \(used), up \(reading.uptimeSeconds / 3600) h, disk \(reading.diskPercent)% — \(DisplayTime.format(at))"
        } else {
            health = "not read yet"
        }
        return Row(
            id: host.id.postgresText, name: host.name, tenant: host.tenantSlug ?? "shared pool", address: "\(host.address):\(host.sshPort)",
            runtime: host.runtime.rawValue,
            gpus: host.gpus.map { "\($0.count)× \($0.model) (\($0.memoryMiB) MiB)" }.joined(separator: ", "),
            models: host.models.joined(separator: ", "), labels: host.labels.joined(separator: ", "), state: host.state.rawValue,
            health: host.healthError.map { health + " · " + $0 } ?? health, principal: SSHPrincipal.purser(hostName: host.name),
            canDrain: canEdit && host.state != .draining, canUndrain: canEdit && host.state == .draining)
    }

    /// The form's fields as a host's input: one GPU kind, lists split on commas and lines.
    static func input(_ form: QueryParameters) -> HostInput {
        func list(_ name: String, lines: Bool = false) -> [String] {
            (form[name] ?? "").split(whereSeparator: { lines ? $0.isNewline : ($0 == "," || $0.isNewline) }).map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }
        var input = HostInput()
        input.name = form["name"] ?? ""
        input.address = form["address"] ?? ""
        // The port and login fields start empty with 22 and purser as placeholders: empty is those.
        let port = (form["ssh_port"] ?? "").trimmingCharacters(in: .whitespaces)
        input.sshPort = port.isEmpty ? 22 : Int(port) ?? -1
        input.sshLogin = (form["ssh_login"] ?? "").isEmpty ? "purser" : form["ssh_login"]
        input.hostKeys = list("host_keys", lines: true)
        input.labels = list("labels")
        input.models = list("models")
        input.runtime = form["runtime"] ?? ""
        if let model = form["gpu_model"], !model.isEmpty {
            input.gpus = [
                GPUHost.GPU(model: model, count: Int(form["gpu_count"] ?? "") ?? 0, memoryMiB: Int(form["gpu_memory_mib"] ?? "") ?? 0)
            ]
        }
        return input
    }

    static func register(in routes: inout RouteTable, site: Site, store: HostStore) {
        @Sendable func page(
            _ visitor: Visitor, tenant: TenantMembership?, reach: HostStore.Reach, canEdit: Bool, form: QueryParameters? = nil,
            errors: [FieldError] = [], message: String? = nil, status: HTTPStatus = .ok, cursor: String? = nil
        ) throws -> Response {
            let link = tenant.map { SiteURL.hosts($0.slug) } ?? SitePage.staffHosts.url
            // A cursor is "<tenant slug>/<host name>" as the API's next_cursor; another value starts over.
            let after = cursor.flatMap {
                $0.range(of: "^[a-z0-9-]{0,40}/[a-z0-9-]{1,40}\\z", options: .regularExpression) == nil ? nil : $0
            }
            let hosts = try store.list(reach, after: after, limit: pageSize + 1)
            let shown = hosts.prefix(pageSize)
            var model = ListPage(
                heading: tenant.map { "GPU hosts of \($0.name)" } ?? "GPU hosts", formToken: visitor.formToken, formLink: link,
                rows: shown.map { row($0, canEdit: canEdit) },
                nextLink: hosts.count > pageSize ? shown.last.map { link.adding("cursor", HostStore.cursor(after: $0)) } : nil,
                firstLink: after == nil ? nil : link, showTenant: tenant == nil, canEdit: canEdit)
            let runtime = form?["runtime"] ?? GPUHost.Runtime.vllm.rawValue
            model.runtimes = [("vllm", "vLLM"), ("tgi", "TGI")].map { Option(value: $0.0, label: $0.1, selected: $0.0 == runtime) }
            model.errors = errors
            model.message = message
            if let form {
                for name in [
                    "name", "address", "ssh_port", "ssh_login", "host_keys", "labels", "models", "runtime", "gpu_model", "gpu_count",
                    "gpu_memory_mib",
                ] {
                    model.values[name] = form[name] ?? ""
                }
            }
            return site.page("hosts/index", title: model.heading, model, status: status, visitor: visitor, tenant: tenant)
        }

        /// A POST: drain or undrain the host named, or add one.
        @Sendable func post(_ form: QueryParameters, tenant: UUID?, reach: HostStore.Reach, actor: AuditActor) throws -> String {
            if let id = form["host"].flatMap(UUID.init(uuidString:)) {
                var change = HostInput()
                change.state = form["state"] ?? ""
                let host = try store.update(id, change, reach: reach, ifMatch: nil, actor: actor)
                return host.state == .draining ? "\(host.name) is draining." : "\(host.name) is undrained."
            }
            let host = try store.create(input(form), tenant: tenant, actor: actor)
            return "Added \(host.name)."
        }

        routes.tenant(.get, .hosts, permission: .accessRequest) { ctx in
            try page(
                ctx.visitor, tenant: ctx.tenant, reach: .tenant(ctx.tenant.id), canEdit: ctx.principal.can(.providersManage),
                cursor: ctx.request.query["cursor"])
        }
        routes.tenant(.post, .hosts, permission: .providersManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let message = try post(form, tenant: ctx.tenant.id, reach: .tenant(ctx.tenant.id), actor: ctx.actor)
                return try page(ctx.visitor, tenant: ctx.tenant, reach: .tenant(ctx.tenant.id), canEdit: true, message: message)
            } catch let error as ValidationError {
                return try page(
                    ctx.visitor, tenant: ctx.tenant, reach: .tenant(ctx.tenant.id), canEdit: true, form: form, errors: error.fieldErrors,
                    status: error.status)
            }
        }
        routes.staff(.get, .staffHosts, permission: .providersManage) { ctx in
            try page(ctx.visitor, tenant: nil, reach: .staff, canEdit: true, cursor: ctx.request.query["cursor"])
        }
        routes.staff(.post, .staffHosts, permission: .providersManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                let message = try post(form, tenant: nil, reach: .staff, actor: ctx.actor)
                return try page(ctx.visitor, tenant: nil, reach: .staff, canEdit: true, message: message)
            } catch let error as ValidationError {
                return try page(
                    ctx.visitor, tenant: nil, reach: .staff, canEdit: true, form: form, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
