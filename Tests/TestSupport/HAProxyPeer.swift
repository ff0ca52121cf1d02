// Debian's HAProxy as a test peer: started by the test in the foreground (never as a service) on
// an ephemeral loopback port, from scripts/scale/haproxy-nodes.cfg.in (the same template `make
// bench` uses), balancing `serve` nodes by round robin with health checks on /readyz and
// `option forwardfor`. It connects to the nodes from `source` (another loopback address), so a
// node that trusts only that address tells HAProxy's hops from a client's own.
import Foundation
import HTTPClient
import HTTPServerTesting
import Postgres

public final class HAProxyPeer: @unchecked Sendable {
    public let port: Int
    public let statsPort: Int
    public let folder: URL
    /// The address HAProxy connects to the nodes from (the nodes' PURSER_TRUSTED_PROXIES).
    public let source: String
    private let process: ChildProcess
    private let log: URL
    private let client: HTTPClient

    public var url: String { "http://127.0.0.1:\(port)" }

    /// The template, filled in: `servers` are (name, port) on 127.0.0.1; `inter` is the health
    /// check interval in milliseconds.
    public static func configuration(
        frontend: String, stats: String, source: String, servers: [(name: String, port: Int)], inter: Int, fall: Int,
        rise: Int
    ) throws -> String {
        let template = try String(
            contentsOf: TestEnvironment.root.appendingPathComponent("scripts/scale/haproxy-nodes.cfg.in"), encoding: .utf8)
        let lines = servers.map { "    server \($0.name) 127.0.0.1:\($0.port) check" }.joined(separator: "\n")
        return
            template
            .replacingOccurrences(of: "@FRONTEND@", with: frontend).replacingOccurrences(of: "@STATS@", with: stats)
            .replacingOccurrences(of: "@SOURCE@", with: source).replacingOccurrences(of: "@INTER@", with: String(inter))
            .replacingOccurrences(of: "@FALL@", with: String(fall)).replacingOccurrences(of: "@RISE@", with: String(rise))
            .replacingOccurrences(of: "@SERVERS@", with: lines)
    }

    /// Starts HAProxy and waits (bounded) until every server passed its health checks.
    public init(
        servers: [(name: String, port: Int)], source: String = "127.0.0.3", inter: Int = 200, fall: Int = 2, rise: Int = 2
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        self.source = source
        port = RawHTTP.freePort()
        statsPort = RawHTTP.freePort()
        let config = folder.appendingPathComponent("haproxy.cfg")
        try Self.configuration(
            frontend: "127.0.0.1:\(port)", stats: "127.0.0.1:\(statsPort)", source: source, servers: servers, inter: inter,
            fall: fall, rise: rise
        ).write(to: config, atomically: true, encoding: .utf8)
        log = folder.appendingPathComponent("haproxy.log")
        let check = try Subprocess.run("/usr/sbin/haproxy", ["-c", "-f", config.path])
        guard check.status == 0 else { throw TestSetupError("haproxy refused its configuration (\(check.status)): \(check.output)") }
        // -db: stay in the foreground, so the test owns the process and its end.
        process = try ChildProcess(["/usr/sbin/haproxy", "-db", "-f", config.path], output: log.path)
        var options = HTTPClient.Options()
        options.totalTimeout = .seconds(5)
        client = HTTPClient(options: options)
        let names = Set(servers.map(\.name))
        guard waitUntil(20, { [self] in Set(states().filter { $0.value == "UP" }.keys) == names }) else {
            let text = logText
            _ = process.stop(signal: SIGKILL)
            throw TestSetupError("haproxy did not see its servers up (\(states())): \(text)")
        }
    }

    /// Each server's state as HAProxy's stats page says it (UP, DOWN, "UP 1/2" while changing…).
    public func states() -> [String: String] {
        guard let response = try? client.get("http://127.0.0.1:\(statsPort)/stats;csv"), response.status == 200 else { return [:] }
        var states: [String: String] = [:]
        let lines = response.text.split(separator: "\n")
        guard let header = lines.first?.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false),
            let name = header.firstIndex(of: "svname"), let status = header.firstIndex(of: "status")
        else { return [:] }
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > max(name, status), fields[0] == "nodes", !["FRONTEND", "BACKEND"].contains(fields[name]) else {
                continue
            }
            states[String(fields[name])] = String(fields[status])
        }
        return states
    }

    /// What HAProxy logged: one line per request (`option httplog`) and each server's state changes.
    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        _ = process.stop(signal: SIGTERM)
        try? FileManager.default.removeItem(at: folder)
    }
}
