// The front page: what Purser is, and where its API is described; for a signed-in person, the
// way to their work.
import HTTPServer

enum HomePage {
    struct Model: TemplateModel {
        let version: String
        let apiDocument = SitePage.apiDocument.url
        let signedIn: Bool
        let startLink = SitePage.start.url
        let signInLink = SitePage.signIn.url
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth) {
        // Rendering is CPU only: without a session cookie it answers on the I/O thread; with one,
        // it moves to a worker to look the session up.
        routes.everyone(.get, .home, options: .inlineFirst) { request in
            var visitor: Visitor?
            if request.cookie(auth.sessions.sessionCookieName) != nil {
                guard request.mayBlock else { throw WouldBlock() }
                visitor = try auth.visitor(request)
            }
            let model = Model(version: PurserVersion.current, signedIn: visitor != nil)
            return site.page("home/index", title: "Purser", model, visitor: visitor)
        }
    }
}
