// Setting up the second factor: the secret (as text and as an otpauth:// link for authenticator
// apps), confirmation with a first code, recovery codes shown once; new recovery codes; turning it
// off for people whose role does not require it.
import Foundation
import HTTPServer

enum TwoFactorPages {
    struct Page: Sendable {
        let formToken: String
        let enabled: Bool
        let required: Bool
        let secret: String?
        let uri: String?
        let recoveryCodesLeft: Int
        var recoveryCodes: [String] = []
        var message: String?
        var errors: [FieldError] = []
    }

    static func register(in router: inout Router, site: Site, auth: WebAuth, secondFactor: SecondFactor, signIn: SignIn) {
        let formOptions = RouteOptions(bodyLimit: 16 * 1024, accepts: ["application/x-www-form-urlencoded"])

        @Sendable func render(_ visitor: Visitor, enabled: Bool, recoveryCodes: [String] = [], errors: [FieldError] = [],
                    status: HTTPStatus = .ok) throws -> Response {
            let pending = enabled ? nil : try secondFactor.pendingSecret(user: visitor.user)
            let page = Page(formToken: visitor.formToken, enabled: enabled,
                            required: SecondFactor.isRequired(staffRole: visitor.session.staffRole,
                                                              roles: visitor.tenants.compactMap(\.role)),
                            secret: pending.map { spaced(Base32.encode($0.secret)) },
                            uri: pending?.provisioningURI(account: visitor.session.email, issuer: "Purser"),
                            recoveryCodesLeft: enabled ? try secondFactor.remainingRecoveryCodes(user: visitor.user) : 0,
                            recoveryCodes: recoveryCodes, errors: errors)
            return site.page("two-factor", title: "Second factor", page, status: status, visitor: visitor)
        }

        router.add(.get, "/account/two-factor") { request in
            let visitor = try auth.signedIn(request, allowEnrolment: true)
            return try render(visitor, enabled: visitor.session.totpEnabled)
        }

        // Confirms set-up with a first code; the session is replaced (its privileges changed).
        router.add(.post, "/account/two-factor", options: formOptions) { request in
            let visitor = try auth.signedIn(request, allowEnrolment: true)
            let form = try auth.form(request, from: visitor)
            let origin = RequestOrigin(request)
            do {
                let codes = try secondFactor.confirm(user: visitor.user, code: form["code"] ?? "", audit: AuditEvent(
                    tenant: nil, actorKind: .user, actorID: visitor.user, action: "user.second_factor_enable",
                    targetType: "user", targetID: visitor.user.postgresText).from(origin))
                let fresh = try signIn.database.pool.transaction { tx in
                    try signIn.sessions.rotate(visitor.session.id, user: visitor.user, stage: .signedIn,
                                               address: origin.address, userAgent: origin.userAgent, in: tx)
                }
                guard let rotated = try auth.visitor(sessionToken: fresh.token) else { throw Redirect(to: "/sign-in") }
                var response = try render(rotated, enabled: true, recoveryCodes: codes)
                response.setCookie(signIn.sessions.cookie(fresh.token))
                return response
            } catch let error as ValidationError {
                return try render(visitor, enabled: false, errors: error.fieldErrors, status: error.status)
            }
        }

        router.add(.post, "/account/two-factor/recovery-codes", options: formOptions) { request in
            let visitor = try auth.signedIn(request)
            _ = try auth.form(request, from: visitor)
            guard visitor.session.totpEnabled else { throw Redirect(to: "/account/two-factor") }
            let codes = try signIn.database.pool.transaction { tx in
                let codes = try secondFactor.replaceRecoveryCodes(user: visitor.user, in: tx)
                try AuditLog.record(AuditEvent(tenant: nil, actorKind: .user, actorID: visitor.user,
                                               action: "user.recovery_codes_replace", targetType: "user",
                                               targetID: visitor.user.postgresText).from(RequestOrigin(request)), in: tx)
                return codes
            }
            return try render(visitor, enabled: true, recoveryCodes: codes)
        }

        router.add(.post, "/account/two-factor/disable", options: formOptions) { request in
            let visitor = try auth.signedIn(request)
            _ = try auth.form(request, from: visitor)
            guard !SecondFactor.isRequired(staffRole: visitor.session.staffRole, roles: visitor.tenants.compactMap(\.role)) else {
                return try render(visitor, enabled: true, errors: [FieldError(field: "second factor",
                                                                             detail: "your role requires it, so it stays on")],
                                  status: .conflict)
            }
            try secondFactor.disable(user: visitor.user, audit: AuditEvent(
                tenant: nil, actorKind: .user, actorID: visitor.user, action: "user.second_factor_disable",
                targetType: "user", targetID: visitor.user.postgresText).from(RequestOrigin(request)))
            return .redirect(to: "/account")
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
