import Foundation
import HTTPServerTesting
import OpenSSHFormats
@testable import Purser
import Testing
import TestSupport

/// SSH access as people ask for it, in headless Chromium: the requester asks from the access page
/// with their public key, the approver approves on the access request's page, and the requester
/// downloads the certificate from the grant (the form's answer, fetched as the browser would save it).
@Suite(.serialized) struct AccessBrowserTests {
    @Test func askApproveAsAnotherAndDownloadTheCertificate() throws {
        let app = try TestApp()
        let people = try People(app)
        let (database, clock) = (app.app.database, app.app.world.clock)
        _ = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: clock.now)
        }
        var host = HostInput()
        (host.name, host.address, host.runtime, host.labels) = ("gpu-a1", "gpu-a1.acme.example.net", "vllm", ["group:train"])
        host.hostKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXDqU6NM2+IkNN8NGJpuQyftkQy/5UkPdJhONr7BJkS"]
        _ = try HostStore(database: database, clock: clock).create(host, tenant: people.tenant, actor: .system)
        try AccessStore(
            database: database, clock: clock, notices: AccessNotices(publicURL: app.baseURL),
            requests: RequestStore(database: database, clock: clock)
        ).save(
            AccessPolicy(
                id: UUID(), name: "GPU ops", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
                maxSeconds: 7200), tenant: people.tenant, actor: .system)
        let key = OpenSSHEd25519Key()

        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/access", as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/access' && document.querySelector('#a-policy')")
        try browser.fill("#a-host", "gpu-a1")
        try browser.fill("#a-minutes", "30")
        try browser.fill("#a-reason", "vLLM is stuck on gpu-a1")
        try browser.fill("#a-key", key.publicKey.line)
        try browser.click("form[action='/t/acme/access'][method=post] button[type=submit]")
        try browser.wait(for: "/^\\/t\\/acme\\/access\\/[0-9a-f-]{36}$/.test(location.pathname)")
        let page = try #require(try browser.evaluate("return location.pathname") as? String)
        #expect(try browser.evaluate("return document.body.textContent.includes('acme.gpu-a1.ubuntu')") as? Bool == true)

        try browser.deleteCookies()
        try browser.signIn(at: app.baseURL + page, as: "approver@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '\(page)' && document.querySelector('button[value=approve]')")
        try browser.click("button[value=approve]")
        try browser.wait(for: "location.pathname === '\(page)' && !document.querySelector('button[value=approve]')")

        try browser.deleteCookies()
        try browser.signIn(at: app.baseURL + page, as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '\(page)' && document.querySelector('form[action$=\"/certificate\"]')")
        let downloaded =
            try browser.evaluate(
                """
                const form = document.querySelector('form[action$="/certificate"]');
                return fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form))})
                    .then(answer => answer.text().then(text => [answer.headers.get('Content-Disposition'), text]));
                """) as? [Any]
        #expect((downloaded?.first as? String)?.hasPrefix("attachment") == true)
        let certificate = try #require(downloaded?.last as? String)
        #expect(certificate.hasPrefix("ssh-ed25519-cert-v01@openssh.com "))
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("access-grant.png"))
        #expect(try browser.consoleErrors() == [])
    }
}
