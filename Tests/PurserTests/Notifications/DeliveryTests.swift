import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Notifications delivered by the worker to real peers on loopback: an SMTP server (aiosmtpd),
/// a webhook receiver that checks signatures with Python's hmac, a PagerDuty-shaped receiver;
/// refused destinations, and a breaker that opens and closes. Purser's clock stands at the time
/// the test began and moves only when a test moves it (past a breaker's cool-down).
@Suite(.serialized) struct DeliveryTests {
    let clock = SettableClock(Date())
    let app: TestApp
    let people: People
    let mail: MailSink
    let receiver: PythonPeer
    let receiverLog: URL
    static let secret = "whsec-test-0123456789abcdef"

    init() throws {
        receiverLog = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString).jsonl")
        mail = try MailSink()
        receiver = try PythonPeer("webhook_receiver.py", arguments: [receiverLog.path, Self.secret])
        app = try TestApp(world: World(clock: clock, mail: SMTPSender(server: mail.server))) { configuration in
            configuration.mailFrom = "purser@bank.test"
            configuration.publicURL = URL(string: "https://purser.bank.test")
            configuration.allowHTTPDestinations = true
            configuration.allowedDestinations = ["127.0.0.1/32"]
            configuration.breakerCoolDownSeconds = 60
        }
        people = try People(app, staff: true)
    }

    func worker() throws -> JobWorker { try app.startWorker() }

    var channels: NotificationChannels { channels(in: app.app.world) }

    func channels(in world: World) -> NotificationChannels {
        NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"]), world: world)
    }

    /// The tenant admin, adding channels as they would on the notifications page.
    var tenantAdmin: AuditActor { .person(people.id("tenant_admin@acme.test"), isStaff: false, origin: nil) }

    func deliveries() throws -> [(state: String, attempts: Int, error: String?, destination: String)] {
        try app.database.connect().query(
            """
            SELECT state, attempts, last_error, destination FROM notification_deliveries ORDER BY created_at, id
            """
        ).map { (try $0.require(0), try $0.require(1), try $0.decode(2), try $0.require(3)) }
    }

    func breaker(_ channel: UUID) throws -> String? {
        try app.database.connect().query("SELECT state FROM notification_breakers WHERE channel_id = $1", [channel]).first?
            .require(0, as: String.self)
    }

    func attempts(_ outcome: String) throws -> Int {
        try app.database.connect().query("SELECT count(*) FROM notification_attempts WHERE outcome = $1", [outcome])[0]
            .require(0, as: Int.self)
    }

    /// Points a URL channel somewhere else, as a recovered endpoint.
    func point(_ channel: UUID, to url: String) throws {
        let sealed = try SealedColumn.channelTarget.seal(Array(url.utf8), row: channel, keyring: TestEnvironment.keyring)
        try app.database.connect().query("UPDATE notification_channels SET sealed_target = $2 WHERE id = $1", [channel, sealed])
    }

    /// Moves the clock a second at a time until `condition` holds, looking for half a second after
    /// each step: a step makes every retry waiting on its backoff due (once), never a cool-down.
    func retriesUntil(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<10 {
            if try waitUntil(0.5, condition) { return true }
            clock.advance(by: 1)
        }
        return try condition()
    }

    func received() -> [[String: Any]] {
        ((try? String(contentsOf: receiverLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func anEmailArrivesWithItsHeadersAndBothParts() throws {
        let viewer = people.id("viewer@acme.test")
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant,
                message: NotificationMessage(
                    event: "request.created", subject: "Neue Anfrage: Modell läuft nicht", text: "ACME-42 was filed.",
                    url: "https://purser.bank.test/t/acme/requests/42"), people: [viewer], at: clock.now)
            try Outbox.email(
                tx, tenant: people.tenant, to: "nobody@refuse.test",
                message: NotificationMessage(event: "membership.invited", subject: "Invitation", text: "Join us"),
                at: clock.now)
        }
        let worker = try worker()
        defer { worker.stop() }
        let arrived = waitUntil { mail.names().contains("001.eml") }
        #expect(arrived)
        let message = try mail.parsed("001.eml")
        #expect(message["subject"] == "Neue Anfrage: Modell läuft nicht")
        #expect(message["from"] == "purser@bank.test" && message["to"] == "viewer@acme.test")
        #expect(message["id"]?.hasSuffix("@bank.test>") == true)
        #expect(message["date"]?.hasSuffix("+0000") == true)
        #expect(message["date"] == MailComposer.rfc5322Date(clock.now), "the Date header is Purser's clock")
        #expect(message["unsubscribe"] == "<https://purser.bank.test/account#notifications>")
        #expect(message["type"] == "multipart/alternative")
        #expect(
            message["text"]?.contains("ACME-42 was filed.") == true
                && message["text"]?.contains("https://purser.bank.test/t/acme/requests/42") == true)
        #expect(message["html"]?.contains("<a href=\"https://purser.bank.test/t/acme/requests/42\"") == true)
        // The refused recipient ends dead with the server's reason, at once.
        let settled = try waitUntil { try deliveries().allSatisfy { $0.state != "pending" } }
        #expect(settled)
        // Made at one moment of the clock, the two are told apart by where they went.
        let states = try deliveries()
        let sent = try #require(states.first { $0.destination == "viewer@acme.test" })
        let refused = try #require(states.first { $0.destination == "nobody@refuse.test" })
        #expect(sent.state == "delivered")
        #expect(refused.state == "dead" && refused.attempts == 1 && refused.error?.contains("550") == true, "\(states)")
    }

    @Test func webhooksAreSignedAndPagerDutyGetsItsDedupKey() throws {
        let base = "http://127.0.0.1:\(receiver.port)"
        _ = try channels.create(
            NewChannel(
                kind: "webhook", name: "SIEM", target: base + "/hook", secret: Self.secret,
                events: ["request.created"]), tenant: people.tenant, by: tenantAdmin)
        _ = try channels.create(
            NewChannel(
                kind: "pagerduty", name: "On call", target: base + "/v2/enqueue",
                secret: "R0UTINGKEY0123456789abcdef", events: ["*"]), tenant: people.tenant, by: tenantAdmin)
        _ = try channels.create(
            NewChannel(kind: "slack", name: "Slack", target: base + "/slack", events: ["sla.breached"]),
            tenant: people.tenant, by: tenantAdmin)
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant,
                message: NotificationMessage(
                    event: "request.created", subject: "ACME-7 filed", text: "A request", severity: .warning, dedupKey: "ACME-7"),
                at: clock.now)
        }
        let worker = try worker()
        defer { worker.stop() }
        #expect(waitUntil { received().count >= 2 })
        let hook = try #require(received().first { ($0["path"] as? String) == "/hook" })
        #expect(hook["signature_valid"] as? Bool == true)
        #expect((hook["headers"] as? [String: String])?["purser-event"] == "request.created")
        let pager = try #require(received().first { ($0["path"] as? String) == "/v2/enqueue" })
        let event = try #require(try JSONSerialization.jsonObject(with: Data((pager["body"] as! String).utf8)) as? [String: Any])
        #expect(event["dedup_key"] as? String == "ACME-7")
        #expect(event["event_action"] as? String == "trigger")
        #expect(event["routing_key"] as? String == "R0UTINGKEY0123456789abcdef")
        #expect((event["payload"] as? [String: Any])?["severity"] as? String == "warning")
        #expect(!received().contains { ($0["path"] as? String) == "/slack" }, "the Slack channel did not subscribe to this event")
        // The routing key and signing secret are sealed in the database.
        let secrets = try app.database.connect().query("SELECT secret FROM notification_channels WHERE secret IS NOT NULL")
            .map { try $0.require(0, as: String.self) }
        #expect(secrets.count == 2 && !secrets.contains { $0.contains("R0UTINGKEY") || $0.contains("whsec") })
    }

    @Test func privateAddressesAreRefused() throws {
        let policy = DestinationPolicy(allowHTTP: true), resolver = app.app.world.resolver
        for url in [
            "http://127.0.0.1/x", "https://10.0.0.5/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x",
            "http://localhost/x", "https://[fd00:ec2::254]/", "http://0.0.0.0/", "https://192.168.1.1/",
        ] {
            #expect(throws: RefusedDestination.self, "\(url)") { try Destinations.check(url, policy: policy, resolver: resolver) }
        }
        #expect(throws: RefusedDestination.self) {
            try Destinations.check("http://93.184.215.14/", policy: DestinationPolicy(), resolver: resolver)
        }
        #expect(throws: RefusedDestination.self) {
            try Destinations.check("https://user:pw@93.184.215.14/", policy: policy, resolver: resolver)
        }
        let pinned = try Destinations.check("https://93.184.215.14:8443/hook", policy: DestinationPolicy(), resolver: resolver)
        #expect(pinned.pin == "93.184.215.14:8443:93.184.215.14")
        // Saving such a channel is a form message, not a channel.
        #expect(throws: ValidationError.self) {
            try NotificationChannels(
                database: app.app.database, keyring: TestEnvironment.keyring, policy: DestinationPolicy(),
                world: app.app.world
            )
            .create(
                NewChannel(kind: "slack", name: "x", target: "https://169.254.169.254/", events: ["*"]),
                tenant: people.tenant, by: tenantAdmin)
        }
    }

    /// The cool-down runs on Purser's clock, which the test moves past it.
    @Test func aFailingDestinationOpensItsBreakerWhichLaterCloses() throws {
        let base = "http://127.0.0.1:\(receiver.port)"
        let channel = try channels.create(
            NewChannel(kind: "slack", name: "Flaky", target: base + "/fail", events: ["*"]),
            tenant: people.tenant, by: tenantAdmin)
        try app.app.database.inTenant(people.tenant) { tx in
            for n in 0..<3 {
                try Outbox.notify(
                    tx, tenant: people.tenant,
                    message: NotificationMessage(event: "sla.breached", subject: "n\(n)", text: "x"), at: clock.now)
            }
        }
        let worker = try worker()
        defer { worker.stop() }
        let opened = try retriesUntil { try breaker(channel) == "open" }
        #expect(opened)
        let refusedWhileOpen = try retriesUntil { try attempts("breaker_open") > 0 }
        #expect(refusedWhileOpen, "deliveries wait without trying while the breaker is open")
        #expect(try attempts("failed") >= 5)
        // The endpoint recovers; after the cool-down a trial succeeds and closes the breaker.
        try point(channel, to: base + "/ok")
        #expect(try breaker(channel) == "open", "the cool-down has not passed yet")
        clock.advance(by: 61)
        let closed = try retriesUntil { try breaker(channel) == "closed" }
        #expect(closed)
        let allDelivered = try retriesUntil { try deliveries().allSatisfy { $0.state == "delivered" } }
        let final = try deliveries()
        #expect(allDelivered, "\(final)")
    }

    /// The live-clock check of the breaker: a one-second cool-down passes in real time.
    @Test func aBreakerCoolsDownOnTheLiveClock() throws {
        let live = World(clock: LiveClock())
        let base = "http://127.0.0.1:\(receiver.port)"
        let channel = try channels(in: live).create(
            NewChannel(kind: "slack", name: "Flaky", target: base + "/fail", events: ["*"]),
            tenant: people.tenant, by: tenantAdmin)
        // Five at once: their first attempts open the breaker.
        try app.app.database.inTenant(people.tenant) { tx in
            for n in 0..<5 {
                try Outbox.notify(
                    tx, tenant: people.tenant,
                    message: NotificationMessage(event: "sla.breached", subject: "n\(n)", text: "x"), at: live.now)
            }
        }
        let worker = try app.startWorker(world: live) { $0.breakerCoolDownSeconds = 1 }
        defer { worker.stop() }
        #expect(try waitUntil(5) { try breaker(channel) == "open" })
        try point(channel, to: base + "/ok")
        #expect(try waitUntil(5) { try breaker(channel) == "closed" })
        #expect(try attempts("breaker_open") > 0)
    }

    @Test func mailWithoutAMailServerIsGivenUpOnceAndSaysWhy() throws {
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.email(
                tx, tenant: people.tenant, to: "ana@acme.test",
                message: NotificationMessage(event: "membership.invited", subject: "Invitation", text: "Join us"),
                at: clock.now)
        }
        let worker = try app.startWorker(world: World(clock: clock))
        defer { worker.stop() }
        let settled = try waitUntil { try deliveries().allSatisfy { $0.state != "pending" } }
        #expect(settled)
        let states = try deliveries()
        #expect(states.count == 1 && states[0].state == "dead" && states[0].attempts == 1, "\(states)")
        #expect(states[0].error?.contains("no mail server configured") == true, "\(states)")
        #expect(try attempts("refused") == 1)
        #expect(mail.names().isEmpty)
    }

    @Test func invitationsAreEmailedAndPeopleChooseTheirEmails() throws {
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app,
            totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        #expect(
            try admin.post(
                "/t/acme/members", [("email", "newcomer@acme.test"), ("name", "Nia"), ("role", "viewer")],
                from: "/t/acme/members"
            ).status == 201)
        // The viewer turns request.created off.
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.post("/account/notifications", [("tenant", "acme"), ("event", "sla.breached")], from: "/account").status == 303)
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant, message: NotificationMessage(event: "request.created", subject: "s", text: "t"),
                people: [people.id("viewer@acme.test"), people.id("requester@acme.test")], at: clock.now)
        }
        let worker = try worker()
        defer { worker.stop() }
        let arrived = waitUntil { mail.names().count >= 2 }
        #expect(arrived)
        let names = mail.names()
        let mails = try names.map { try mail.raw($0) }
        #expect(mails.contains { $0.contains("X-Envelope-To: newcomer@acme.test") })
        #expect(mails.contains { $0.contains("X-Envelope-To: requester@acme.test") })
        #expect(!mails.contains { $0.contains("X-Envelope-To: viewer@acme.test") }, "the viewer turned this event off")
        let invitation = try mail.parsed(
            try #require(
                names.first { name in
                    (try? mail.raw(name))?.contains("X-Envelope-To: newcomer@") == true
                }))
        #expect(invitation["subject"] == "You are invited to Acme Bank on Purser")
        #expect(invitation["text"]?.contains("https://purser.bank.test/links/") == true)
        #expect(invitation["unsubscribe"] == nil, "an invitation is not mail one can unsubscribe from")
    }

    @Test func badEndpointsEndInRecordedFailures() throws {
        let base = "http://127.0.0.1:\(receiver.port)"
        for path in ["/redirect", "/big"] {
            _ = try channels.create(
                NewChannel(kind: "teams", name: path, target: base + path, events: ["*"]),
                tenant: people.tenant, by: tenantAdmin)
        }
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant, message: NotificationMessage(event: "test", subject: "s", text: "t"),
                at: clock.now)
        }
        let worker = try worker()
        defer { worker.stop() }
        let logged = try waitUntil {
            try app.database.connect().query("SELECT count(DISTINCT delivery_id) FROM notification_attempts WHERE outcome = 'failed'")[0]
                .require(0, as: Int.self) == 2
        }
        #expect(logged)
        let errors = try app.database.connect().query("SELECT error FROM notification_attempts WHERE outcome = 'failed'")
            .map { try $0.require(0, as: String.self) }
        #expect(errors.contains { $0.contains("answered 302") }, "a redirect is not followed: \(errors)")
        #expect(errors.contains { $0.contains("over 65536 bytes") }, "a huge answer is cut off: \(errors)")
        // The API shows the log to a tenant admin's token with notifications:read.
        let token = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "n",
            scopes: [.notificationsRead], lifetime: 3600, actor: .system
        ).token
        let response = try app.get("/api/v1/notifications/deliveries?limit=1", headers: [("Authorization", "Bearer \(token)")])
        #expect(response.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect((body["items"] as? [[String: Any]])?.count == 1)
        let next = try #require(body["next"] as? String)
        let second = try app.get("/api/v1/notifications/deliveries?limit=1&before=\(next)", headers: [("Authorization", "Bearer \(token)")])
        #expect(((try JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any])?["items"] as? [[String: Any]])?.count == 1)
        #expect(
            try app.get(
                "/api/v1/notifications/deliveries",
                headers: [
                    (
                        "Authorization",
                        "Bearer \(try app.app.tokens.create(user: people.id("viewer@acme.test"), tenant: people.tenant, name: "x", scopes: [.requestsRead], lifetime: 3600, actor: .system).token)"
                    )
                ]
            ).status == 403)
    }

    @Test func channelsAreManagedOnTheTenantsPage() throws {
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app,
            totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let refused = try admin.post(
            "/t/acme/notifications/channels",
            [
                ("kind", "webhook"), ("name", "Meta"),
                ("target", "http://169.254.169.254/latest"), ("secret", "0123456789abcdef0"), ("event", "*"),
            ], from: "/t/acme/notifications")
        #expect(refused.status == 422)
        #expect(refused.text.contains("not a public address"))
        let added = try admin.post(
            "/t/acme/notifications/channels",
            [
                ("kind", "webhook"), ("name", "SIEM"),
                ("target", "http://127.0.0.1:\(receiver.port)/hook"), ("secret", Self.secret), ("event", "test"),
            ], from: "/t/acme/notifications")
        #expect(added.status == 201)
        let id = try #require(WebVisitor.firstMatch(#"/notifications/channels/([0-9a-f-]{36})/test"#, in: added.text))
        #expect(try admin.post("/t/acme/notifications/channels/\(id)/test", [], from: "/t/acme/notifications").status == 200)
        let worker = try worker()
        defer { worker.stop() }
        #expect(waitUntil { received().contains { ($0["path"] as? String) == "/hook" && $0["signature_valid"] as? Bool == true } })
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/t/acme/notifications").status == 403)
    }

    @Test func aRequestsRequesterHearsOfRepliesButNotOfNotes() throws {
        let requester = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "r",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        let cse = try app.app.tokens.create(
            user: people.id("cse@staff.test"), tenant: nil, name: "c",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        func post(_ path: String, _ token: String, _ body: String) throws -> Int {
            try app.send(
                "POST", path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(body.utf8)
            ).status
        }
        #expect(try post("/api/v1/requests", requester, #"{"subject": "Quota raise", "type": "change", "priority": "P3"}"#) == 201)
        #expect(
            try post("/api/v1/requests/ACME-1/comments?tenant=acme", cse, #"{"body": "Secret: the old pool", "internal": true}"#) == 201)
        #expect(try post("/api/v1/requests/ACME-1/comments?tenant=acme", cse, #"{"body": "Done, please check"}"#) == 201)
        let worker = try worker()
        defer { worker.stop() }
        let arrived = waitUntil { mail.names().count >= 1 }
        #expect(arrived)
        let settled = try waitUntil { try deliveries().allSatisfy { $0.state != "pending" } }
        #expect(settled)
        let names = mail.names()
        #expect(names.count == 1, "one reply, one email; the note sent nothing")
        let message = try mail.parsed(try #require(names.first))
        #expect(message["to"] == "requester@acme.test")
        #expect(message["subject"] == "ACME-1: cse replied")
        #expect(message["text"]?.contains("Done, please check") == true)
        #expect(message["text"]?.contains("https://purser.bank.test/t/acme/requests/ACME-1") == true)
        #expect(message["text"]?.contains("old pool") == false && message["html"]?.contains("old pool") == false)
    }
}
