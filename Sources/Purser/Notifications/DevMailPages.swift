// The development mail pages: the messages `purser dev` kept instead of sending (MailCatcher),
// newest first, and each one as its recipient would see it — headers, the HTML part in a sandboxed
// frame served with a policy of its own, the text part, and the links it offers.
//
// Anyone may read them: in development an invited person has no account yet and must be able to
// read their invitation. That is safe because only `purser dev` keeps mail (Routes registers this
// block only when the World's mail sender is a MailCatcher), and `purser dev` listens on loopback
// by default; `purser serve` sends mail through SMTP_URL or not at all, and has no such pages.
import Foundation
import HTTPServer

enum DevMailPages {
    struct Row: Encodable, Sendable {
        let arrived: String
        let to: String
        let subject: String
        let link: SiteURL
    }

    struct ListPage: TemplateModel {
        let messages: [Row]
        let capacity: Int
    }

    struct MessagePage: TemplateModel {
        let subject: String
        let from: String
        let to: String
        let date: String
        let arrived: String
        let envelopeFrom: String
        let envelopeTo: String
        let text: String?
        /// The HTML part's own address, shown in a sandboxed frame; nil without an HTML part.
        let htmlLink: SiteURL?
        let links: [String]
        let hasLinks: Bool
        let listLink = SitePage.devMail.url
    }

    /// The HTML part's policy: its own styles and inline images, nothing else — no scripts, no
    /// requests, no forms — and framed only by the message page.
    static let htmlPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

    static func register(in routes: inout RouteTable, site: Site, auth: WebAuth, catcher: MailCatcher) {
        /// The signed-in person, for the header, when there is one; the pages are anyone's.
        @Sendable func visitor(_ request: Request) -> Visitor? { try? auth.visitor(request) }

        @Sendable func kept(_ request: Request) throws -> MailCatcher.Kept {
            guard let id = request.pathParameters["id"].flatMap({ Int($0) }), let message = catcher.message(id) else {
                throw HTTPError(.notFound)
            }
            return message
        }

        routes.everyone(.get, .devMail) { request in
            let rows = catcher.messages.map { message in
                let read = message.read
                return Row(
                    arrived: DisplayTime.format(message.arrived),
                    to: read.to.isEmpty ? message.recipients.joined(separator: ", ") : read.to,
                    subject: read.subject.isEmpty ? "(no subject)" : read.subject, link: .devMailMessage(message.id))
            }
            var response = site.page(
                "notifications/dev-mail", title: "Mail (dev)", ListPage(messages: rows, capacity: catcher.capacity),
                visitor: visitor(request))
            response.headers.set("Cache-Control", "no-store")
            return response
        }

        routes.everyone(.get, .devMailMessage) { request in
            let message = try kept(request)
            let read = message.read
            let page = MessagePage(
                subject: read.subject.isEmpty ? "(no subject)" : read.subject, from: read.from, to: read.to, date: read.date,
                arrived: DisplayTime.format(message.arrived), envelopeFrom: message.sender,
                envelopeTo: message.recipients.joined(separator: ", "), text: read.text,
                htmlLink: read.html == nil ? nil : .devMailHTML(message.id), links: read.links, hasLinks: !read.links.isEmpty)
            var response = site.page("notifications/dev-mail-message", title: page.subject, page, visitor: visitor(request))
            response.headers.set("Cache-Control", "no-store")
            return response
        }

        routes.everyone(.get, .devMailHTML) { request in
            guard let html = try kept(request).read.html else { throw HTTPError(.notFound) }
            var response = Response.html(html)
            response.headers.set("Content-Security-Policy", htmlPolicy)
            response.headers.set("Cache-Control", "no-store")
            return response
        }
    }
}
