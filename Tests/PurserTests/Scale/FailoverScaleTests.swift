// Automatic failover under a write load: a `purser serve` process on a pg_auto_failover formation
// (monitor, primary, synchronous secondary; AutoFailoverGroup) is given the multi-host URL with
// target_session_attrs=read-write. The primary is SIGKILLed while a client files service requests:
// Purser answers 503 (never 500) while no node takes writes, /readyz goes 503 and back to 200, the
// writes go to the promoted node, and a `purser work` started before the failover runs jobs queued
// after it. The killed node then rejoins as the secondary and a planned switchover demotes the live
// primary (it stops and restarts as a standby): Purser follows it back. Every request the client
// saw a 201 for is in the database at the end.
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

        let port = RawHTTP.freePort()
        let serveLog = FileManager.default.temporaryDirectory.appendingPathComponent("failover-serve-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: serveLog) }
        let load = WriteLoad(base: "http://127.0.0.1:\(port)", token: try Self.token(group))
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
        // A worker on the same URL: it must find the new primary for its claims and its LISTEN too.
        let workLog = FileManager.default.temporaryDirectory.appendingPathComponent("failover-work-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: workLog) }
        let work = try ChildProcess(
            [TestEnvironment.purserBinary.path, "work"],
            environment: Self.environment(group).merging(
                [
                    "PURSER_METRICS_LISTEN": "off", "PURSER_MASTER_KEY": TestEnvironment.masterKeyText, "PURSER_POOL_SIZE": "2",
                    "PURSER_LOG_LEVEL": "warning",
                ], uniquingKeysWith: { $1 }),
            output: workLog.path)
        defer { work.stop(signal: SIGKILL) }

        try #require(waitUntil(30) { load.readiness() == 200 }, "purser serve did not become ready: \(serveOutput())")
        try #require(
            waitUntil(30) {
                _ = load.write(); return load.acknowledged.count >= 20
            }, "\(load.statuses) \(serveOutput())")

        // The primary dies: nothing takes writes until the monitor promotes the secondary.
        group.kill(first)
        let afterKill = try #require(
            load.rideOut(90, failing: true, notReady: true), "no recovery: \(load)\n\(serveOutput())\n\(group.log(second))")
        #expect(afterKill.readiness.drop { $0 != 503 }.contains(200), "/readyz said \(afterKill.readiness)")
        #expect(afterKill.outage < 30, "outage \(afterKill.outage) s")
        #expect(waitUntil(30) { (try? group.primary()) == second }, "\((try? group.nodes()) ?? [])")
        // Jobs queued on the promoted node are run by the worker started before the failover.
        let queued = try Subprocess.run(
            TestEnvironment.purserBinary.path, ["admin", "enqueue-noop", "--jobs", "20"], environment: Self.environment(group))
        try #require(queued.status == 0, "\(queued.output)")
        let jobsRun = waitUntil(30) {
            let done = try? Connection(url: group.url).query(
                "SELECT count(*) FROM jobs WHERE kind = 'system.noop' AND state = 'succeeded'")[0].require(0, as: Int.self)
            return done == 20
        }
        #expect(
            jobsRun,
            "the worker did not run the jobs queued after the failover: \(String(((try? String(contentsOf: workLog, encoding: .utf8)) ?? "").suffix(3000)))"
        )

        // The old primary comes back as the secondary; then a switchover demotes the live primary.
        try group.restart(first)
        try #require(group.waitForPrimaryAndSecondary(seconds: 90), "\(first) did not rejoin: \(group.log(first))")
        let switchover = try group.startSwitchover()
        let moved = load.rideOut(90, failing: false, notReady: false) { (try? group.primary()) == first }
        let switched = moved == nil ? switchover.stop() : switchover.wait()
        try #require(moved != nil, "the switchover was not followed: \(load)\n\(serveOutput())\n\(group.log("switchover"))")
        #expect(switched == 0, "\(group.log("switchover"))")
        // While no node took writes the client was told to come back (503), never 500.
        #expect(Set(load.statuses.keys).isSubset(of: [201, 503]), "answers \(load.statuses)")

        // Every acknowledged write, before and after both changes of primary, is on the primary.
        let acknowledged = load.acknowledged
        let found = try Connection(url: group.url(node: first)).query(
            "SELECT count(*) FROM requests WHERE id = ANY($1)", [acknowledged])[0].require(0, as: Int.self)
        #expect(found == acknowledged.count, "\(acknowledged.count - found) of \(acknowledged.count) acknowledged writes lost")
        print(
            "failover: primary killed: writes failed for \(String(format: "%.2f", afterKill.outage)) s (first failed write to the first"
                + " 201 after it), /readyz \(afterKill.readiness); switchover: writes failed for \(String(format: "%.2f", moved?.outage ?? 0)) s;"
                + " answers \(load.statuses); \(found) of \(acknowledged.count) acknowledged writes on the primary")
        #expect(kill(serve.pid, 0) == 0, "purser serve exited: \(serveOutput())")
        #expect(kill(work.pid, 0) == 0, "purser work exited")
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

/// One client filing service requests one after another, remembering every id it got a 201 for.
private final class WriteLoad: CustomStringConvertible {
    let client: HTTPClient
    let base: String
    let token: String
    var acknowledged: [UUID] = []
    /// Answers by status; 0 counts an answer that never came.
    var statuses: [Int: Int] = [:]
    var attempts = 0
    var trace: [String] = []

    init(base: String, token: String) {
        var options = HTTPClient.Options()
        options.connectTimeout = .seconds(2)
        options.totalTimeout = .seconds(10)
        client = HTTPClient(options: options)
        self.base = base
        self.token = token
    }

    /// Files one request; true on 201.
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

    /// Writes and asks /readyz in turn until a write succeeds and `done` holds — after a stretch of
    /// failed writes when `failing`, after /readyz said 503 and then 200 when `notReady`. Returns
    /// the failed stretch (first failed write to the first 201 after it; 0 when none failed) and
    /// what /readyz said, or nil when `seconds` ran out.
    func rideOut(
        _ seconds: TimeInterval, failing: Bool, notReady: Bool, done: () -> Bool = { true }
    ) -> (outage: TimeInterval, readiness: [Int])? {
        var firstFailure: Date?
        var firstSuccessAfter: Date?
        var readiness: [Int] = []
        let finished = waitUntil(seconds) {
            let written = write()
            let now = Date()
            if !written && firstFailure == nil { firstFailure = now }
            if written && firstFailure != nil && firstSuccessAfter == nil { firstSuccessAfter = now }
            let ready = self.readiness()
            if trace.count < 6 { trace.append("\(statuses)/\(ready)") }
            if readiness.last != ready { readiness.append(ready) }
            return written && (firstFailure == nil ? !failing : firstSuccessAfter != nil)
                && (!notReady || readiness.drop { $0 != 503 }.contains(200)) && done()
        }
        guard finished else { return nil }
        let outage = firstFailure.map { failure in firstSuccessAfter.map { $0.timeIntervalSince(failure) } ?? 0 } ?? 0
        return (outage, readiness)
    }

    var description: String { "answers \(statuses), \(acknowledged.count) acknowledged \(trace)" }
}
