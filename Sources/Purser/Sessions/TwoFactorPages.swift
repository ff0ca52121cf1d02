// Setting up the second factor: the secret (as text and as an otpauth:// link for authenticator
// apps), confirmation with a first code, recovery codes shown once; new recovery codes; turning it
// off for people whose role does not require it.
import Foundation
import HTTPServer
import Postgres

enum TwoFactorPages {
    struct Page: TemplateModel {
        let formToken: String
        let enabled: Bool
        let required: Bool
        let secret: String?
        let uri: String?
        let recoveryCodesLeft: Int
        var recoveryCodes: [String] = []
        var message: String?
        var errors: [FieldError] = []
        let startLink = SitePage.start.url
        let recoveryCodesAction = SitePage.twoFactorRecoveryCodes.url
        let disableAction = SitePage.twoFactorDisable.url
        let enableAction = SitePage.twoFactor.url
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, secondFactor: SecondFactor, signIn: SignIn) {

        @Sendable func render(
            _ visitor: Visitor, enabled: Bool, recoveryCodes: [String] = [], errors: [FieldError] = [],
            status: HTTPStatus = .ok
        ) throws -> Response {
            let pending = enabled ? nil : try secondFactor.pendingSecret(user: visitor.user)
            let page = Page(
                formToken: visitor.formToken, enabled: enabled,
                required: SecondFactor.isRequired(
                    staffRole: visitor.session.staffRole,
                    roles: visitor.tenants.compactMap(\.role)),
                secret: pending.map { spaced(Base32.encode($0.secret)) },
                uri: pending?.provisioningURI(account: visitor.session.email, issuer: "Purser"),
                recoveryCodesLeft: enabled ? try secondFactor.remainingRecoveryCodes(user: visitor.user) : 0,
                recoveryCodes: recoveryCodes, errors: errors)
            return site.page("sessions/two-factor", title: "Second factor", page, status: status, visitor: visitor)
        }

        routes.signedIn(.get, .twoFactor, allowEnrolment: true) { ctx in
            try render(ctx.visitor, enabled: ctx.visitor.session.totpEnabled)
        }

        // Confirms set-up with a first code; the session is replaced (its privileges changed).
        routes.signedIn(.post, .twoFactor, options: .form, allowEnrolment: true) { ctx in
            let visitor = ctx.visitor
            let form = try ctx.form()
            let origin = RequestOrigin(ctx.request)
            do {
                let codes = try secondFactor.confirm(
                    user: visitor.user, code: form["code"] ?? "",
                    audit: AuditEvent(
                        tenant: nil, actor: ctx.actor, action: "user.second_factor_enable", targetType: "user",
                        targetID: visitor.user.postgresText, at: ctx.world.now))
                // Every other session began before the second factor existed: they end.
                let fresh = try signIn.database.pool.transaction { tx in
                    let fresh = try signIn.sessions.rotate(
                        visitor.session.id, user: visitor.user, stage: .signedIn,
                        address: origin.address, userAgent: origin.userAgent, in: tx)
                    try signIn.sessions.endAll(user: visitor.user, except: fresh.id, in: tx)
                    return fresh
                }
                guard let rotated = try auth.visitor(sessionToken: fresh.token) else { throw Redirect(to: SitePage.signIn.url.path) }
                var response = try render(rotated, enabled: true, recoveryCodes: codes)
                response.setCookie(signIn.sessions.cookie(fresh.token))
                return response
            } catch let error as ValidationError {
                return try render(visitor, enabled: false, errors: error.fieldErrors, status: error.status)
            }
        }

        /// A refusal shown on the page: a wrong code (422) or a wait (429 with Retry-After).
        @Sendable func refused(_ visitor: Visitor, _ error: any Error) throws -> Response {
            switch error {
            case let invalid as ValidationError:
                return try render(visitor, enabled: true, errors: invalid.fieldErrors, status: invalid.status)
            case let throttled as SignInThrottled:
                var response = try render(
                    visitor, enabled: true, errors: [FieldError(field: "code", detail: throttled.detail ?? "")],
                    status: throttled.status)
                response.headers.set("Retry-After", String(throttled.retryAfter))
                return response
            default:
                throw error
            }
        }

        // Changing the second factor takes a current code — a session alone (perhaps an old one on
        // someone else's screen) cannot — counted and audited as sign-in's codes are.
        routes.signedIn(.post, .twoFactorRecoveryCodes, options: .form) { ctx in
            let visitor = ctx.visitor
            let form = try ctx.form()
            guard visitor.session.totpEnabled else { throw Redirect(to: SitePage.twoFactor.url.path) }
            do {
                let codes = try signIn.withCurrentCode(
                    form["code"] ?? "", session: visitor.session, for: "recovery_codes_replace",
                    actor: ctx.actor
                ) { tx in
                    let codes = try secondFactor.replaceRecoveryCodes(user: visitor.user, in: tx)
                    try AuditLog.record(
                        AuditEvent(
                            tenant: nil, actor: ctx.actor, action: "user.recovery_codes_replace",
                            targetType: "user", targetID: visitor.user.postgresText, at: ctx.world.now), in: tx)
                    return codes
                }
                return try render(visitor, enabled: true, recoveryCodes: codes)
            } catch let error as ValidationError {
                return try refused(visitor, error)
            } catch let error as SignInThrottled {
                return try refused(visitor, error)
            }
        }

        routes.signedIn(.post, .twoFactorDisable, options: .form) { ctx in
            let visitor = ctx.visitor
            let form = try ctx.form()
            guard !SecondFactor.isRequired(staffRole: visitor.session.staffRole, roles: visitor.tenants.compactMap(\.role)) else {
                return try render(
                    visitor, enabled: true,
                    errors: [
                        FieldError(
                            field: "second factor",
                            detail: "your role requires it, so it stays on")
                    ],
                    status: .conflict)
            }
            do {
                try signIn.withCurrentCode(
                    form["code"] ?? "", session: visitor.session, for: "second_factor_disable",
                    actor: ctx.actor
                ) { tx in
                    try secondFactor.disable(
                        user: visitor.user,
                        audit: AuditEvent(
                            tenant: nil, actor: ctx.actor, action: "user.second_factor_disable", targetType: "user",
                            targetID: visitor.user.postgresText, at: ctx.world.now), in: tx)
                }
                return .redirect(to: SitePage.account.url.path)
            } catch let error as ValidationError {
                return try refused(visitor, error)
            } catch let error as SignInThrottled {
                return try refused(visitor, error)
            }
        }
    }

    /// `JBSWY3DPEHPK3PXP…` in groups of four, easier to type into a phone.
    static func spaced(_ text: String) -> String {
        var groups: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            groups.append(String(rest.prefix(4)))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: " ")
    }
}
