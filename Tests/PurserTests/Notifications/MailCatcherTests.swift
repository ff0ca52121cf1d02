import Foundation
@testable import Purser
import Testing
import TestSupport

/// The mail `purser dev` keeps: the catcher holds the newest messages, and its reader shows a
/// message MailComposer writes as the recipient would see it, and reads anything else without failing.
@Suite struct MailCatcherTests {
    static let composer = MailComposer(
        templates: try! Templates(folder: TestEnvironment.root.appendingPathComponent("Templates")),
        from: "purser@purser.test", publicURL: "http://127.0.0.1:8080")
    static let moment = Date(timeIntervalSince1970: 1_800_000_000)

    static func composed(
        subject: String = "Réponse à « ACME-7 » — disque plein ✓", text: String = "Grüße: the disk is füll\n<b>not bold</b>",
        url: String? = "http://127.0.0.1:8080/t/acme/requests/ACME-7"
    ) -> [UInt8] {
        var message = NotificationMessage(event: "request.updated", subject: subject, text: text, url: url)
        message.chosen = true
        return composer.compose(message, to: "requester@acme.test", deliveryID: UUID(), optional: true, date: moment)
    }

    @Test func theReaderShowsAComposedMessageAsTheRecipientSeesIt() throws {
        let read = ReadMail(Self.composed())
        #expect(read.subject == "Réponse à « ACME-7 » — disque plein ✓")
        #expect(read.from == "purser@purser.test")
        #expect(read.to == "requester@acme.test")
        #expect(read.date == MailComposer.rfc5322Date(Self.moment))
        let text = try #require(read.text)
        #expect(text.contains("Grüße: the disk is füll\n<b>not bold</b>"))
        #expect(text.contains("http://127.0.0.1:8080/t/acme/requests/ACME-7"))
        let html = try #require(read.html)
        #expect(html.contains("<h1 style=\"font-size: 1.2rem\">Réponse à « ACME-7 » — disque plein ✓</h1>"))
        #expect(html.contains("&lt;b&gt;not bold&lt;/b&gt;"), "the HTML part escapes the text")
        #expect(html.contains("<a href=\"http://127.0.0.1:8080/t/acme/requests/ACME-7\""))
        #expect(read.links == ["http://127.0.0.1:8080/t/acme/requests/ACME-7", "http://127.0.0.1:8080/account#notifications"])
        // An ASCII subject goes out as written, and reads back the same.
        #expect(ReadMail(Self.composed(subject: "Plain subject", url: nil)).subject == "Plain subject")
        #expect(ReadMail(Self.composed(subject: "Plain subject", url: nil)).links == ["http://127.0.0.1:8080/account#notifications"])
    }

    @Test func theCatcherKeepsTheNewestMessagesFirst() throws {
        let clock = SettableClock(Self.moment)
        let catcher = MailCatcher(clock: clock, capacity: 2)
        for number in 1...3 {
            try catcher.send(Self.composed(subject: "Message \(number)"), from: "purser@purser.test", to: ["n\(number)@acme.test"])
            clock.advance(by: 60)
        }
        #expect(catcher.messages.map(\.id) == [3, 2])
        #expect(catcher.messages.map(\.read.subject) == ["Message 3", "Message 2"])
        #expect(catcher.message(1) == nil, "the oldest went when the third came")
        let second = try #require(catcher.message(2))
        #expect(second.arrived == Self.moment.addingTimeInterval(60))
        #expect(second.sender == "purser@purser.test")
        #expect(second.recipients == ["n2@acme.test"])
    }

    @Test func otherShapesReadToo() throws {
        let quoted = Array(
            """
            Subject: =?utf-8?q?caf=C3=A9_au_lait?= =?UTF-8?B?IOKckw==?= and =?x-unknown?Z?zz?=\r
            From: "Ops"\r
             <ops@acme.test>\r
            Content-Type: text/html; charset="iso-8859-1"\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <p>caf=E9 soft=\r
            break</p>
            """.utf8)
        let read = ReadMail(quoted)
        #expect(read.subject == "café au lait ✓ and =?x-unknown?Z?zz?=")
        #expect(read.from == "\"Ops\" <ops@acme.test>")
        #expect(read.html == "<p>café softbreak</p>")
        #expect(read.text == nil)
        // No Content-Type: plain text; LF line ends work as well as CRLF.
        #expect(
            ReadMail(Array("Subject: hi\n\nbody\n".utf8))
                == {
                    var mail = ReadMail([]); mail.subject = "hi"; mail.text = "body\n"; return mail
                }())
        // Nested multiparts: the first text and HTML leaves; attachments are skipped.
        let nested = Array(
            """
            Content-Type: multipart/mixed; boundary=outer\r
            \r
            preamble\r
            --outer\r
            Content-Type: text/plain; name=notes.txt\r
            Content-Disposition: attachment; filename=notes.txt\r
            \r
            not the body\r
            --outer\r
            Content-Type: multipart/alternative; boundary="in;ner"\r
            \r
            --in;ner\r
            Content-Type: text/plain\r
            \r
            the text\r
            --in;ner\r
            Content-Type: text/html\r
            \r
            <p>the html</p>\r
            --in;ner--\r
            --outer--\r
            epilogue
            """.utf8)
        #expect(ReadMail(nested).text == "the text")
        #expect(ReadMail(nested).html == "<p>the html</p>")
    }

    /// Whatever comes in, the reader answers: every cut of a composed message, broken encodings,
    /// endless nesting, a header block without end.
    @Test func oddInputNeverStopsTheReader() {
        let message = Self.composed()
        for length in stride(from: 0, through: message.count, by: 5) { _ = ReadMail(Array(message.prefix(length))) }
        var nesting = ""
        for level in 0..<200 { nesting += "Content-Type: multipart/mixed; boundary=b\(level)\r\n\r\n--b\(level)\r\n" }
        let odd: [[UInt8]] = [
            [], [0xFF, 0xFE, 0x00, 0x0A], Array("no blank line: all headers".utf8), Array(repeating: 0x0A, count: 1000),
            Array("Content-Type: multipart/alternative\r\n\r\n--\r\n".utf8),
            Array("Content-Type: multipart/alternative; boundary=\"\r\n\r\n--\"\r\n".utf8),
            Array("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64===\r\n".utf8),
            Array("Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nends with =".utf8),
            Array("Subject: =?UTF-8?B?=?= =?UTF-8?Q??= =?\r\n\r\n".utf8), Array(nesting.utf8),
            Array(repeating: UInt8(ascii: "a"), count: ReadMail.byteLimit + 10),
        ]
        for raw in odd { _ = ReadMail(raw) }
        #expect(ReadMail(Array("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n".utf8)).text == "!!!\r\n")
    }
}
