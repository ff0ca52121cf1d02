import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The development mail pages: served only where mail is kept instead of sent, each message shown
/// as its recipient would see it, the HTML part framed under a policy of its own.
@Suite struct DevMailPagesTests {
    static func keepingMail() throws -> (TestApp, MailCatcher) {
        let clock = LiveClock()
        let catcher = MailCatcher(clock: clock)
        return (try TestApp(world: World(clock: clock, mail: catcher)), catcher)
    }

    @Test func theMailKeptIsListedAndEachMessageShown() throws {
        let (app, catcher) = try Self.keepingMail()
        try catcher.send(MailCatcherTests.composed(), from: "purser@purser.test", to: ["requester@acme.test"])
        try catcher.send(MailCatcherTests.composed(subject: "Second <one>", text: "x"), from: "purser@purser.test", to: ["b@acme.test"])

        let list = try app.get("/dev/mail")
        #expect(list.status == 200)
        #expect(list.header("Cache-Control") == "no-store")
        let listed = list.text
        let second = try #require(listed.range(of: "Second &lt;one&gt;")), first = try #require(listed.range(of: "Réponse à"))
        #expect(second.lowerBound < first.lowerBound, "newest first")
        #expect(listed.contains("href=\"/dev/mail/1\"") && listed.contains("href=\"/dev/mail/2\""))
        #expect(listed.contains("class=\"dev-mail\""), "the header links to the mail pages")

        let shown = try app.get("/dev/mail/1")
        #expect(shown.status == 200)
        #expect(shown.text.contains("Réponse à « ACME-7 » — disque plein ✓"))
        #expect(shown.text.contains("<iframe class=\"mail-frame\" id=\"mail-html\" src=\"/dev/mail/1/html\" sandbox"))
        #expect(shown.text.contains("&lt;b&gt;not bold&lt;/b&gt;"), "the text part, escaped")
        #expect(shown.text.contains("<a href=\"http://127.0.0.1:8080/t/acme/requests/ACME-7\">"))

        let html = try app.get("/dev/mail/1/html")
        #expect(html.status == 200)
        #expect(html.header("Content-Security-Policy") == DevMailPages.htmlPolicy)
        #expect(html.text.contains("<a href=\"http://127.0.0.1:8080/t/acme/requests/ACME-7\""))

        for missing in ["/dev/mail/3", "/dev/mail/0", "/dev/mail/x", "/dev/mail/3/html", "/dev/mail/-1/html"] {
            #expect(try app.get(missing).status == 404, "\(missing)")
        }
    }

    @Test func whereMailIsNotKeptThereAreNoMailPages() throws {
        let app = try TestApp()
        #expect(try app.get("/dev/mail").status == 404)
        #expect(try app.get("/dev/mail/1").status == 404)
        #expect(!(try app.get("/").text.contains("Mail (dev)")))
    }

    /// Keeping mail is having a mail sender: invitations are emailed, so the invited person finds
    /// their link on the mail page.
    @Test func invitationsAreEmailedWhereMailIsKept() throws {
        let (app, _) = try Self.keepingMail()
        let people = try People(app)
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let invited = try admin.post(
            "/t/acme/members", [("email", "nora@acme.test"), ("name", "Nora"), ("role", "requester")],
            from: "/t/acme/members")
        #expect(invited.status == 201)
        let queued = try app.database.connect().query(
            "SELECT count(*) FROM notification_deliveries WHERE kind = 'email' AND destination = 'nora@acme.test'")
        #expect(try queued[0].require(0, as: Int64.self) == 1)
    }
}

