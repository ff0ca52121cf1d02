// The account page: password, sessions (end one, sign out everywhere) and API tokens (create —
// shown once — and revoke).
import Foundation
import HTTPServer

enum AccountPages {
    struct SessionRow: Encodable, Sendable {
        let started: String
        let lastSeen: String
        let address: String
        let userAgent: String
        let current: Bool
        let endLink: SiteURL
    }

    struct TokenRow: Encodable, Sendable {
        let name: String
        let tenant: String
        let scopes: String
        let created: String
        let expires: String
        let lastUsed: String
        let state: String
        let live: Bool
        let revokeLink: SiteURL
    }

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
    }

    /// One "create a token" form per binding the person can give a token (each tenant they belong
    /// to, and staff), offering only the scopes their role there can use.
    struct TokenForm: Encodable, Sendable {
        /// The tenant's slug; empty for a staff token.
        let tenant: String
        let heading: String
        /// Element ids, unique on the page (the first form keeps the plain ones).
        let nameID: String
        let expiresID: String
        let scopes: [Option]
    }

    struct Page: TemplateModel {
        let formToken: String
        let name: String
        let email: String
        let secondFactorOn: Bool
        let secondFactorRequired: Bool
        let sessions: [SessionRow]
        let tokens: [TokenRow]
        let tokenForms: [TokenForm]
        let notifications: [NotificationPages.Preferences]
        var newToken: String?
        var message: String?
        var errors: [FieldError] = []
        let twoFactorLink = SitePage.twoFactor.url
        let tokensAction = SitePage.accountTokens.url
        let endAllAction = SitePage.accountSessionsEndAll.url
        let notificationsAction = SitePage.accountNotifications.url
        let passwordAction = SitePage.accountPassword.url
    }

    static let lifetimes: [(days: Int, label: String)] = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]

    static func register(in routes: inout RouteTable, site: Site, tokens: TokenStore, passwords: Passwords, signIn: SignIn) {
        let sessions = signIn.sessions

        @Sendable func render(
            _ visitor: Visitor, newToken: String? = nil, message: String? = nil, errors: [FieldError] = [],
            status: HTTPStatus = .ok
        ) throws -> Response {
            let now = sessions.clock.now
            let page = Page(
                formToken: visitor.formToken, name: visitor.session.name, email: visitor.session.email,
                secondFactorOn: visitor.session.totpEnabled,
                secondFactorRequired: SecondFactor.isRequired(
                    staffRole: visitor.session.staffRole,
                    roles: visitor.tenants.compactMap(\.role)),
                sessions: try sessions.list(user: visitor.user).map {
                    SessionRow(
                        started: DisplayTime.format($0.createdAt), lastSeen: DisplayTime.format($0.lastSeenAt),
                        address: $0.address ?? "", userAgent: $0.userAgent ?? "", current: $0.id == visitor.session.id,
                        endLink: .accountSessionEnd($0.id))
                },
                tokens: try tokens.list(user: visitor.user).map { token in
                    let state = token.revokedAt != nil ? "revoked" : (token.expiresAt < now ? "expired" : "active")
                    return TokenRow(
                        name: token.name, tenant: token.tenantName ?? "staff (any tenant)",
                        scopes: token.scopes.joined(separator: " "), created: DisplayTime.format(token.createdAt),
                        expires: DisplayTime.format(token.expiresAt), lastUsed: DisplayTime.format(token.lastUsedAt),
                        state: state, live: state == "active", revokeLink: .accountTokenRevoke(token.id))
                },
                tokenForms: tokenForms(for: visitor),
                notifications: try NotificationPages.preferences(for: visitor, database: signIn.database),
                newToken: newToken, message: message, errors: errors)
            return site.page("sessions/account", title: "Your account", page, status: status, visitor: visitor)
        }

        routes.signedIn(.get, .account) { ctx in
            let message: String? =
                switch ctx.request.query["changed"] {
                case "password": "Your password was changed. Your other sessions have ended and your API tokens were revoked."
                case "notifications": "Your email choices are saved."
                default: nil
                }
            return try render(ctx.visitor, message: message)
        }

        routes.signedIn(.post, .accountPassword, options: .form) { ctx in
            let visitor = ctx.visitor
            let form = try ctx.form()
            do {
                let fresh = try passwords.change(
                    visitor.session, current: form["current_password"] ?? "",
                    new: form["new_password"] ?? "", confirmation: form["confirmation"] ?? "",
                    actor: ctx.actor)
                var response = Response.redirect(to: SitePage.account.url.adding("changed", "password").path)
                response.setCookie(sessions.cookie(fresh.token))
                return response
            } catch let error as ValidationError {
                return try render(visitor, errors: error.fieldErrors, status: error.status)
            } catch let throttled as SignInThrottled {
                var response = try render(
                    visitor, errors: [FieldError(field: "current_password", detail: throttled.detail ?? "")],
                    status: throttled.status)
                response.headers.set("Retry-After", String(throttled.retryAfter))
                return response
            }
        }

        routes.signedIn(.post, .accountSessionEnd, options: .form) { ctx in
            let visitor = ctx.visitor
            _ = try ctx.form()
            let id = try ctx.request.uuidParameter("id")
            guard try sessions.list(user: visitor.user).contains(where: { $0.id == id }) else { throw HTTPError(.notFound) }
            try signIn.database.pool.transaction { tx in
                try sessions.end(id, in: tx)
                try AuditLog.record(
                    AuditEvent(
                        tenant: nil, actor: ctx.actor, action: "session.end", targetType: "session",
                        targetID: id.postgresText, at: ctx.world.now), in: tx)
            }
            return .redirect(to: (id == visitor.session.id ? SitePage.signIn : SitePage.account).url.path)
        }

        routes.signedIn(.post, .accountSessionsEndAll, options: .form) { ctx in
            _ = try ctx.form()
            try signIn.signOutEverywhere(ctx.visitor.session, actor: ctx.actor)
            var response = Response.redirect(to: SitePage.signIn.url.path)
            response.setCookie(sessions.clearingCookie())
            return response
        }

        routes.signedIn(.post, .accountTokens, options: .form) { ctx in
            let visitor = ctx.visitor
            let form = try ctx.form()
            do {
                guard let days = Int(form["expires_days"] ?? ""), lifetimes.contains(where: { $0.days == days }) else {
                    throw ValidationError(field: "expires", "choose one of the offered lifetimes")
                }
                let slug = form["tenant"] ?? ""
                let tenant = visitor.tenants.first { $0.slug == slug }
                if tenant == nil && !(visitor.isStaff && slug.isEmpty) {
                    throw ValidationError(field: "tenant", "choose one of your tenants")
                }
                // Only what the person's role there can use (the store refuses the rest).
                var scopes: [Scope] = []
                for name in form.all("scope") {
                    guard let scope = Scope(rawValue: name) else { throw ValidationError(field: "scopes", "there is no scope \(name)") }
                    if !scopes.contains(scope) { scopes.append(scope) }
                }
                let created = try tokens.create(
                    user: visitor.user, tenant: tenant?.id, name: form["name"] ?? "",
                    scopes: scopes, lifetime: TimeInterval(days * 86400), actor: ctx.actor)
                return try render(visitor, newToken: created.token, status: .created)
            } catch let error as ValidationError {
                return try render(visitor, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.signedIn(.post, .accountTokenRevoke, options: .form) { ctx in
            _ = try ctx.form()
            try tokens.revoke(try ctx.request.uuidParameter("id"), owner: ctx.visitor.user, actor: ctx.actor)
            return .redirect(to: SitePage.account.url.path)
        }
    }

    /// The token forms for `visitor`: staff first (bound to no tenant), then each tenant, each with
    /// the scopes usable there; a binding where nothing is usable gets no form.
    static func tokenForms(for visitor: Visitor) -> [TokenForm] {
        var bindings: [(tenant: TenantMembership?, heading: String)] = []
        if visitor.isStaff { bindings.append((nil, "A staff token (it names a tenant with ?tenant= on each request)")) }
        bindings += visitor.tenants.map { ($0, "A token for \($0.name)") }
        var forms: [TokenForm] = []
        for binding in bindings {
            let scopes = visitor.principal(in: binding.tenant).usableScopes
            guard !scopes.isEmpty else { continue }
            let suffix = forms.isEmpty ? "" : "-\(forms.count + 1)"
            forms.append(
                TokenForm(
                    tenant: binding.tenant?.slug ?? "", heading: binding.heading, nameID: "token-name" + suffix,
                    expiresID: "token-expires" + suffix,
                    scopes: scopes.map { Option(value: $0.rawValue, label: $0.rawValue) }))
        }
        return forms
    }
}
