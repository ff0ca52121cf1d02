// What every page handler needs: templates, asset URLs and the layout around a page.
import HTTPServer

public struct Site: Sendable {
    public let templates: Templates
    public let staticFiles: StaticFiles
    /// The header's link to the development mail pages, where `purser dev` keeps mail.
    var devMailLink: SiteURL? = nil

    public func layout(title: String) -> LayoutModel {
        var layout = LayoutModel(
            title: title, stylesheet: staticFiles.url(for: "css/purser.css"),
            script: staticFiles.url(for: "js/purser.js"), icon: staticFiles.url(for: "img/purser.svg"))
        layout.devMailLink = devMailLink
        return layout
    }

    /// The page `template` with what `model` encodes, inside the layout.
    public func page(
        _ template: String, title: String, _ model: some TemplateModel, status: HTTPStatus = .ok,
        visitor: Visitor? = nil, tenant: TenantMembership? = nil
    ) -> Response {
        var layout = layout(title: title)
        layout.account = visitor.map { LayoutAccount($0, current: tenant) }
        var response = templates.page(template, model, layout: layout, status: status)
        // Pages for a signed-in person are theirs alone: never stored by a shared cache or the back button's disk cache.
        if visitor != nil { response.headers.set("Cache-Control", "no-store") }
        return response
    }

    /// API callers and probes get problem+json; people in a browser get the page in the layout.
    /// `visitor`: the signed-in person, shown in the header (an upload refused for its size).
    public func render(_ problem: Problem, for request: Request, visitor: Visitor? = nil) -> Response {
        let path = request.path
        if path.hasPrefix("/api/") || path == SitePage.healthz.template || path == SitePage.readyz.template {
            return Problem.problemResponse(problem)
        }
        let model = ErrorPage(
            status: problem.status.rawValue, title: problem.title,
            detail: problem.detail ?? "", requestID: problem.requestID)
        return page("error", title: problem.title, model, status: problem.status, visitor: visitor)
    }
}

struct ErrorPage: TemplateModel {
    let status: Int
    let title: String
    let detail: String
    let requestID: String
    let homeLink = SitePage.home.url
}
