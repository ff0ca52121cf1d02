// A `purser serve` node stopped with SIGTERM behind HAProxy loses no request: for its drain
// period (PURSER_DRAIN_SECONDS=2 here) it answers /readyz 503 while it still serves everything it
// is sent, HAProxy's health check (every 200 ms, two failures) takes it out, and only then does it
// stop accepting and finish what it holds. Two clients send requests through HAProxy the whole
// time; every one is answered 200.
import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.enabled(if: TestEnvironment.scaleRun), .serialized) struct NodesDrainScaleTests {
    @Test func aServeNodeDrainedWithSIGTERMBehindHAProxyLosesNoRequest() throws {
        let seed = try TestApp()
        let people = try People(seed, slug: "acme")
        try seed.database.connect().query("UPDATE plans SET api_requests_per_minute = 100000, tenant_requests_per_minute = 100000")
        let token = try people.token("viewer@acme.test", in: seed).token
        let nodes = try PurserNodes(databaseURL: seed.database.url, serve: 2, work: 0)
        defer { nodes.stopAll() }
        let proxy = try HAProxyPeer(servers: nodes.servers)
        let drained = nodes.serves[0]

        // Each client stops when told, or after 100,000 requests at most (a quiet machine makes 40,000
        // in the ten seconds a drain and HAProxy's check can take).
        let statuses = Locked<[Int]>([])
        let enough = Locked(false)
        let clients = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: clients) {
                let client = HTTPClient()
                for _ in 0..<100_000 where !enough.withLock({ $0 }) {
                    let status = (try? client.get(proxy.url + "/api/v1/requests", headers: [("Authorization", "Bearer \(token)")]))?.status
                    statuses.withLock { $0.append(status ?? 0) }
                }
            }
        }
        defer {
            enough.withLock { $0 = true }
            clients.wait()
        }
        #expect(waitUntil(20) { statuses.withLock { $0.count } >= 100 }, "\(nodes.logs)")

        let exit = Locked<(status: Int32, after: Duration)?>(nil)
        let stopped = DispatchGroup()
        let signalled = ContinuousClock.now
        DispatchQueue.global().async(group: stopped) {
            let status = drained.stop(signal: SIGTERM)
            exit.withLock { $0 = (status, ContinuousClock.now - signalled) }
        }
        let takenOut = timeUntil(20) { proxy.states()[drained.name]?.hasPrefix("DOWN") == true }
        #expect(stopped.wait(timeout: .now() + 20) == .success, "the node stopped within its drain and deadline")
        // After the node is gone: as many requests again, all to the node that remains.
        let atExit = statuses.withLock { $0.count }
        #expect(waitUntil(20) { statuses.withLock { $0.count } >= atExit + 200 })
        enough.withLock { $0 = true }
        clients.wait()

        let all = statuses.withLock { $0 }
        let failed = all.filter { $0 != 200 }
        // The node's own log says when it began to drain, when it closed, and when HAProxy last sent
        // it a request: how long the balancer took to take it out.
        let lines = drained.logText.split(separator: "\n").map(String.init)
        func time(_ line: String?) -> Date? {
            line.flatMap { WebVisitor.firstMatch(#""time":"([^"]+)""#, in: $0) }.flatMap { try? Date($0, strategy: .iso8601) }
        }
        let began = try #require(time(lines.first { $0.contains(#""message":"draining""#) }), "\(lines.suffix(20))")
        let closed = try #require(time(lines.first { $0.contains(#""message":"closing""#) }), "\(lines.suffix(20))")
        let stoppedAt = time(lines.first { $0.contains(#""message":"stopped""#) })
        let afterDrain = lines.drop { !$0.contains(#""message":"draining""#) }.filter { $0.contains(#""route":"/api/v1/requests""#) }
        let lastSent = time(afterDrain.last) ?? began
        let exited = exit.withLock { $0 }
        print(
            "nodes: drain: \(all.count) requests through HAProxy, \(failed.count) failed; the draining node answered "
                + "\(afterDrain.count), the last \(Int(lastSent.timeIntervalSince(began) * 1000)) ms after SIGTERM; closed after "
                + "\(Int(closed.timeIntervalSince(began) * 1000)) ms, stopped after \(stoppedAt.map { Int($0.timeIntervalSince(began) * 1000) } ?? -1) ms; exited \(exited.map { "\($0.after)" } ?? "?") after SIGTERM; "
                + "HAProxy's stats said DOWN after \(takenOut.map { "\($0)" } ?? "never")")
        #expect(failed.isEmpty, "every request answered 200: \(failed.count) of \(all.count) were not: \(proxy.logText.suffix(3000))")
        #expect(takenOut != nil, "HAProxy took the draining node out: \(proxy.states())")
        #expect(!afterDrain.isEmpty, "requests sent during the drain were answered by the draining node")
        #expect(lastSent < closed, "HAProxy stopped sending before the node closed its listener")
        #expect(exited?.status == 0, "\(drained.logText.suffix(2000))")
        #expect(proxy.states()[nodes.serves[1].name] == "UP")
        let messages = drained.logText.split(separator: "\n").compactMap {
            WebVisitor.firstMatch(#""message":"([a-z ]+)""#, in: String($0))
        }
        #expect(messages.filter { ["draining", "closing", "stopped"].contains($0) } == ["draining", "closing", "stopped"], "\(messages)")
    }
}
