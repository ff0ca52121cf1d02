// The front page: what Purser is, and where its API is described; for a signed-in person, the
// way to their work.
import HTTPServer

enum HomePage {
    struct Model: TemplateModel {
        let version: String
        let apiDocument: String
        let signedIn: Bool
    }

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth) {
        // Rendering is CPU only: without a session cookie it answers on the I/O thread; with one,
        // it moves to a worker to look the session up.
        routes.add(.get, "/", access: .everyone, options: .inlineFirst) { request in
            var visitor: Visitor?
            if request.cookie(auth.sessions.sessionCookieName) != nil {
                guard request.mayBlock else { throw WouldBlock() }
                visitor = try auth.visitor(request)
            }
            let model = Model(version: PurserVersion.current, apiDocument: "/api/openapi.json", signedIn: visitor != nil)
            return site.page("home/index", title: "Purser", model, visitor: visitor)
        }
    }
}
