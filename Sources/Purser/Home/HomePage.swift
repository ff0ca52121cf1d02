// The front page: what Purser is, and where its API is described.
import HTTPServer

enum HomePage {
    struct Model: Sendable {
        let version: String
        let apiDocument: String
    }

    static func register(in router: inout Router, site: Site) {
        // Rendering is CPU only, so it runs inline.
        router.add(.get, "/", options: .inline) { _ in
            site.page("home", title: "Purser", Model(version: PurserVersion.current, apiDocument: "/api/openapi.json"))
        }
    }
}
