// Mustache templates from Templates/, rendered inside the shared layout.
import Foundation
import HTTPServer
import Mustache

public struct Templates: Sendable {
    private let library: MustacheLibrary

    /// Loads every `.mustache` file under `folder`, named by its relative path without the extension
    /// (`requests/show`), so partials can be included as `{{> requests/row}}`.
    public init(folder: URL) throws {
        MustacheContentTypes.register(ScalarHTML(), named: ScalarHTML.name)
        var library = MustacheLibrary()
        let root = folder.standardizedFileURL.path
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".mustache") else { continue }
            let text = try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            // Every template escapes its values by Unicode scalar (a template may still name another type).
            try library.register("{{% CONTENT_TYPE: \(ScalarHTML.name) }}" + text, named: String(relative.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// Renders `template` alone (an email part) with what `model` encodes; nil when there is no such template.
    public func render(_ template: String, _ model: some TemplateModel) -> String? {
        library.render(TemplateEncoding.encode(model), withTemplate: template)
    }

    /// Renders `template` with what `page` encodes, then the layout around it.
    public func page(_ template: String, _ page: some TemplateModel, layout: LayoutModel, status: HTTPStatus = .ok) -> Response {
        guard let content = library.render(TemplateEncoding.encode(page), withTemplate: template) else {
            return .text("Template \(template) is missing.", status: .internalServerError)
        }
        var model = layout
        model.content = content
        let html = library.render(TemplateEncoding.encode(model), withTemplate: "layout") ?? content
        return .html(html, status: status)
    }
}

/// HTML escaping by Unicode scalar. Mustache's own escapes by grapheme cluster, so `"` followed by a
/// combining mark (U+0301) is one character missing from its table and goes out unescaped, though
/// the browser still reads the `"` and ends the quoted attribute there.
struct ScalarHTML: MustacheContentType {
    static let name = "PURSER_HTML"
    func escapeText(_ text: String) -> String { Markdown.escape(text) }
}

/// What the shared layout shows around every page.
public struct LayoutModel: TemplateModel {
    public var title: String
    public var stylesheet: String
    public var script: String
    public var icon: String
    public var content = ""
    /// Who is signed in, with the tenant switcher; nil for a visitor who is not.
    public var account: LayoutAccount?
    /// The development mail pages, where `purser dev` keeps mail; nil everywhere else.
    public var devMailLink: SiteURL?
    let homeLink = SitePage.home.url
    let apiDocumentLink = SitePage.apiDocument.url
    let signInLink = SitePage.signIn.url

    public init(title: String, stylesheet: String, script: String, icon: String) {
        self.title = title
        self.stylesheet = stylesheet
        self.script = script
        self.icon = icon
    }
}

/// The signed-in person as the layout shows them: name, sign-out form, tenant switcher.
public struct LayoutAccount: Encodable, Sendable {
    public struct Tenant: Encodable, Sendable {
        let name: String
        let current: Bool
        /// The tenant's home.
        let link: String

        init(_ tenant: TenantMembership, current: Bool) {
            name = tenant.name
            self.current = current
            link = SiteURL.tenant(tenant.slug).homePath
        }
    }

    let name: String
    let email: String
    let formToken: String
    let isStaff: Bool
    let tenants: [Tenant]
    let currentTenant: Tenant?
    let staffLink = SitePage.staff.url.homePath
    let accountLink = SitePage.account.url
    let signOutLink = SitePage.signOut.url
    /// The header offers the other tenants: the person belongs to more than one.
    var switcher: Bool { tenants.count > 1 }

    private enum CodingKeys: String, CodingKey {
        case name, email, formToken, isStaff, tenants, currentTenant, switcher, staffLink, accountLink, signOutLink
    }

    /// Every field, the computed `switcher` included: the layout sees what is encoded here and nothing else.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(formToken, forKey: .formToken)
        try container.encode(isStaff, forKey: .isStaff)
        try container.encode(tenants, forKey: .tenants)
        try container.encodeIfPresent(currentTenant, forKey: .currentTenant)
        try container.encode(switcher, forKey: .switcher)
        try container.encode(staffLink, forKey: .staffLink)
        try container.encode(accountLink, forKey: .accountLink)
        try container.encode(signOutLink, forKey: .signOutLink)
    }

    init(_ visitor: Visitor, current: TenantMembership?) {
        name = visitor.session.name
        email = visitor.session.email
        formToken = visitor.formToken
        isStaff = visitor.isStaff
        tenants = visitor.tenants.map { Tenant($0, current: $0.id == current?.id) }
        currentTenant = current.map { Tenant($0, current: true) }
    }
}
