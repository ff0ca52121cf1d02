import Foundation
import Postgres
import HTTPClient
import Testing
import TestSupport

/// The `purser` executable itself: configuration errors, migrate, and a clean stop on SIGTERM.
@Suite struct ProcessTests {
    var baseEnvironment: [String: String] {
        ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path]
    }

    @Test func badConfigurationExitsWithCode2AndOneLinePerProblem() throws {
        var environment = baseEnvironment
        environment["PURSER_LISTEN"] = "nowhere"
        environment["PURSER_POOL_SIZE"] = "zero"
        let result = try Subprocess.run(TestEnvironment.purserBinary.path, ["serve"], environment: environment)
        #expect(result.status == 2)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 4, "listen, pool size, the missing DATABASE_URL and master key: \(result.output)")
        #expect(lines.allSatisfy { $0.hasPrefix("purser: ") })
    }

    @Test func migrateAppliesAndReportsStatus() throws {
        let database = try TestDatabase(migrated: false)
        var environment = baseEnvironment
        environment["DATABASE_URL"] = database.url
        let first = try Subprocess.run(TestEnvironment.purserBinary.path, ["migrate"], environment: environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("Applied"))
        let again = try Subprocess.run(TestEnvironment.purserBinary.path, ["migrate"], environment: environment)
        #expect(again.output.contains("Migrations are current."))
        let status = try Subprocess.run(TestEnvironment.purserBinary.path, ["migrate", "--status"], environment: environment)
        #expect(status.output.contains("0001  foundation"))
        #expect(status.output.contains("applied"))
    }

    @Test func serveStopsCleanlyOnSIGTERM() throws {
        let database = try TestDatabase()
        let port = RawHTTP.freePort()
        var environment = baseEnvironment
        environment["DATABASE_URL"] = database.url
        environment["PURSER_LISTEN"] = "127.0.0.1:\(port)"
        environment["PURSER_MASTER_KEY"] = TestEnvironment.masterKeyText
        environment["PURSER_METRICS_LISTEN"] = "127.0.0.1:\(RawHTTP.freePort())"
        // No load balancer watches this node: no drain period before it closes (NodesDrainScaleTests has one).
        environment["PURSER_DRAIN_SECONDS"] = "0"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try ChildProcess(
            [TestEnvironment.purserBinary.path, "serve"], environment: environment,
            output: log.path)
        let up = waitUntil(10) { (try? HTTPClient().get("http://127.0.0.1:\(port)/healthz"))?.status == 200 }
        #expect(up)
        #expect(try HTTPClient().get("http://127.0.0.1:\(port)/readyz").status == 200)
        #expect(process.stop(signal: SIGTERM) == 0)
        let lines = (try String(contentsOf: log, encoding: .utf8)).split(separator: "\n")
        #expect(lines.contains { $0.contains(#""route":"/readyz""#) && $0.contains(#""request_id""#) })
        #expect(lines.contains { $0.contains(#""message":"stopped""#) })
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "every log line is JSON: \(line)")
        }
    }

    @Test func versionIsPrinted() throws {
        let result = try Subprocess.run(TestEnvironment.purserBinary.path, ["--version"], environment: baseEnvironment)
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }
}
