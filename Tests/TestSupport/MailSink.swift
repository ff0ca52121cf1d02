// A real SMTP server on loopback (aiosmtpd, Tests/peers/smtp_sink.py) that writes each accepted
// message to a folder, and Python's email package to read them back (not Purser's own code).
import Foundation
import HTTPClient
import Purser

public final class MailSink: Sendable {
    public let folder: URL
    let peer: PythonPeer

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        peer = try PythonPeer("smtp_sink.py", arguments: [folder.path])
    }

    /// Where Purser sends mail: the sink, without TLS.
    public var server: MailServer { MailServer(url: "smtp://127.0.0.1:\(peer.port)", security: .none) }

    /// The names of the messages received so far, in arrival order. A message is written as
    /// NNN.eml.tmp and renamed when whole, so only .eml names are messages.
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    }

    /// One message as it was received, headers and all.
    public func raw(_ name: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }

    /// A message parsed by Python's email package: subject, from, to, id, date, unsubscribe, type, text, html.
    public func parsed(_ name: String) throws -> [String: String] {
        let parsed = try Subprocess.run(
            try TestEnvironment.venvBin("python"),
            [
                "-c",
                """
                import email, email.policy, json, sys
                m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
                parts = {p.get_content_type(): p.get_content() for p in m.walk() if not p.is_multipart()}
                fields = {"subject": m["Subject"], "from": m["From"], "to": m["To"], "id": m["Message-ID"],
                          "date": m["Date"], "unsubscribe": m["List-Unsubscribe"], "type": m.get_content_type(),
                          "text": parts.get("text/plain", ""), "html": parts.get("text/html", "")}
                print(json.dumps({k: str(v) for k, v in fields.items() if v is not None}))
                """, folder.appendingPathComponent(name).path,
            ])
        guard let fields = try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [String: String] else {
            throw TestSetupError("python could not read \(name): \(parsed.output)")
        }
        return fields
    }
}

extension TestApp {
    /// A job worker with every standard handler, on the app's database, polling briskly; stop it when done.
    /// `world`: by default the app's (its clock, its outbound HTTP and resolver), with mail through
    /// the configured server when the app's world has no mail of its own. `configure` changes the
    /// worker's configuration only (a breaker's cool-down).
    public func startWorker(world: World? = nil, configure: (inout Configuration) -> Void = { _ in }) throws -> JobWorker {
        var settings = app.configuration.jobWorkerSettings
        settings.retryBase = 0.05
        settings.pollInterval = 0.1
        var configuration = app.configuration
        configuration.databaseURL = database.url
        configure(&configuration)
        let world =
            world
            ?? World(
                clock: app.world.clock, http: app.world.http,
                mail: app.world.mail ?? configuration.mailServer.map { SMTPSender(server: $0) },
                resolver: app.world.resolver)
        let worker = JobWorker(
            url: database.pooledURL, listenURL: database.url, mode: app.configuration.poolMode,
            handlers: try JobRunner.standardHandlers(configuration), settings: settings,
            world: world, logger: quietLogger)
        worker.start()
        return worker
    }
}
