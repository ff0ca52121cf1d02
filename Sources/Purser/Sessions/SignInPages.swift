// Signing in and out: the email-and-password form, the second-factor step, sign-out, and the
// landing page that sends a signed-in person to their work.
import Foundation
import HTTPServer

enum SignInPages {
    struct Form: TemplateModel {
        let formToken: String
        let email: String
        let back: String
        let message: String?
        var notice: String?
        let action = SitePage.signIn.url
    }

    struct SecondFactorForm: TemplateModel {
        let formToken: String
        let back: String
        let message: String?
        let action = SitePage.signInTwoFactor.url
        let signOutLink = SitePage.signOut.url
    }

    /// Where a signed-in person goes next: back where they were, or to their work.
    static func onward(_ back: String) -> String { back.isEmpty ? SitePage.start.url.path : back }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, signIn: SignIn) {

        routes.everyone(.get, .signIn) { request in
            let back = BackPath.sanitize(request.query["back"]) ?? ""
            if let visitor = try auth.visitor(request), visitor.session.stage == .signedIn {
                throw Redirect(to: onward(back))
            }
            let notice: String? =
                switch request.query["done"] {
                case "invite": "Your password is set. Sign in to start."
                case "reset": "Your new password is set. Sign in with it."
                default: nil
                }
            return signInForm(request, site: site, auth: auth, email: "", back: back, message: nil, notice: notice, status: .ok)
        }

        routes.everyone(.post, .signIn, options: .form) { request in
            let form = try auth.preSessionForm(request)
            let email = form["email"] ?? ""
            let back = BackPath.sanitize(form["back"]) ?? ""
            do {
                let known = DeviceCookie.person(
                    cookie: request.cookie(signIn.sessions.cookieName(DeviceCookie.name)),
                    keyring: auth.keyring, at: signIn.sessions.clock.now)
                let session = try signIn.signIn(
                    email: email, password: form["password"] ?? "", origin: RequestOrigin(request),
                    knownAs: known)
                // A session this browser held before (perhaps someone else's) ends with the new one's start.
                if let previous = try auth.visitor(request) { try signIn.signOut(previous.session, actor: previous.actor(request)) }
                let next = session.stage == .secondFactor ? SiteURL.signInTwoFactor(back: back).path : onward(back)
                var response = Response.redirect(to: next)
                response.setCookie(signIn.sessions.cookie(session.token))
                // Signed in all the way: this browser is now known to be this person's.
                if session.stage == .signedIn {
                    response.setCookie(DeviceCookie.cookie(for: session.user, keyring: auth.keyring, sessions: signIn.sessions))
                }
                return response
            } catch let busy as PasswordHasher.Busy {
                var response = signInForm(
                    request, site: site, auth: auth, email: email, back: back, message: busy.detail,
                    status: busy.status)
                response.headers.set("Retry-After", "1")
                return response
            } catch let refused as SignInRefused {
                return signInForm(
                    request, site: site, auth: auth, email: email, back: back, message: refused.detail,
                    status: refused.status)
            } catch let throttled as SignInThrottled {
                var response = signInForm(
                    request, site: site, auth: auth, email: email, back: back,
                    message: throttled.detail, status: throttled.status)
                response.headers.set("Retry-After", String(throttled.retryAfter))
                return response
            }
        }

        routes.everyone(.get, .signInTwoFactor) { request in
            guard let visitor = try auth.visitor(request) else { throw Redirect(to: SitePage.signIn.url.path) }
            let back = BackPath.sanitize(request.query["back"]) ?? ""
            guard visitor.session.stage == .secondFactor else { throw Redirect(to: onward(back)) }
            return site.page(
                "sessions/sign-in-two-factor", title: "Second factor",
                SecondFactorForm(formToken: visitor.formToken, back: back, message: nil))
        }

        routes.everyone(.post, .signInTwoFactor, options: .form) { request in
            guard let visitor = try auth.visitor(request), visitor.session.stage == .secondFactor else {
                throw Redirect(to: SitePage.signIn.url.path)
            }
            let form = try auth.form(request, from: visitor)
            let back = BackPath.sanitize(form["back"]) ?? ""
            do {
                let fresh = try signIn.completeSecondFactor(visitor.session, code: form["code"] ?? "", actor: visitor.actor(request))
                var response = Response.redirect(to: onward(back))
                response.setCookie(signIn.sessions.cookie(fresh.token))
                response.setCookie(DeviceCookie.cookie(for: visitor.user, keyring: auth.keyring, sessions: signIn.sessions))
                return response
            } catch let error as ValidationError {
                return site.page(
                    "sessions/sign-in-two-factor", title: "Second factor",
                    SecondFactorForm(
                        formToken: visitor.formToken, back: back,
                        message: error.fieldErrors.first?.detail), status: .unprocessableContent)
            } catch let throttled as SignInThrottled {
                var response = site.page(
                    "sessions/sign-in-two-factor", title: "Second factor",
                    SecondFactorForm(formToken: visitor.formToken, back: back, message: throttled.detail),
                    status: throttled.status)
                response.headers.set("Retry-After", String(throttled.retryAfter))
                return response
            }
        }

        routes.everyone(.post, .signOut, options: .form) { request in
            var response = Response.redirect(to: SitePage.signIn.url.path)
            response.setCookie(signIn.sessions.clearingCookie())
            guard let visitor = try auth.visitor(request) else { return response }
            _ = try auth.form(request, from: visitor)
            try signIn.signOut(visitor.session, actor: visitor.actor(request))
            return response
        }

        // Where a person lands after signing in: their tenant, the staff pages, or their account.
        routes.signedIn(.get, .start) { ctx in
            if ctx.visitor.isStaff { throw Redirect(to: SitePage.staff.url.homePath) }
            if let first = ctx.visitor.tenants.first { throw Redirect(to: SiteURL.tenant(first.slug).homePath) }
            throw Redirect(to: SitePage.account.url.path)
        }
    }

    private static func signInForm(
        _ request: Request, site: Site, auth: WebAuth, email: String, back: String,
        message: String?, notice: String? = nil, status: HTTPStatus
    ) -> Response {
        let pre = auth.preSession(request)
        var response = site.page(
            "sessions/sign-in", title: "Sign in",
            Form(formToken: pre.token, email: email, back: back, message: message, notice: notice),
            status: status)
        if let cookie = pre.cookie { response.setCookie(cookie) }
        response.headers.set("Cache-Control", "no-store")
        return response
    }
}
