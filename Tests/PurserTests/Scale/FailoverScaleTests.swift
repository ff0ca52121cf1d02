// Automatic failover under a write load: a `purser serve` process on a pg_auto_failover formation
// (monitor, primary, synchronous secondary; AutoFailoverGroup) is given the multi-host URL with
// target_session_attrs=read-write. The primary is SIGKILLed while a client files service requests.
// Purser answers 503 (never 500) while no node takes writes, /readyz goes 503 and back to 200, the
// writes go to the promoted node, and every request the client saw a 201 for is in the database.
// Real processes and real time: every wait is bounded and polls.
import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.enabled(if: TestEnvironment.scaleRun)) struct FailoverScaleTests {
    @Test func killingThePrimaryUnderWritesLosesNoAcknowledgedWrite() throws {
        let group = try AutoFailoverGroup()
        defer { group.stop() }
        try #require(group.waitForPrimaryAndSecondary(seconds: 60), "the formation did not settle: \(group.log("node2"))")
        let first = try #require(try group.primary())
        let second = try #require(group.ports.map(\.name).first { $0 != first })
        try group.migrate()
        // pg_auto_failover's synchronous replication: a COMMIT returns once the standby has it, so an
        // acknowledged write survives the primary.
        let standbys = try Connection(url: group.url(node: first)).query("SHOW synchronous_standby_names")[0]
            .require(0, as: String.self)
        #expect(standbys.hasPrefix("ANY 1"), "synchronous_standby_names = '\(standbys)'")

        let token = try Self.token(group)
        let port = RawHTTP.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serveLog = FileManager.default.temporaryDirectory.appendingPathComponent("failover-serve-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: serveLog) }
        let serve = try ChildProcess(
            [TestEnvironment.purserBinary.path, "serve"],
            environment: Self.environment(group).merging(
                [
                    "PURSER_LISTEN": "127.0.0.1:\(port)", "PURSER_METRICS_LISTEN": "off",
                    "PURSER_MASTER_KEY": TestEnvironment.masterKeyText,
                    "PURSER_POOL_SIZE": "4", "PURSER_LOG_LEVEL": "warning", "PURSER_DRAIN_SECONDS": "0",
                ], uniquingKeysWith: { $1 }),
            output: serveLog.path)
        defer { serve.stop(signal: SIGKILL) }
        func serveOutput() -> String { String(((try? String(contentsOf: serveLog, encoding: .utf8)) ?? "").suffix(3000)) }

        var options = HTTPClient.Options()
        options.connectTimeout = .seconds(2)
        options.totalTimeout = .seconds(10)
        let client = HTTPClient(options: options)
        var acknowledged: [UUID] = []
        var statuses: [Int: Int] = [:]
        var attempts = 0
        /// Files one request; true on 201. 0 counts an answer that never came.
        func write() -> Bool {
            attempts += 1
            let body = #"{"subject": "Failover write \#(attempts)", "type": "question", "priority": "P4"}"#
            let response = try? client.send(
                ClientRequest(
                    method: "POST", url: base + "/api/v1/requests",
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body.utf8)))
            statuses[response?.status ?? 0, default: 0] += 1
            guard let response, response.status == 201 else { return false }
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            if let id = (object?["id"] as? String).flatMap(UUID.init(uuidString:)) { acknowledged.append(id) }
            return true
        }
        func readiness() -> Int { (try? client.get(base + "/readyz").status) ?? 0 }

        try #require(waitUntil(30) { readiness() == 200 }, "purser serve did not become ready: \(serveOutput())")
        try #require(
            waitUntil(30) {
                _ = write(); return acknowledged.count >= 20
            }, "\(statuses) \(serveOutput())")

        group.kill(first)
        var firstFailure: Date?
        var firstSuccessAfter: Date?
        var readySeen: [Int] = []
        let recovered = waitUntil(90) {
            let written = write()
            let now = Date()
            if !written && firstFailure == nil { firstFailure = now }
            if written && firstFailure != nil && firstSuccessAfter == nil { firstSuccessAfter = now }
            let ready = readiness()
            if readySeen.last != ready { readySeen.append(ready) }
            return firstSuccessAfter != nil && readySeen.drop(while: { $0 != 503 }).contains(200)
        }
        try #require(recovered, "no recovery: statuses \(statuses), /readyz \(readySeen)\n\(serveOutput())\n\(group.log(second))")
        let outage = firstSuccessAfter!.timeIntervalSince(firstFailure!)
        #expect(outage < 30, "outage \(outage) s")
        #expect(readySeen.contains(503), "/readyz said \(readySeen)")
        // While no node took writes the client was told to come back (503), never 500.
        #expect(Set(statuses.keys).isSubset(of: [201, 503]), "answers \(statuses)")

        let before = acknowledged.count
        try #require(
            waitUntil(30) {
                _ = write(); return acknowledged.count >= before + 10
            }, "\(statuses) \(serveOutput())")
        #expect(waitUntil(30) { (try? group.primary()) == second }, "\((try? group.nodes()) ?? [])")

        // Every acknowledged write, before and after the failover, is on the promoted node.
        let found = try Connection(url: group.url(node: second)).query(
            "SELECT count(*) FROM requests WHERE id = ANY($1)", [acknowledged])[0].require(0, as: Int.self)
        #expect(found == acknowledged.count, "\(acknowledged.count - found) of \(acknowledged.count) acknowledged writes lost")
        print(
            "failover: writes failed for \(String(format: "%.2f", outage)) s (first failed write to the first 201 after it);"
                + " /readyz \(readySeen); answers \(statuses); \(found) of \(acknowledged.count) acknowledged writes on \(second)")
        #expect(kill(serve.pid, 0) == 0, "purser serve exited: \(serveOutput())")
    }

    static func environment(_ group: AutoFailoverGroup) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": group.url]
    }

    /// A tenant on the plan with the highest rate limit, a requester and their token, made with
    /// the operator's commands. The account is made active as if its owner had set a password.
    static func token(_ group: AutoFailoverGroup) throws -> String {
        func purser(_ arguments: [String]) throws -> String {
            let result = try Subprocess.run(TestEnvironment.purserBinary.path, arguments, environment: environment(group))
            guard result.status == 0 else { throw TestSetupError("purser \(arguments[1]) failed: \(result.output)") }
            return result.output
        }
        let email = "requester@failover.test"
        _ = try purser(["admin", "create-tenant", "--slug", "failover", "--name", "Failover Bank", "--plan", "enterprise"])
        _ = try purser(["admin", "create-user", "--tenant", "failover", "--email", email, "--name", "Requester", "--role", "requester"])
        try Connection(url: group.url).query("UPDATE users SET status = 'active' WHERE email = $1", [email])
        let output = try purser([
            "admin", "create-token", "--email", email, "--tenant", "failover", "--scopes", "requests:read,requests:write", "--expires",
            "1d",
        ])
        return try #require(output.split(separator: "\n").last.map(String.init))
    }
}
