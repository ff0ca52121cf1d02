// An email as a complete RFC 5322 message: multipart/alternative with a text and an HTML part
// from the templates in Templates/notifications/email/, a Message-ID, a Date (the World's time
// when it is sent), UTF-8 subjects (RFC 2047) and, for mail people chose to receive,
// List-Unsubscribe pointing at their preferences.
import Foundation

public struct MailComposer: Sendable {
    let templates: Templates
    let from: String
    let publicURL: String

    public init(templates: Templates, from: String, publicURL: String) {
        self.templates = templates
        self.from = from
        self.publicURL = publicURL
    }

    struct Model: Sendable {
        let subject: String
        let text: String
        let url: String?
        let preferencesURL: String
    }

    public func compose(
        _ message: NotificationMessage, to recipient: String, deliveryID: UUID, optional: Bool,
        date: Date
    ) -> [UInt8] {
        let preferencesURL = SitePage.account.url.at("notifications").absolute(on: publicURL)
        let model = Model(subject: message.subject, text: message.text, url: message.url, preferencesURL: preferencesURL)
        let text = templates.render("notifications/email/notification.txt", model) ?? message.text
        let html = templates.render("notifications/email/notification.html", model) ?? ""
        let boundary = "purser-" + deliveryID.postgresText
        let domain = from.split(separator: "@").last.map(String.init) ?? "purser.invalid"
        var headers = [
            "From: \(from)",
            "To: \(recipient)",
            "Subject: \(Self.encodedWord(message.subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(deliveryID.postgresText)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "Auto-Submitted: auto-generated",
        ]
        if optional {
            headers.append("List-Unsubscribe: <\(preferencesURL)>")
        }
        let body = [
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Self.base64Lines(text),
            "--\(boundary)",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Self.base64Lines(html),
            "--\(boundary)--",
            "",
        ]
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + body.joined(separator: "\r\n")).utf8)
    }

    /// `=?UTF-8?B?…?=` when the subject is not plain ASCII; line breaks never survive.
    static func encodedWord(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return flat }
        return "=?UTF-8?B?" + Data(flat.utf8).base64EncodedString() + "?="
    }

    static func base64Lines(_ text: String) -> String {
        Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss +0000"
        return formatter.string(from: date)
    }
}
