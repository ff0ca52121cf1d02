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
