import Foundation
import HTTPClient
import Postgres
import Testing
import TestSupport

/// `purser dev` as a new user runs it: a private cluster, migrations, a server, a kept master key,
/// and everything stopped on Ctrl-C; the second run reuses what the first made.
@Suite(.serialized) struct DevCommandTests {
    @Test func devRunsItsOwnClusterAndKeepsItsMasterKey() throws {
        let folder = URL(fileURLWithPath: "/tmp/purser-devtest-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var keys: [String] = []
        for run in 1...2 {
            let port = RawHTTP.freePort()
            let log = folder.deletingLastPathComponent().appendingPathComponent("purser-devtest-\(getpid())-\(run).log")
            defer { try? FileManager.default.removeItem(at: log) }
            let dev = try ChildProcess(
                [
                    TestEnvironment.purserBinary.path, "dev", "--data-folder", folder.path, "--listen", "127.0.0.1:\(port)",
                    "--metrics-listen", "off", "--log-level", "warning",
                ],
                environment: ["PATH": "/usr/bin:/bin:/usr/sbin", "PURSER_ROOT": TestEnvironment.root.path], output: log.path)
            let ready = waitUntil(60) { (try? HTTPClient().get("http://127.0.0.1:\(port)/readyz"))?.status == 200 }
            #expect(ready, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            if run == 1 { try signInWithPrintedLogins(port: port, log: log, folder: folder) }
            if run == 1 { try mailIsKeptForTheMailPage(port: port, log: log) }
            #expect(dev.stop(signal: SIGINT) == 0)
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(output.contains(run == 1 ? "Creating PostgreSQL" : "Starting PostgreSQL"))
            #expect(output.contains("Stopped."))
            let keyFile = folder.appendingPathComponent("master.key")
            let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect((attributes[.ownerAccountID] as? Int) == Int(getuid()), "the key is not handed to the server's account")
            keys.append(try String(contentsOf: keyFile, encoding: .utf8))
        }
        #expect(keys[0] == keys[1])
        #expect(!LocalClusterCheck.isRunning(folder))
    }
}

extension DevCommandTests {
    /// The logins `purser dev` prints work: a viewer with the password, a tenant admin through the
    /// second factor with a code from `purser dev-code`.
    func signInWithPrintedLogins(port: Int, log: URL, folder: URL) throws {
        var output = ""
        _ = waitUntil(5) {
            output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return output.contains("Press Ctrl-C")
        }
        let password = try #require(WebVisitor.firstMatch(#"with password (\S+):"#, in: output))
        #expect(output.contains("viewer@acme.test") && output.contains("admin@purser.test"))
        let base = "http://127.0.0.1:\(port)"
        let viewer = WebVisitor(baseURL: base)
        #expect(try viewer.signIn("viewer@acme.test", password).status == 303)
        #expect(try viewer.get("/t/acme/").status == 200)
        try demoIncidentsAreShown(to: viewer)
        try demoEndpointsAreShown(to: viewer)
        let admin = WebVisitor(baseURL: base)
        let signedIn = try admin.signIn("admin@acme.test", password) {
            let code = try Subprocess.run(
                TestEnvironment.purserBinary.path, ["dev-code", "admin@acme.test", "--data-folder", folder.path],
                environment: ["PATH": "/usr/bin:/bin:/usr/sbin", "PURSER_ROOT": TestEnvironment.root.path])
            #expect(code.status == 0, "\(code.output)")
            return code.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(signedIn.header("Location") == "/start")
        #expect(try admin.get("/t/acme/members").status == 200)
    }
}

extension DevCommandTests {
    /// The demo's incidents: a resolved SEV2 with its postmortem and action item, and an
    /// acknowledged SEV3 still open whose alert has a runbook.
    func demoIncidentsAreShown(to viewer: WebVisitor) throws {
        let all = try viewer.get("/t/acme/incidents?view=all")
        #expect(all.status == 200)
        let rows = all.text
        #expect(rows.contains("fraud-scoring-v7 answers 5xx to 7 % of requests") && rows.contains("resolved"), "\(rows)")
        #expect(rows.contains("GPU memory above 90 % on gpu-a1</a></td>"), "\(rows)")
        let resolved = try #require(WebVisitor.firstMatch(#"<a href="(/t/acme/incidents/[0-9a-f-]{36})">fraud-scoring"#, in: rows))
        let page = try viewer.get(resolved).text
        #expect(page.contains("SEV2") && page.contains("A batch job of another tenant filled the GPU memory"))
        #expect(page.contains("Keep batch jobs off the GPUs that serve real-time models"))
        let open = try #require(WebVisitor.firstMatch(#"<a href="(/t/acme/incidents/[0-9a-f-]{36})">GPU memory"#, in: rows))
        let warning = try viewer.get(open).text
        #expect(warning.contains("SEV3") && warning.contains("Runbook: GPU memory above 90 %") && warning.contains("Pat Platform"))
        let escalation = try viewer.get("/t/acme/escalation").text
        #expect(escalation.contains("Level 1") && escalation.contains(#"name="after_1" value="15""#), "\(escalation)")
    }
}

extension DevCommandTests {
    /// The demo's probed endpoints: each listed with its state and this month's uptime, and on the
    /// status page the chat model's week with its 30-minute outage (30 of 10,081 probes down).
    func demoEndpointsAreShown(to viewer: WebVisitor) throws {
        let list = try viewer.get("/t/acme/endpoints")
        #expect(list.status == 200)
        for name in ["acme-api-health", "fraud-scoring-chat", "document-search"] {
            let uptime = WebVisitor.firstMatch(name + #"</a><br>.*?</td><td>[^<]+</td><td>up</td><td>(\d+\.\d{3} %)</td>"#, in: list.text)
            #expect(uptime != nil, "\(name): \(list.text)")
        }
        let status = try viewer.get("/t/acme/status")
        #expect(status.status == 200)
        let chat = WebVisitor.firstMatch(#"fraud-scoring-chat</a></td><td>operational</td><td>([0-9.]+ %)</td>"#, in: status.text)
        #expect(chat == "99.702 %", "\(status.text)")
        #expect(status.text.contains("acme-api-health") && status.text.contains("document-search"))
        let link = try #require(WebVisitor.firstMatch(#"<a href="(/t/acme/endpoints/[0-9a-f-]{36})">fraud-scoring-chat"#, in: list.text))
        let page = try viewer.get(link).text
        #expect(page.contains("GPU driver upgrade on the inference hosts") && page.contains("fraud-scoring-chat is down"), "\(page)")
        #expect(page.components(separatedBy: "<svg").count == 4, "an uptime, a latency and a TTFT chart")
    }
}

extension DevCommandTests {
    /// Without SMTP_URL, `purser dev` keeps mail: the banner names the mail page, which answers.
    func mailIsKeptForTheMailPage(port: Int, log: URL) throws {
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(output.contains("Mail:         kept here, not sent: http://127.0.0.1:\(port)/dev/mail"), "\(output)")
        let page = try HTTPClient().get("http://127.0.0.1:\(port)/dev/mail")
        #expect(page.status == 200)
        #expect(page.text.contains("Mail (dev)"))
    }
}

enum LocalClusterCheck {
    /// Whether a postmaster still holds the cluster under `folder`.
    static func isRunning(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/postmaster.pid").path)
    }
}
