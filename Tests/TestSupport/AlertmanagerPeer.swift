// Prometheus Alertmanager (Debian's prometheus-alertmanager, installed with service starts
// refused) as a test peer, started by the test on an ephemeral loopback port with clustering off
// (`--cluster.listen-address=`) and a private data folder. Its one route groups by service and
// waits about a second (group_wait, group_interval) before it delivers to Purser's webhook receiver
// with the given bearer token, resolved alerts included. Tests post alerts to its API
// (POST /api/v2/alerts) the way Prometheus does, and it delivers them in its own time.
import Foundation
import HTTPClient
import HTTPServerTesting
import Postgres

public final class AlertmanagerPeer: @unchecked Sendable {
    public let port: Int
    public let folder: URL
    private let process: ChildProcess
    private let log: URL
    private let client: HTTPClient

    public var url: String { "http://127.0.0.1:\(port)" }

    /// `webhook`: the receiver's whole URL (Purser's /api/v1/integrations/alertmanager, with ?tenant= for a staff token).
    public init(webhook: String, token: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alertmanager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        self.folder = folder
        let port = RawHTTP.freePort()
        self.port = port
        let config = folder.appendingPathComponent("alertmanager.yml")
        try """
        route:
          receiver: purser
          group_by: ['service']
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: purser
            webhook_configs:
              - url: '\(webhook)'
                send_resolved: true
                http_config:
                  authorization:
                    type: Bearer
                    credentials: '\(token)'

        """.write(to: config, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("alertmanager.log")
        self.log = log
        process = try ChildProcess(
            [
                "/usr/bin/prometheus-alertmanager", "--config.file=\(config.path)",
                "--storage.path=\(folder.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=", "--log.level=debug",
            ], output: log.path)
        var options = HTTPClient.Options()
        options.totalTimeout = .seconds(5)
        client = HTTPClient(options: options)
        guard waitUntil(15, { [client] in (try? client.get("http://127.0.0.1:\(port)/-/ready"))?.status == 200 }) else {
            _ = process.stop(signal: SIGKILL)
            throw TestSetupError("alertmanager did not start: \(logText)")
        }
    }

    /// Posts alerts as Prometheus does: `[{labels, annotations, startsAt, endsAt}]`; an `endsAt` in
    /// the past resolves the alert.
    public func post(_ alerts: [[String: Any]]) throws {
        let body = try JSONSerialization.data(withJSONObject: alerts)
        let response = try client.send(
            ClientRequest(
                method: "POST", url: url + "/api/v2/alerts", headers: [("Content-Type", "application/json")], body: Array(body)))
        guard response.status == 200 else { throw TestSetupError("alertmanager refused the alerts (\(response.status)): \(logText)") }
    }

    /// What Alertmanager logged: what it delivered and how it was answered.
    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        _ = process.stop(signal: SIGTERM)
        try? FileManager.default.removeItem(at: folder)
    }
}
