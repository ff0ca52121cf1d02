// The access pages: /t/{tenant}/access (ask or break glass, my grants with time left, access
// requests waiting for my decision, the history, searchable), /t/{tenant}/access/{id} (one access
// request: its decisions, grant and audit trail, with the buttons its viewer may use) and
// /staff/access (every live grant). A refusal of the rules is shown on the form, not as an error page.
import Foundation
import HTTPServer

enum AccessPages {
    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        var selected = false
    }

    struct GrantRow: Encodable, Sendable {
        let link: SiteURL
        let holder: String
        let target: String
        let window: String
        let state: String
        let timeLeft: String
        let breakGlass: Bool
        var tenant: String? = nil
    }

    struct RequestRow: Encodable, Sendable {
        let link: SiteURL
        let requester: String
        let target: String
        let policy: String
        let duration: String
        let state: String
        let created: String
        let reason: String
        let breakGlass: Bool
    }

    struct IndexPage: TemplateModel {
        let formToken: String
        let createLink: SiteURL
        let policiesLink: SiteURL
        let policies: [Option]
        let grants: [GrantRow]
        let waiting: [RequestRow]
        let history: [RequestRow]
        let nextLink: SiteURL?
        let q: String
        let states: [Option]
        let seesAll: Bool
        let canDecide: Bool
        var form = FormValues()
        var errors: [FieldError] = []
    }

    struct FormValues: Encodable, Sendable {
        var host = ""
        var minutes = "60"
        var start = ""
        var reason = ""
        var publicKey = ""
        var linkedRequest = ""
        /// SSH: narrowing the policy's certificate options (AccessCertificateOptions).
        var noPortForwarding = false
        var sourceAddresses = ""
        var forceCommand = ""
        /// The form's one-time key: sending it twice files one access request (`FormSubmissions`).
        var formKey = FormSubmissions.newKey()

        var options: CertificateOptions {
            let sources = sourceAddresses.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            let command = forceCommand.trimmingCharacters(in: .whitespacesAndNewlines)
            return CertificateOptions(
                permitPortForwarding: noPortForwarding ? false : nil, sourceAddresses: sources.isEmpty ? nil : sources,
                forceCommand: command.isEmpty ? nil : command)
        }
    }

    struct Decision: Encodable, Sendable {
        let who: String
        let side: String
        let decision: String
        let reason: String
        let when: String
    }

    struct TrailRow: Encodable, Sendable {
        let when: String
        let who: String
        let action: String
        let reason: String?
    }

    struct ShowPage: TemplateModel {
        let formToken: String
        let backLink: SiteURL
        let title: String
        let requester: String
        let policy: String
        let reason: String
        let duration: String
        let start: String
        let state: String
        let breakGlass: Bool
        let lapse: String
        let owed: String?
        let decisions: [Decision]
        let grant: GrantRow?
        let grantEnd: String?
        /// SSH: what the grant's certificates carry, in words.
        let certificateOptions: String?
        let trail: [TrailRow]
        let decideLink: SiteURL?
        let withdrawLink: SiteURL?
        let revokeLink: SiteURL?
        let certificateLink: SiteURL?
        let extend: ExtendForm?
        var errors: [FieldError] = []
        /// The reason typed in the decision form, kept when the decision is refused.
        var decisionReason = ""
    }

    struct ExtendForm: Encodable, Sendable {
        let link: SiteURL
        let policyID: String
        let grantID: String
        let host: String
    }

    struct StaffPage: TemplateModel {
        let grants: [GrantRow]
    }

    static func grantRow(_ grant: AccessGrantRecord, slug: String, at now: Date) -> GrantRow {
        let state = grant.state(at: now)
        let left: String
        switch state {
        case .active where grant.startsAt > now: left = "starts in " + DisplayTime.duration(grant.startsAt.timeIntervalSince(now))
        case .active: left = DisplayTime.duration(grant.endsAt.timeIntervalSince(now))
        default: left = "—"
        }
        return GrantRow(
            link: .accessRequest(slug, id: grant.requestID), holder: grant.userName,
            target: grant.kind == .ssh ? "SSH \(grant.principal ?? "")" : "role \(grant.role ?? "")",
            window: DisplayTime.format(grant.startsAt) + " – " + DisplayTime.format(grant.endsAt), state: state.rawValue, timeLeft: left,
            breakGlass: grant.breakGlass)
    }

    static func requestRow(_ record: AccessRequestRecord, slug: String) -> RequestRow {
        RequestRow(
            link: .accessRequest(slug, id: record.id), requester: record.requesterName, target: record.target, policy: record.policyName,
            duration: AccessRules.words(record.durationSeconds), state: record.state.rawValue,
            created: DisplayTime.format(record.createdAt),
            reason: String(record.reason.prefix(200)), breakGlass: record.breakGlass)
    }

    /// A refusal of the rules or a bad value, as the form's messages.
    static func messages(_ error: Error) -> [FieldError]? {
        if let error = error as? ValidationError { return error.fieldErrors }
        if let error = error as? AccessRefused { return [FieldError(field: "access", detail: error.detail ?? "refused")] }
        if error is NotFound { return [FieldError(field: "access", detail: "not found")] }
        return nil
    }

    static func register(in routes: inout RouteTable, site: Site, store: AccessStore, grants: AccessGrants, query: AccessQuery) {
        /// A pool policy's hosts by name, for its people to ask for (the pool is shown nowhere else to a tenant).
        @Sendable func poolHosts(_ policy: AccessPolicy) throws -> String {
            guard policy.kind == .ssh, policy.hostSource == .pool else { return "" }
            let names = try AccessPoolHosts.names(labels: policy.hostLabels, in: store.database)
            return names.isEmpty ? " (no pool host carries its labels yet)" : " (pool hosts: \(names.joined(separator: ", ")))"
        }
        @Sendable func index(_ ctx: TenantContext, form: FormValues = FormValues(), policy: UUID? = nil, errors: [FieldError] = [])
            throws -> Response
        {
            let tenant = ctx.tenant, now = ctx.world.now
            let params = ctx.request.query
            let seesAll = AccessQuery.seesAll(ctx.principal)
            let canDecide = ctx.principal.can(.accessApprove) || ctx.principal.can(.accessApproveProvider)
            let state = params["state"].flatMap(AccessRequestState.init(rawValue:))
            let history = try query.requests(
                tenant: tenant.id, principal: ctx.principal, view: seesAll ? .all : .mine, state: state, text: params["q"],
                cursor: (params["cursor"] ?? "").isEmpty ? nil : params["cursor"], limit: 50)
            let model = IndexPage(
                formToken: ctx.visitor.formToken, createLink: .access(tenant.slug), policiesLink: .accessPolicies(tenant.slug),
                policies: try store.policies(tenant: tenant.id).filter(\.enabled).map {
                    Option(
                        value: $0.id.postgresText,
                        label: "\($0.name): \($0.target), up to \(AccessRules.words($0.maxSeconds))"
                            + ($0.breakGlassRoles.isEmpty ? "" : " (break-glass: \($0.breakGlassRoles.sorted().joined(separator: ", ")))")
                            + (try poolHosts($0)),
                        selected: $0.id == policy)
                },
                grants: try query.grants(tenant: tenant.id, user: ctx.visitor.user, liveOnly: false, at: now, limit: 20).map {
                    grantRow($0, slug: tenant.slug, at: now)
                },
                waiting: canDecide
                    ? try query.requests(tenant: tenant.id, principal: ctx.principal, view: .waiting, limit: 50).items.map {
                        requestRow($0, slug: tenant.slug)
                    } : [],
                history: history.items.map { requestRow($0, slug: tenant.slug) },
                nextLink: history.next.map {
                    SiteURL.access(tenant.slug).adding("q", params["q"]).adding("state", params["state"]).adding("cursor", $0)
                },
                q: params["q"] ?? "",
                states: AccessRequestState.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == state) },
                seesAll: seesAll, canDecide: canDecide, form: form, errors: errors)
            return site.page(
                "access/index", title: "Access", model, status: errors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor,
                tenant: tenant)
        }

        routes.tenant(.get, .access, permission: .accessRequest) { ctx in try index(ctx) }

        routes.tenant(.post, .access, permission: .accessRequest, options: .form) { ctx in
            let form = try ctx.form()
            let values = FormValues(
                host: form["host"] ?? "", minutes: form["minutes"] ?? "", start: form["start"] ?? "", reason: form["reason"] ?? "",
                publicKey: form["public_key"] ?? "", linkedRequest: form["linked_request"] ?? "",
                noPortForwarding: form["no_port_forwarding"] == "1", sourceAddresses: form["source_addresses"] ?? "",
                forceCommand: form["force_command"] ?? "", formKey: FormSubmissions.key(form["form_key"]) ?? FormSubmissions.newKey())
            let policy = UUID(uuidString: form["policy_id"] ?? "")
            do {
                guard let policy else { throw ValidationError(field: "policy_id", "choose a policy") }
                guard let minutes = Int(values.minutes.trimmingCharacters(in: .whitespaces)), minutes > 0, minutes <= 31 * 1440 else {
                    throw ValidationError(field: "minutes", "give the duration in whole minutes")
                }
                var start: String?
                if !values.start.isEmpty {
                    // datetime-local gives local wall time without a zone; the form says it is UTC.
                    let text = values.start.count == 16 ? values.start + ":00Z" : values.start
                    guard RFC3339.date(text) != nil else {
                        throw ValidationError(field: "start", "give the start as YYYY-MM-DDTHH:MM (UTC)")
                    }
                    start = text
                }
                let made = try store.ask(
                    NewAccessRequest(
                        policyID: policy, reason: values.reason, durationSeconds: minutes * 60, start: start,
                        host: values.host.isEmpty ? nil : values.host, publicKey: values.publicKey.isEmpty ? nil : values.publicKey,
                        linkedRequest: values.linkedRequest.isEmpty ? nil : values.linkedRequest,
                        extendsGrantID: UUID(uuidString: form["extends_grant_id"] ?? ""), breakGlass: form["break_glass"] == "1",
                        options: values.options, formKey: values.formKey),
                    tenant: ctx.tenant.id, principal: ctx.principal, actor: ctx.actor)
                return .redirect(to: SiteURL.accessRequest(ctx.tenant.slug, id: made.id).path)
            } catch {
                guard let errors = messages(error) else { throw error }
                return try index(ctx, form: values, policy: policy, errors: errors)
            }
        }

        @Sendable func show(_ ctx: TenantContext, errors: [FieldError] = [], decisionReason: String = "") throws -> Response {
            let tenant = ctx.tenant, now = ctx.world.now
            guard let detail = try store.detail(try ctx.request.uuidParameter("id"), tenant: tenant.id),
                detail.request.requesterID == ctx.visitor.user || AccessQuery.seesAll(ctx.principal)
            else { throw HTTPError(.notFound) }
            let record = detail.request
            let mine = record.requesterID == ctx.visitor.user
            let canDecide = ctx.principal.can(.accessApprove) || ctx.principal.can(.accessApproveProvider)
            let live = detail.grant.map { $0.state(at: now) == .active } ?? false
            let mayRevoke =
                live && (mine || canDecide || ctx.principal.can(.tenantSettingsManage))
            let owed = detail.owed
            let model = ShowPage(
                formToken: ctx.visitor.formToken, backLink: .access(tenant.slug),
                title: "\(record.requesterName): \(record.target)", requester: record.requesterName, policy: record.policyName,
                reason: record.reason, duration: AccessRules.words(record.durationSeconds),
                start: record.requestedStart.map(DisplayTime.format) ?? "at approval", state: record.state.rawValue,
                breakGlass: record.breakGlass, lapse: DisplayTime.format(record.lapseAt),
                owed: record.state == .pending ? "customer \(owed.customer), provider \(owed.provider)" : nil,
                decisions: detail.approvals.map {
                    Decision(
                        who: $0.approverName, side: $0.side.rawValue, decision: $0.approve ? "approved" : "denied", reason: $0.reason,
                        when: DisplayTime.format($0.at))
                },
                grant: detail.grant.map { grantRow($0, slug: tenant.slug, at: now) },
                grantEnd: detail.grant.flatMap { $0.endReason },
                certificateOptions: record.kind == .ssh
                    ? (detail.grant.map { grant in
                        (try? grant.options.signed(under: detail.policy)).map(CertificateOptions.words)
                            ?? "none of its source addresses is still within the policy's: no certificate is signed"
                    }) : nil,
                trail: try query.trail(tenant: tenant.id, request: record.id, grant: detail.grant?.id).map {
                    TrailRow(when: DisplayTime.format($0.when), who: $0.who, action: $0.action, reason: $0.reason)
                },
                decideLink: record.state == .pending && !mine && canDecide ? .accessDecide(tenant.slug, id: record.id) : nil,
                withdrawLink: record.state == .pending && mine ? .accessWithdraw(tenant.slug, id: record.id) : nil,
                revokeLink: mayRevoke ? .accessRevoke(tenant.slug, id: record.id) : nil,
                certificateLink: mine && live && record.kind == .ssh ? .accessCertificate(tenant.slug, id: record.id) : nil,
                extend: mine && live && !record.breakGlass
                    ? ExtendForm(
                        link: .access(tenant.slug), policyID: record.policyID.postgresText, grantID: detail.grant!.id.postgresText,
                        host: record.hostName ?? "") : nil,
                errors: errors, decisionReason: decisionReason)
            return site.page(
                "access/show", title: "Access request", model, status: errors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor,
                tenant: tenant)
        }

        routes.tenant(.get, .accessRequest, permission: .accessRequest) { ctx in try show(ctx) }

        /// A change on one access request: done, back to its page; refused, its page with the message.
        @Sendable func change(
            _ ctx: TenantContext, keepingReason: Bool = false, _ body: (UUID, QueryParameters) throws -> Void
        ) throws -> Response {
            let form = try ctx.form()
            let id = try ctx.request.uuidParameter("id")
            do {
                try body(id, form)
                return .redirect(to: SiteURL.accessRequest(ctx.tenant.slug, id: id).path)
            } catch {
                guard let errors = messages(error), !(error is NotFound) else { throw error }
                return try show(ctx, errors: errors, decisionReason: keepingReason ? form["reason"] ?? "" : "")
            }
        }

        routes.tenant(.post, .accessDecide, permission: .accessRequest, options: .form) { ctx in
            try change(ctx, keepingReason: true) { id, form in
                guard ctx.principal.can(.accessApprove) || ctx.principal.can(.accessApproveProvider) else {
                    throw AccessRefused("not_an_approver", "You cannot decide on access requests.")
                }
                // Only the button pressed decides: a form without one must not count as a denial.
                guard let decision = form["decision"], decision == "approve" || decision == "deny" else {
                    throw ValidationError(field: "decision", "approve or deny: press one of the two buttons")
                }
                try store.decide(
                    id, tenant: ctx.tenant.id, approve: decision == "approve", reason: form["reason"] ?? "",
                    principal: ctx.principal,
                    actor: ctx.actor)
            }
        }

        routes.tenant(.post, .accessWithdraw, permission: .accessRequest, options: .form) { ctx in
            try change(ctx) { id, _ in try store.withdraw(id, tenant: ctx.tenant.id, principal: ctx.principal, actor: ctx.actor) }
        }

        routes.tenant(.post, .accessRevoke, permission: .accessRequest, options: .form) { ctx in
            try change(ctx) { id, form in
                guard let grant = try store.detail(id, tenant: ctx.tenant.id)?.grant else { throw NotFound() }
                try grants.revoke(grant.id, tenant: ctx.tenant.id, reason: form["reason"] ?? "", principal: ctx.principal, actor: ctx.actor)
            }
        }

        // The certificate comes back as a file to save beside the key (id_ed25519-cert.pub).
        routes.tenant(.post, .accessCertificate, permission: .accessRequest, options: .form) { ctx in
            let form = try ctx.form()
            let id = try ctx.request.uuidParameter("id")
            do {
                guard let detail = try store.detail(id, tenant: ctx.tenant.id), let grant = detail.grant,
                    detail.request.requesterID == ctx.visitor.user
                else { throw HTTPError(.notFound) }
                let line = try grants.certificate(
                    grant.id, tenant: ctx.tenant.id, publicKey: form["public_key"], principal: ctx.principal, actor: ctx.actor)
                var response = Response(status: .ok, contentType: "text/plain; charset=utf-8", body: Array((line + "\n").utf8))
                response.headers.set("Content-Disposition", "attachment; filename=\"id-cert.pub\"")
                response.headers.set("Cache-Control", "no-store")
                return response
            } catch {
                guard let errors = messages(error), !(error is NotFound) else { throw error }
                return try show(ctx, errors: errors)
            }
        }

        routes.staff(.get, .staffAccess, permission: .accessRequest) { ctx in
            let now = ctx.world.now
            let rows = try query.allLive(at: now).map { found in
                var row = grantRow(found.grant, slug: found.slug, at: now)
                row.tenant = found.tenant
                return row
            }
            return site.page("access/staff", title: "Live access grants", StaffPage(grants: rows), visitor: ctx.visitor)
        }
    }
}
