import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Every sealed value Purser stores sits in a column of `SealedColumn.all`, so key rotation
/// re-seals all of them: after rotating, the old key can go and signed webhooks, PagerDuty
/// deliveries, second factors and idempotent replays still work.
@Suite(.serialized) struct SealedColumnTests {
    static let signingSecret = "whsec-rotation-0123456789"
    static let routingKey = "R0UTINGKEY-rotation-0123456789"
    let app: TestApp
    let people: People
    let receiver: PythonPeer
    let receiverLog: URL

    init() throws {
        receiverLog = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString).jsonl")
        receiver = try PythonPeer("webhook_receiver.py", arguments: [receiverLog.path, Self.signingSecret])
        app = try TestApp(configure: Self.destinations)
        people = try People(app, staff: true)
    }

    static func destinations(_ configuration: inout Configuration) {
        configuration.allowHTTPDestinations = true
        configuration.allowedDestinations = ["127.0.0.1/32"]
    }

    func received() -> [[String: Any]] {
        ((try? String(contentsOf: receiverLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Channels of every kind, each URL on the local receiver.
    func makeChannels(keyring: Keyring) throws {
        let channels = NotificationChannels(
            database: app.app.database, keyring: keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"]), world: app.app.world)
        let admin = people.id("tenant_admin@acme.test"), base = "http://127.0.0.1:\(receiver.port)"
        for channel in [
            NewChannel(kind: "webhook", name: "SIEM", target: base + "/hook", secret: Self.signingSecret, events: ["request.created"]),
            NewChannel(
                kind: "pagerduty", name: "On call", target: base + "/v2/enqueue", secret: Self.routingKey, events: ["request.created"]),
            NewChannel(kind: "slack", name: "Ops", target: base + "/services/T1/B2/slacksecret", events: ["request.created"]),
            NewChannel(kind: "email", name: "Desk", target: "desk@acme.test", events: ["request.created"]),
        ] {
            _ = try channels.create(channel, tenant: people.tenant, by: .person(admin, isStaff: false, origin: nil))
        }
    }

    func notify() throws {
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant,
                message: NotificationMessage(
                    event: "request.created", subject: "ACME-9 filed", text: "A request", dedupKey: "ACME-9"), at: app.app.world.now)
        }
    }

    func token(_ email: String, scopes: [Scope]) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: people.tenant, name: "t", scopes: scopes, lifetime: 3600,
            actor: .system
        ).token
    }

    func post(_ server: TestApp, _ path: String, bearer: String, key: String, body: String) throws -> ClientResponse {
        try server.send(
            "POST", path,
            headers: [
                ("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ], body: Array(body.utf8))
    }

    @Test func everySealedValueIsInARegisteredColumnAndOpensThroughIt() throws {
        _ = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        try makeChannels(keyring: TestEnvironment.keyring)
        // A SageMaker target's keys, sealed when the target is made.
        _ = try DeploymentTargets(database: app.app.database, keyring: TestEnvironment.keyring, clock: app.app.world.clock).create(
            NewTarget(
                name: "aws", kind: "sagemaker", region: "eu-west-1",
                credentials: ProviderCredentials(
                    accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
            tenant: people.tenant, by: people.id("tenant_admin@acme.test"), actor: .system)
        try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: app.app.world.now)
        }
        // A provider webhook channel's signing secret, sealed when the channel is added.
        _ = try app.app.database.asStaff { tx in
            try ProviderChannels.create(
                kind: .webhook, name: "On call", target: "http://127.0.0.1:\(receiver.port)/provider", events: ["host.down"],
                keyring: TestEnvironment.keyring, actor: .system, at: app.app.world.now, in: tx)
        }
        // A probe's bearer token, sealed when the probe target is added.
        var probe = ProbeTargetInput()
        (probe.name, probe.url, probe.credentials) = ("chat", "http://127.0.0.1:\(receiver.port)/health", "sk-probe-0123456789")
        _ = try ProbeTargets(
            database: app.app.database, world: app.app.world, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
        ).create(probe, tenant: people.tenant, actor: .system)
        try notify()
        let worker = try app.startWorker()
        defer { worker.stop() }
        #expect(waitUntil { received().count >= 3 })
        let requester = try token("requester@acme.test", scopes: [.requestsRead, .requestsWrite])
        #expect(
            try post(
                app, "/api/v1/requests", bearer: requester, key: "file-1",
                body: #"{"subject": "Quota", "type": "question", "priority": "P4"}"#
            ).status == 201)

        let owner = try app.database.connect()
        let found = try StoredValueScan.columns(
            matching: StoredValueScan.sealedPattern(keyID: TestEnvironment.keyring.keys[0].id),
            in: owner)
        let registered = Set(SealedColumn.all.map { StoredColumn(table: $0.table, column: $0.column) })
        #expect(found.subtracting(registered).isEmpty, "sealed values outside SealedColumn.all: \(found.subtracting(registered))")
        #expect(found == registered, "every registered column was exercised: \(found)")

        // Each stored value opens through its column, with the context its writer used.
        for column in SealedColumn.all {
            let value = column.storage == .bytea ? "convert_from(\(column.column), 'UTF8')" : column.column
            let rows = try owner.query(
                """
                SELECT \(value), \(column.rowColumns.map { "\($0)::text" }.joined(separator: ", "))
                FROM \(column.table) WHERE \(column.column) IS NOT NULL
                """)
            #expect(!rows.isEmpty, "\(column.table).\(column.column)")
            for row in rows {
                let identity = try (0..<column.rowColumns.count).map { try row.require(1 + $0, as: String.self) }
                #expect(throws: Never.self, "\(column.table).\(column.column)") {
                    try column.open(try row.require(0, as: String.self), row: identity, keyring: TestEnvironment.keyring)
                }
            }
        }
    }

    @Test func afterRotationTheOldKeyCanGo() throws {
        // Under the old key: a second factor, channels with secrets and sealed URLs, a kept answer.
        let totp = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        try makeChannels(keyring: TestEnvironment.keyring)
        let requester = try token("requester@acme.test", scopes: [.requestsRead, .requestsWrite])
        let body = #"{"subject": "Quota", "type": "question", "priority": "P4"}"#
        let first = try post(app, "/api/v1/requests", bearer: requester, key: "file-1", body: body)
        #expect(first.status == 201)

        let newKey = Keyring.generateText(id: "k2")
        let changed = try app.database.connect().transaction { tx in
            try MasterKeyRotation.reseal(
                keyring: try Keyring(parsing: newKey + "," + TestEnvironment.masterKeyText),
                at: app.app.world.now, in: tx)
        }
        #expect(changed == 7, "a second factor, two channel secrets, three sealed URLs and a kept answer; counted \(changed)")
        #expect(
            try StoredValueScan.columns(
                matching: StoredValueScan.sealedPattern(keyID: TestEnvironment.keyring.keys[0].id),
                in: try app.database.connect()
            ).isEmpty, "nothing is left under the old key")

        // The same database, served and worked with the new key alone.
        let rotated = try TestApp(database: app.database) { configuration in
            Self.destinations(&configuration)
            configuration.masterKey = try! Keyring(parsing: newKey)
        }
        let replay = try post(rotated, "/api/v1/requests", bearer: requester, key: "file-1", body: body)
        #expect(replay.status == 201 && replay.header("Idempotent-Replayed") == "true")
        #expect(replay.body == first.body)
        #expect(try people.signedIn("tenant_admin@acme.test", in: rotated, totp: totp).get("/account").status == 200)

        try notify()
        let worker = try rotated.startWorker()
        defer { worker.stop() }
        #expect(waitUntil { received().count >= 3 })
        let hook = try #require(received().first { ($0["path"] as? String) == "/hook" })
        #expect(hook["signature_valid"] as? Bool == true)
        let pager = try #require(received().first { ($0["path"] as? String) == "/v2/enqueue" })
        let event = try #require(try JSONSerialization.jsonObject(with: Data((pager["body"] as! String).utf8)) as? [String: Any])
        #expect(event["routing_key"] as? String == Self.routingKey)
        #expect(received().contains { ($0["path"] as? String) == "/services/T1/B2/slacksecret" })
    }

    @Test func theSecondFactorsColumnUsesTheContextSecondFactorUses() {
        let user = UUID.v7()
        // Secrets stored before the registry were sealed under this context; it must not change.
        #expect(SealedColumn.secondFactor.context([user.postgresText]) == "totp:" + user.postgresText)
    }
}
