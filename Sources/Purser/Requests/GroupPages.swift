// The staff groups requests are routed to, at /staff/groups: staff read them; provider admins
// make and change them (name, lead, members, the request types routed to the group).
import Foundation
import HTTPServer

enum GroupPages {
    struct GroupView: Encodable, Sendable {
        let name: String
        let lead: String
        let types: String
        let members: String
    }

    struct GroupsPage: TemplateModel {
        let formToken: String
        let groupsLink = SitePage.staffGroups.url
        let groups: [GroupView]
        let canEdit: Bool
        let types: [RequestPages.Option]
        var name = ""
        var lead = ""
        var members = ""
        var errors: [FieldError] = []
    }

    static func register(in routes: inout RouteTable, site: Site, groups: RequestGroups) {
        @Sendable func groupsPage(_ visitor: Visitor, _ model: GroupsPage, status: HTTPStatus = .ok) throws -> Response {
            site.page("requests/groups", title: "Groups", model, status: status, visitor: visitor)
        }

        @Sendable func model(_ ctx: PageContext) throws -> GroupsPage {
            GroupsPage(
                formToken: ctx.visitor.formToken,
                groups: try groups.all().map {
                    GroupView(
                        name: $0.name, lead: $0.lead?.name ?? "—", types: $0.types.joined(separator: ", "),
                        members: $0.members.map(\.name).joined(separator: ", "))
                }, canEdit: ctx.principal.can(.tenantsManage),
                types: RequestType.allCases.map { RequestPages.Option(value: $0.rawValue, label: $0.rawValue) })
        }

        routes.staff(.get, .staffGroups, permission: .requestsRead) { ctx in
            try groupsPage(ctx.visitor, try model(ctx))
        }

        routes.staff(.post, .staffGroups, permission: .tenantsManage, options: .form) { ctx in
            let form = try ctx.form()
            let emails = (form["members"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            do {
                try groups.save(
                    name: form["name"] ?? "", leadEmail: (form["lead"] ?? "").isEmpty ? nil : form["lead"],
                    types: form.pairs.filter { $0.name == "type" }.map(\.value), memberEmails: emails, actor: ctx.actor)
                return .redirect(to: SitePage.staffGroups.url.path)
            } catch let error as ValidationError {
                var page = try model(ctx)
                page.name = form["name"] ?? ""
                page.lead = form["lead"] ?? ""
                page.members = form["members"] ?? ""
                page.errors = error.fieldErrors
                return try groupsPage(ctx.visitor, page, status: error.status)
            }
        }
    }
}
