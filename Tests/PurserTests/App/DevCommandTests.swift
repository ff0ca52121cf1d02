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
                [TestEnvironment.purserBinary.path, "dev", "--data-folder", folder.path, "--listen", "127.0.0.1:\(port)",
                 "--metrics-listen", "off", "--log-level", "warning"],
                environment: ["PATH": "/usr/bin:/bin:/usr/sbin", "PURSER_ROOT": TestEnvironment.root.path], output: log.path)
            var ready = false
            for _ in 0..<600 where !ready {
                ready = (try? HTTPClient().get("http://127.0.0.1:\(port)/readyz"))?.status == 200
                if !ready { Thread.sleep(forTimeInterval: 0.1) }
            }
            #expect(ready, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
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

enum LocalClusterCheck {
    /// Whether a postmaster still holds the cluster under `folder`.
    static func isRunning(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/postmaster.pid").path)
    }
}