/// The mail catcher end to end, as a developer meets it: `purser dev` without SMTP_URL, an
/// invitation and a reply sent, both on the mail page, and the invitation's link followed.
@Suite(.serialized) struct DevMailBrowserTests {
    @Test func purserDevKeepsAnInvitationAndAReplyForTheMailPage() throws {
        let folder = URL(fileURLWithPath: "/tmp/purser-devmail-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = RawHTTP.freePort()
        let log = folder.deletingLastPathComponent().appendingPathComponent("purser-devmail-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        // A database of the test cluster, so `purser dev` starts no cluster of its own (DevCommandTests covers that).
        let database = try TestDatabase()
        let environment = ["PATH": "/usr/bin:/bin:/usr/sbin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url]
        let dev = try ChildProcess(
            [
                TestEnvironment.purserBinary.path, "dev", "--data-folder", folder.path, "--listen", "127.0.0.1:\(port)",
                "--metrics-listen", "off", "--log-level", "warning",
            ], environment: environment, output: log.path)
        defer {
            #expect(dev.stop(signal: SIGINT) == 0)
        }
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(waitUntil(60) { output().contains("Press Ctrl-C") }, "\(output())")
        let base = "http://127.0.0.1:\(port)"
        #expect(output().contains("Mail:         kept here, not sent: \(base)/dev/mail"))

        let browser = try Browser()
        func signIn(at path: String, as email: String) throws {
            try browser.signIn(at: base + path, as: email, password: DemoData.password) {
                let code = try Subprocess.run(
                    TestEnvironment.purserBinary.path, ["dev-code", email, "--data-folder", folder.path],
                    environment: environment)
                return code.output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        try signIn(at: "/t/acme/members", as: "admin@acme.test")
        try browser.wait(for: "location.pathname === '/t/acme/members' && document.querySelector('#invite-email')")
        #expect(try browser.evaluate("return document.querySelector('a.dev-mail').getAttribute('href')") as? String == "/dev/mail")
        try browser.fill("#invite-email", "nora@acme.test")
        try browser.fill("#invite-name", "Nora Newcomer")
        _ = try browser.evaluate("document.querySelector('#invite-role').value = 'requester'; return true")
        try browser.click("form[action='/t/acme/members'] button[type=submit]")
        try browser.wait(for: "document.querySelector('#invite-link')")

        // Customer success replies on one of the requester's requests: the requester hears of it by mail.
        try browser.deleteCookies()
        try signIn(at: "/t/acme/requests/ACME-1", as: "cse@purser.test")
        try browser.wait(for: "document.querySelector('#c-body')")
        try browser.fill("#c-body", "We are on it: the node pool is being replaced.")
        try browser.click("form[action='/t/acme/requests/ACME-1/comments'] button[type=submit]")
        try browser.wait(
            for:
                "document.querySelector('#conversation') && document.querySelector('#conversation').textContent.includes('node pool is being replaced')"
        )

        // Both messages reach the mail page once the worker has delivered them.
        let invitation = "You are invited to Acme Bank on Purser"
        let listed = try waitUntil(30) {
            try browser.open(base + "/dev/mail")
            let rows = try browser.evaluate("return document.querySelector('#dev-mail').textContent") as? String ?? ""
            return rows.contains(invitation) && rows.contains("ACME-1:") && rows.contains("replied")
        }
        let rows = try browser.evaluate("return document.querySelector('#dev-mail').textContent") as? String ?? ""
        #expect(listed, "\(rows)\n\(output())")
        #expect(rows.contains("nora@acme.test") && rows.contains("requester@acme.test"))

        // The invitation, as Nora would see it; its link leads to joining Acme.
        _ = try browser.evaluate(
            """
            [...document.querySelectorAll('#dev-mail a')].find(a => a.textContent.includes('\(invitation)')).click(); return true
            """)
        try browser.wait(for: "document.querySelector('#mail-subject') && document.querySelector('#mail-links a')")
        #expect(try browser.evaluate("return document.querySelector('#mail-to').textContent") as? String == "nora@acme.test")
        #expect(
            (try browser.evaluate("return document.querySelector('#mail-text').textContent") as? String)?
                .contains("Nora Newcomer, you are invited to work with Acme Bank") == true)
        #expect(try browser.evaluate("return document.querySelector('#mail-html').getAttribute('sandbox')") as? String == "")
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("dev-mail-invitation.png"))
        #expect(try browser.consoleErrors() == [])
        try browser.deleteCookies()
        try browser.click("#mail-links a")
        try browser.wait(for: "location.pathname.startsWith('/links/') && document.querySelector('h1')")
        #expect(try browser.evaluate("return document.querySelector('h1').textContent") as? String == "Join Acme Bank on Purser")
        #expect(try browser.evaluate("return Boolean(document.querySelector('#new_password'))") as? Bool == true)
    }
}
