// One-time links: an invitation or a password reset. A person without a password chooses one; a
// person who has one accepts an invitation by signing in as themselves.
import Foundation
import HTTPServer

enum LinkPages {
    struct Page: TemplateModel {
        /// The link itself: both forms post back to it.
        let action: SiteURL
        /// Signing in as the invitee, and coming back here.
        let signInLink: SiteURL
        /// The set-password form is checked against the pre-session cookie, the accept form against the session.
        let preFormToken: String
        let sessionFormToken: String
        let email: String
        let invite: Bool
        let tenantName: String?
        let choosePassword: Bool
        let signedInAsInvitee: Bool
        var errors: [FieldError] = []
        var message: String?
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, passwords: Passwords) {

        @Sendable func render(_ request: Request, token: String, errors: [FieldError] = [], status: HTTPStatus = .ok) throws -> Response {
            let found = try auth.database.pool.transaction { tx in try OneTimeLinks.find(token, at: passwords.clock.now, in: tx) }
            // A session still owing its second factor is no one yet.
            let visitor = try auth.visitor(request).flatMap { $0.session.stage == .signedIn ? $0 : nil }
            let pre = auth.preSession(request)
            let link = SiteURL.link(token)
            let page = Page(
                action: link, signInLink: .signIn(back: link.path), preFormToken: pre.token,
                sessionFormToken: visitor?.formToken ?? "",
                email: found.email, invite: found.purpose == .invite, tenantName: found.tenantName,
                choosePassword: found.setsPassword, signedInAsInvitee: visitor?.user == found.user,
                errors: errors)
            var response = site.page(
                "sessions/link", title: found.purpose == .invite ? "Invitation" : "Choose a new password", page,
                status: status, visitor: visitor)
            if let cookie = pre.cookie { response.setCookie(cookie) }
            response.headers.set("Cache-Control", "no-store")
            // The token is in the path: keep it out of Referer headers sent to anything the page links to.
            response.headers.set("Referrer-Policy", "no-referrer")
            return response
        }

        routes.everyone(.get, .link) { request in
            try render(request, token: try request.parameter("token"))
        }

        routes.everyone(.post, .link, options: .form) { request in
            let token = try request.parameter("token")
            if let visitor = try auth.visitor(request), visitor.session.stage == .signedIn,
                try request.form()["accept"] == "1"
            {
                _ = try auth.form(request, from: visitor)
                let link = try passwords.acceptInvitation(linkToken: token, session: visitor.session, actor: visitor.actor(request))
                let slug = try auth.database.pool.query("SELECT slug FROM tenants WHERE id = $1", [link.tenant])
                    .first?.require(0, as: String.self)
                throw Redirect(to: slug.map { SiteURL.tenant($0).homePath } ?? SitePage.start.url.path)
            }
            let form = try auth.preSessionForm(request)
            do {
                let link = try passwords.set(
                    linkToken: token, new: form["new_password"] ?? "",
                    confirmation: form["confirmation"] ?? "", origin: RequestOrigin(request))
                throw Redirect(to: SitePage.signIn.url.adding("done", link.purpose == .invite ? "invite" : "reset").path)
            } catch let error as ValidationError {
                return try render(request, token: token, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
