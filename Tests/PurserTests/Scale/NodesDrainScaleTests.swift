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
        let nodes = try PurserNodes(
            databaseURL: seed.database.url, serve: 2, work: 0, environment: ["PURSER_DRAIN_SECONDS": "\(Self.drainSeconds)"])
        defer { nodes.stopAll() }
        let proxy = try HAProxyPeer(servers: nodes.servers)
        let drained = nodes.serves[0]

        // Each client runs on a thread of its own and stops when told, or after 50,000 requests at
        // most (a quiet machine makes about 4,000 a second; the drain and the 200 requests after it
        // take about 3 s).
        let statuses = Locked<[Int]>([])
        let enough = Locked(false)
        let clients = DispatchGroup()
        for _ in 0..<2 {
            clients.enter()
            Thread.detachNewThread {
                let client = HTTPClient()
                for _ in 0..<50_000 where !enough.withLock({ $0 }) {
                    let status = (try? client.get(proxy.url + "/api/v1/requests", headers: [("Authorization", "Bearer \(token)")]))?.status
                    statuses.withLock { $0.append(status ?? 0) }
                }
                clients.leave()
            }
        }
        defer {
            enough.withLock { $0 = true }
            clients.wait()
        }
        #expect(waitUntil(20) { statuses.withLock { $0.count } >= 100 }, "\(nodes.logs)")

        // A health checker that keeps its connection alive, and a client connection left idle: neither
        // may keep the node from answering 503 during the drain or from exiting after it.
        let checker = try RawHTTP.connect(port: drained.port, timeout: .seconds(2))
        defer { close(checker) }
        let idle = try RawHTTP.connect(port: drained.port, timeout: .seconds(2))
        defer { close(idle) }
        #expect(Self.status(askingReadiness: checker) == 200)

        // The signal is sent from this thread and the exit awaited on a thread of its own. (Sent from
        // a block on Dispatch's global queue, it waited while blocking client loops held that queue's
        // threads, 2–12 s, and the drain looked that much slower than it is.)
        let exit = Locked<(status: Int32, at: Date)?>(nil)
        let stopped = DispatchGroup()
        stopped.enter()
        let signalled = Date()
        let deadline = DispatchTime.now() + .seconds(Self.drainSeconds + 3)
        drained.send(SIGTERM)
        Thread.detachNewThread {
            let status = drained.waitForExit()
            exit.withLock { $0 = (status, Date()) }
            stopped.leave()
        }
        // HAProxy checks every 200 ms and takes a node out after two failures: about 0.4 s.
        var seen: [(at: Date, state: String)] = []
        let takenOut = timeUntil(Double(Self.drainSeconds)) {
            let state = proxy.states()[drained.name] ?? "?"
            if seen.last?.state != state { seen.append((Date(), state)) }
            return state.hasPrefix("DOWN")
        }
        #expect(Self.status(askingReadiness: checker) == 503, "the kept-alive checker is told the node is draining")
        // Idle once HAProxy stops sending, the node exits as soon as its drain period ends.
        #expect(stopped.wait(timeout: deadline) == .success, "the node exited within 3 s of its drain period's end")
        // After the node is gone: 200 more requests, all to the node that remains.
        let atExit = statuses.withLock { $0.count }
        #expect(waitUntil(10) { statuses.withLock { $0.count } >= atExit + 200 })
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
        func ms(_ date: Date?, after start: Date) -> String { date.map { "\(Int($0.timeIntervalSince(start) * 1000))" } ?? "?" }
        let began = try #require(time(lines.first { $0.contains(#""message":"draining""#) }), "\(lines.suffix(20))")
        let closed = try #require(time(lines.first { $0.contains(#""message":"closing""#) }), "\(lines.suffix(20))")
        let stoppedAt = try #require(time(lines.first { $0.contains(#""message":"stopped""#) }), "\(lines.suffix(20))")
        let afterDrain = lines.drop { !$0.contains(#""message":"draining""#) }.filter { $0.contains(#""route":"/api/v1/requests""#) }
        let lastSent = time(afterDrain.last) ?? began
        let exited = exit.withLock { $0 }
        print(
            "nodes: drain: \(all.count) requests through HAProxy, \(failed.count) failed; the draining node logged draining "
                + "\(ms(began, after: signalled)) ms after the signal, answered \(afterDrain.count) requests, the last "
                + "\(ms(lastSent, after: began)) ms after it; HAProxy's stats: "
                + seen.map { "\(ms($0.at, after: signalled)) ms \($0.state)" }.joined(separator: ", ")
                + "; closed after \(ms(closed, after: began)) ms, stopped after \(ms(stoppedAt, after: began)) ms, exited after "
                + "\(ms(exited?.at, after: began)) ms")
        #expect(failed.isEmpty, "every request answered 200: \(failed.count) of \(all.count) were not: \(proxy.logText.suffix(3000))")
        #expect(
            // Two failed checks 200 ms apart take ~0.4 s; the bound leaves room for a loaded machine and
            // still lies well inside the 2 s drain, before the node closes its listener.
            takenOut.map { $0 < .milliseconds(1500) } == true,
            "HAProxy took the draining node out within 1.5 s: \(seen) \(proxy.logText.split(separator: "\n").filter { $0.contains("Server nodes/") })"
        )
        #expect(!afterDrain.isEmpty, "requests sent during the drain were answered by the draining node")
        #expect(lastSent < closed, "HAProxy stopped sending before the node closed its listener")
        #expect(exited?.status == 0, "\(drained.logText.suffix(2000))")
        #expect(exited.map { $0.at.timeIntervalSince(stoppedAt) < 3 } == true, "the node exited within 3 s of logging stopped")
        #expect(proxy.states()[nodes.serves[1].name] == "UP")
        let messages = drained.logText.split(separator: "\n").compactMap {
            WebVisitor.firstMatch(#""message":"([a-z ]+)""#, in: String($0))
        }
        #expect(messages.filter { ["draining", "closing", "stopped"].contains($0) } == ["draining", "closing", "stopped"], "\(messages)")
    }

    /// Sends GET /readyz on a kept-alive connection and reads one answer (bounded by the socket's
    /// 2 s read timeout and 64 reads); 0 when none came.
    static func status(askingReadiness socket: Int32) -> Int {
        RawHTTP.send(socket, Array("GET /readyz HTTP/1.1\r\nHost: node\r\n\r\n".utf8))
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<64 {
            if let end = received.range(of: "\r\n\r\n"),
                let length = WebVisitor.firstMatch(#"(?i)content-length: *([0-9]+)"#, in: String(received[..<end.lowerBound])).flatMap(
                    Int.init),
                received.utf8.count - received[..<end.upperBound].utf8.count >= length
            {
                break
            }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return WebVisitor.firstMatch(#"^HTTP/1\.1 ([0-9]{3})"#, in: received).flatMap(Int.init) ?? 0
    }

    /// The nodes' PURSER_DRAIN_SECONDS: more than HAProxy's 0.4 s (inter 200 ms × fall 2).
    static let drainSeconds = 2
}
