import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A Slack, Teams or webhook URL is a credential: it is stored sealed with its channel, the
/// channel list and the delivery log keep scheme and host only, and nothing else in the database
/// holds it. Channels saved before migration 0014 are sealed by the worker (or by key rotation).
/// Deliveries reach a real HTTP receiver on loopback.
@Suite(.serialized) struct ChannelTargetSealingTests {
    static let secretPath = "/services/T0001/B0002/XXXXsecretXXXX"
    let receiver: PythonPeer
    let receiverLog: URL

    init() throws {
        receiverLog = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString).jsonl")
        receiver = try PythonPeer("webhook_receiver.py", arguments: [receiverLog.path, "unused-signing-secret"])
    }

    var url: String { "http://127.0.0.1:\(receiver.port)" + Self.secretPath }

    func receivedPaths() -> [String] {
        ((try? String(contentsOf: receiverLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["path"] as? String
        }
    }

    static func configure(_ configuration: inout Configuration) {
        configuration.allowHTTPDestinations = true
        configuration.allowedDestinations = ["127.0.0.1/32"]
    }

    /// The columns anywhere in the database that hold the webhook URL's secret part.
    func leaks(_ database: TestDatabase) throws -> Set<StoredColumn> {
        try StoredValueScan.columns(matching: StoredValueScan.literal("XXXXsecretXXXX"), in: try database.connect())
    }

    @Test func aSavedURLIsSealedAndShownAsSchemeAndHostOnly() throws {
        let app = try TestApp(configure: Self.configure)
        let people = try People(app)
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app,
            totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let saved = try admin.post(
            "/t/acme/notifications/channels", [("kind", "slack"), ("name", "Ops"), ("target", url), ("event", "*")],
            from: "/t/acme/notifications")
        #expect(saved.status == 201)
        let page = String(decoding: saved.body, as: UTF8.self)
        #expect(!page.contains("XXXXsecretXXXX") && page.contains("http://127.0.0.1"))

        let channel = try app.database.connect().query("SELECT id, target FROM notification_channels")[0]
        #expect(try channel.require(1, as: String.self) == "http://127.0.0.1")
        let id = try channel.require(0, as: UUID.self)
        #expect(try admin.post("/t/acme/notifications/channels/\(id.postgresText)/test", [], from: "/t/acme/notifications").status == 200)
        let worker = try app.startWorker()
        defer { worker.stop() }
        #expect(waitUntil { receivedPaths().contains(Self.secretPath) }, "the whole URL, opened from its seal, is where it goes")
        let delivered = try waitUntil {
            try app.database.connect().query("SELECT state FROM notification_deliveries")[0].require(0, as: String.self) == "delivered"
        }
        #expect(delivered)
        #expect(
            try app.database.connect().query("SELECT destination FROM notification_deliveries")[0]
                .require(0, as: String.self) == "http://127.0.0.1")
        #expect(!String(decoding: try admin.get("/t/acme/notifications").body, as: UTF8.self).contains("XXXXsecretXXXX"))
        // Not in the channel, the log, the audit trail or anywhere else.
        let leaked = try leaks(app.database)
        #expect(leaked.isEmpty, "\(leaked)")
        // And the database refuses a URL channel stored in the clear.
        #expect(throws: PostgresError.self) {
            try app.database.connect().query(
                """
                INSERT INTO notification_channels (id, tenant_id, kind, name, target, events) VALUES ($1, $2, 'slack', 'Raw', $3, '{*}')
                """, [UUID.v7(), people.tenant, url])
        }
    }

    /// A database as 0013 left it, with a Slack channel and two deliveries (one sent, one pending
    /// with its job) holding the URL, then migrated to the end.
    func legacyDatabase() throws -> (database: TestDatabase, tenant: UUID, channel: UUID) {
        let database = try TestDatabase(migrated: false)
        let files = try MigrationFile.load(from: TestEnvironment.root.appendingPathComponent("migrations"))
        let owner = try database.connect()
        try Migrator(files: files.filter { $0.version < 14 }).migrate(owner)
        let tenant = UUID.v7(), channel = UUID.v7()
        try owner.query(
            """
            INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme Bank', (SELECT min(id) FROM plans))
            """, [tenant])
        try owner.query(
            """
            INSERT INTO notification_channels (id, tenant_id, kind, name, target, events) VALUES ($1, $2, 'slack', 'Ops', $3, '{*}')
            """, [channel, tenant, url])
        let message = try JSONText(encoding: NotificationMessage(event: "request.created", subject: "s", text: "t")).text
        for state in ["delivered", "pending"] {
            let delivery = UUID.v7()
            try owner.query(
                """
                INSERT INTO notification_deliveries (id, tenant_id, channel_id, kind, destination, event, subject, message, state)
                VALUES ($1, $2, $3, 'slack', $4, 'request.created', 's', $5::jsonb, $6)
                """, [delivery, tenant, channel, url, message, state])
            if state == "pending" {
                try owner.query(
                    """
                    INSERT INTO jobs (kind, payload, tenant_id, unique_key, max_attempts)
                    VALUES ('notify.deliver', jsonb_build_object('delivery', $1::text), $2, 'delivery:' || $1::text, 8)
                    """, [delivery, tenant])
            }
        }
        try owner.query(
            """
            INSERT INTO notification_deliveries (id, tenant_id, kind, destination, event, subject, message, state)
            VALUES ($1, $2, 'email', 'ana@acme.test', 'request.created', 's', $3::jsonb, 'delivered')
            """, [UUID.v7(), tenant, message])
        try Migrator(files: files).migrate(owner)
        return (database, tenant, channel)
    }

    @Test func theMigrationRedactsTheLogAndTheWorkerSealsOlderChannels() throws {
        let (database, tenant, channel) = try legacyDatabase()
        let owner = try database.connect()
        let destinations = try owner.query("SELECT kind, destination FROM notification_deliveries ORDER BY kind")
            .map { "\(try $0.require(0, as: String.self)) \(try $0.require(1, as: String.self))" }
        #expect(destinations == ["email ana@acme.test", "slack http://127.0.0.1", "slack http://127.0.0.1"])
        #expect(
            try owner.query("SELECT count(*) FROM jobs WHERE kind = 'notify.seal_targets' AND state = 'queued'")[0]
                .require(0, as: Int.self) == 1)

        let app = try TestApp(database: database, configure: Self.configure)
        let worker = try app.startWorker()
        defer { worker.stop() }
        let sealed = try waitUntil {
            try owner.query("SELECT sealed_target IS NOT NULL FROM notification_channels WHERE id = $1", [channel])[0].require(
                0, as: Bool.self)
        }
        #expect(sealed)
        #expect(try owner.query("SELECT target FROM notification_channels")[0].require(0, as: String.self) == "http://127.0.0.1")
        #expect(waitUntil { receivedPaths().contains(Self.secretPath) }, "the pending delivery still reaches the whole URL")
        let leaked = try leaks(database)
        #expect(leaked.isEmpty, "\(leaked)")
        #expect(
            try owner.query(
                """
                SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'notification_channel.seal_target' AND actor_kind = 'system'
                """, [tenant])[0].require(0, as: Int.self) == 1)
    }

    @Test func keyRotationSealsWhatTheWorkerHasNotYet() throws {
        let (database, _, channel) = try legacyDatabase()
        let owner = try database.connect()
        let changed = try owner.transaction { tx in try MasterKeyRotation.reseal(keyring: TestEnvironment.keyring, at: Date(), in: tx) }
        #expect(changed == 1)
        let row = try owner.query("SELECT target, sealed_target FROM notification_channels WHERE id = $1", [channel])[0]
        #expect(try row.require(0, as: String.self) == "http://127.0.0.1")
        let opened = try SealedColumn.channelTarget.open(
            try row.require(1, as: String.self), row: channel, keyring: TestEnvironment.keyring)
        #expect(String(decoding: opened, as: UTF8.self) == url)
        let leaked = try leaks(database)
        #expect(leaked.isEmpty, "\(leaked)")
    }
}
