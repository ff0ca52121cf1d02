// The `notify.deliver` job: sends one delivery to its channel (email through the World's mail
// sender, Slack, Teams, PagerDuty Events v2, or a webhook signed with HMAC-SHA256, all through the
// World's outbound HTTP), logs the attempt, and leaves the retry to the queue's backoff. The
// channel's breaker keeps a dead endpoint from being hammered. A URL channel's destination is
// opened from its sealed target only here, to send; mail for a person is sent only while that
// person still belongs to the tenant. Where no mail is configured, mail is given up at once.
import Crypto
import Foundation
import HTTPClient
import enum HTTPServer.JSONValue
import Logging
import Postgres

public struct NotificationSettings: Sendable {
    public var composer: MailComposer
    public var destinations: DestinationPolicy
    public var breaker: Breaker
    public var keyring: Keyring
    public var pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
    /// Where a delivery that cannot be made at all (no mail configured) is told of.
    public var logger: Logger

    public init(
        composer: MailComposer, destinations: DestinationPolicy, breaker: Breaker, keyring: Keyring,
        logger: Logger = Logger(label: "purser.notifications")
    ) {
        self.composer = composer
        self.destinations = destinations
        self.breaker = breaker
        self.keyring = keyring
        self.logger = logger
    }
}

/// Why an attempt failed, and whether trying again can help.
struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    let status: Int?
    let permanent: Bool
}

public enum Delivery {
    public static func register(into handlers: inout JobHandlers, settings: NotificationSettings) {
        handlers.register(Outbox.deliverKind) { context in try deliver(context, settings) }
        ChannelTargets.register(into: &handlers, keyring: settings.keyring)
        // The provider's own channels (Hosts/ProviderChannels.swift) send with the same settings.
        ProviderDelivery.register(into: &handlers, settings: settings)
    }

    struct Loaded {
        let id: UUID
        let tenant: UUID
        let channel: UUID?
        let kind: String
        /// Where it goes, whole (a URL opened from its channel's sealed target): never logged or shown.
        let destination: String
        let secret: String?
        let message: NotificationMessage
        let attempts: Int
        /// The person mail is for, if it is for a person.
        let recipient: UUID?
    }

    static func deliver(_ context: JobContext, _ settings: NotificationSettings) throws {
        struct Payload: Decodable { let delivery: UUID }
        let id = try context.job.decode(Payload.self).delivery
        let database = context.database, world = context.world
        guard let delivery = try load(id, database: database, keyring: settings.keyring) else { return }
        let attempt = delivery.attempts + 1
        if let recipient = delivery.recipient, try !belongs(recipient, to: delivery.tenant, database: database) {
            // Composed while they belonged; they have left (or lost their account) since.
            try finish(
                delivery, attempt: attempt, outcome: "refused", status: nil,
                error: "not sent: the recipient no longer belongs to this tenant", milliseconds: 0, dead: true,
                world: world, database: database, settings: settings)
            return
        }
        if delivery.kind == "email" && world.mail == nil {
            // Nothing to try again with: given up at once, said once.
            try finish(
                delivery, attempt: attempt, outcome: "refused", status: nil, error: noMailServer, milliseconds: 0, dead: true,
                world: world, database: database, settings: settings)
            settings.logger.info(
                "mail not sent: no mail server configured (SMTP_URL)",
                metadata: [
                    "delivery": .string(delivery.id.postgresText), "event": .string(delivery.message.event),
                ])
            return
        }
        if let channel = delivery.channel {
            let admitted = try database.pool.transaction { tx in
                try settings.breaker.admits(channel, tenant: delivery.tenant, at: world.now, in: tx)
            }
            guard admitted else {
                try finish(
                    delivery, attempt: attempt, outcome: "breaker_open", status: nil, error: "the channel's breaker is open",
                    milliseconds: 0, dead: context.job.attempt >= context.job.maxAttempts, world: world, database: database,
                    settings: settings)
                throw DeliveryFailure(
                    description: "the channel's breaker is open; waiting for its cool-down", status: nil, permanent: false)
            }
        }
        // How long the attempt took is a duration, not a time of day.
        let started = ContinuousClock.now
        func milliseconds() -> Int { Int((ContinuousClock.now - started) / .milliseconds(1)) }
        do {
            let status = try send(delivery, world: world, settings: settings)
            try finish(
                delivery, attempt: attempt, outcome: "delivered", status: status, error: nil, milliseconds: milliseconds(),
                dead: false, world: world, database: database, settings: settings)
        } catch let failure as DeliveryFailure {
            let dead = failure.permanent || context.job.attempt >= context.job.maxAttempts
            // The job's last error and the worker's log see no more of the URL than the delivery log.
            let shown = shownError(failure.description, for: delivery)
            try finish(
                delivery, attempt: attempt, outcome: failure.permanent ? "refused" : "failed", status: failure.status,
                error: shown, milliseconds: milliseconds(), dead: dead, world: world, database: database, settings: settings)
            if failure.permanent { throw PermanentJobFailure(shown) }
            throw DeliveryFailure(description: shown, status: failure.status, permanent: false)
        }
    }

    /// What the delivery log says of mail when Purser has no mail server to send it through.
    static let noMailServer = "not sent: no mail server configured (SMTP_URL)"

    static func load(_ id: UUID, database: Database, keyring: Keyring) throws -> Loaded? {
        guard
            let row = try database.pool.query(
                """
                SELECT d.id, d.tenant_id, d.channel_id, d.kind, d.destination, c.secret, d.message::text, d.attempts, c.target,
                       c.sealed_target, d.recipient_id
                FROM notification_deliveries d LEFT JOIN notification_channels c ON c.tenant_id = d.tenant_id AND c.id = d.channel_id
                WHERE d.id = $1 AND d.state = 'pending'
                """, [id]
            ).first
        else { return nil }
        let kind = try row.require(3, as: String.self)
        var destination = try row.require(4, as: String.self)
        var secret: String?
        if let channel = try row.decode(2, as: UUID.self), let target = try row.decode(8, as: String.self) {
            destination = try ChannelTargets.destination(
                kind: kind, target: target, sealed: try row.decode(9), channel: channel,
                keyring: keyring)
            if let sealed = try row.decode(5, as: String.self) {
                secret = String(decoding: try SealedColumn.channelSecret.open(sealed, row: channel, keyring: keyring), as: UTF8.self)
            }
        } else if ChannelTargets.isURL(kind) {
            // The log keeps only scheme and host; the whole URL left with its channel.
            destination = ""
        }
        return Loaded(
            id: try row.require(0), tenant: try row.require(1), channel: try row.decode(2), kind: kind,
            destination: destination, secret: secret,
            message: try JSONText(try row.require(6, as: String.self)).decode(NotificationMessage.self),
            attempts: try row.require(7), recipient: try row.decode(10))
    }

    /// Whether `person` may still hear about `tenant`'s work (Outbox.belongs), read in a
    /// transaction of the tenant, whose memberships the worker sees only there.
    static func belongs(_ person: UUID, to tenant: UUID, database: Database) throws -> Bool {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT \(Outbox.belongs("u", tenant: "$2")) FROM users u WHERE u.id = $1", [person, tenant])
                .first?.require(0, as: Bool.self) ?? false
        }
    }

    /// An error as it may be kept and shown: one that quotes the URL it failed on shows no more of it
    /// than the delivery log does.
    static func shownError(_ error: String, for delivery: Loaded) -> String {
        guard ChannelTargets.isURL(delivery.kind), !delivery.destination.isEmpty else { return error }
        return error.replacingOccurrences(of: delivery.destination, with: DestinationRedaction.url(delivery.destination))
    }

    /// Logs the attempt and the delivery's new state, and tells the breaker, in one transaction,
    /// stamped with the World's time. `error` is already as it may be shown (`shownError`).
    static func finish(
        _ delivery: Loaded, attempt: Int, outcome: String, status: Int?, error: String?, milliseconds: Int,
        dead: Bool, world: World, database: Database, settings: NotificationSettings
    ) throws {
        let now = world.now
        try database.pool.transaction { tx in
            try tx.query(
                """
                INSERT INTO notification_attempts (delivery_id, tenant_id, attempt, outcome, status, error, milliseconds, at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
                """, [delivery.id, delivery.tenant, attempt, outcome, status, error.map { String($0.prefix(1000)) }, milliseconds, now])
            let state = outcome == "delivered" ? "delivered" : (dead ? "dead" : "pending")
            try tx.query(
                """
                UPDATE notification_deliveries SET state = $2, attempts = $3, last_error = $4, last_status = $5,
                       delivered_at = CASE WHEN $2 = 'delivered' THEN $6::timestamptz END
                WHERE tenant_id = $7 AND id = $1
                """, [delivery.id, state, attempt, error, status, now, delivery.tenant])
            if let channel = delivery.channel, outcome != "breaker_open" {
                try settings.breaker.record(success: outcome == "delivered", channel: channel, at: now, in: tx)
            }
        }
    }

    // MARK: Channels

    /// Sends and returns the status (HTTP status, or 250 for mail accepted).
    static func send(_ delivery: Loaded, world: World, settings: NotificationSettings) throws -> Int {
        let message = delivery.message
        if ChannelTargets.isURL(delivery.kind) && delivery.destination.isEmpty {
            throw DeliveryFailure(description: "the channel was removed", status: nil, permanent: true)
        }
        switch delivery.kind {
        case "email":
            guard let mail = world.mail else { throw DeliveryFailure(description: noMailServer, status: nil, permanent: true) }
            let recipients = delivery.destination.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            var sent = 0
            for recipient in recipients {
                let bytes = settings.composer.compose(
                    message, to: recipient, deliveryID: delivery.id, optional: message.chosen,
                    date: world.now)
                do {
                    try mail.send(bytes, from: settings.composer.from, to: [recipient])
                    sent += 1
                } catch let error as MailError {
                    // 5xx: the server refuses (an unknown recipient); trying again will not help.
                    throw DeliveryFailure(
                        description: error.description, status: error.replyCode,
                        permanent: (500...599).contains(error.replyCode))
                }
            }
            return sent > 0 ? 250 : 0
        case "slack":
            return try post(
                ["text": .string("*\(message.subject)*\n\(message.text)" + (message.url.map { "\n\($0)" } ?? ""))],
                to: delivery.destination, headers: [], world: world, settings: settings)
        case "teams":
            return try post(
                [
                    "@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": .string(message.subject),
                    "title": .string(message.subject), "text": .string(message.text + (message.url.map { "\n\n\($0)" } ?? "")),
                ], to: delivery.destination, headers: [], world: world, settings: settings)
        case "pagerduty":
            guard let routingKey = delivery.secret else {
                throw DeliveryFailure(description: "the channel has no routing key", status: nil, permanent: true)
            }
            var body: [(String, JSONValue)] = [
                ("routing_key", .string(routingKey)), ("event_action", .string(message.action.rawValue)),
                ("dedup_key", .string(message.dedupKey)),
            ]
            if message.action == .trigger {
                let severity = message.severity == .info ? "info" : message.severity.rawValue
                body.append(
                    (
                        "payload",
                        [
                            "summary": .string(String(message.subject.prefix(1024))), "source": "purser",
                            "severity": .string(severity),
                        ]
                    ))
                if let url = message.url { body.append(("links", [["href": .string(url), "text": "Open in Purser"]])) }
            }
            return try post(.object(body), to: delivery.destination, headers: [], world: world, settings: settings)
        case "webhook":
            guard let secret = delivery.secret else {
                throw DeliveryFailure(description: "the channel has no signing secret", status: nil, permanent: true)
            }
            let payload: JSONValue = [
                "id": .string(delivery.id.postgresText), "event": .string(message.event), "subject": .string(message.subject),
                "text": .string(message.text), "url": message.url.map { .string($0) } ?? .null,
                "tenant": .string(delivery.tenant.postgresText), "dedup_key": .string(message.dedupKey),
            ]
            let bytes = payload.serialized()
            return try post(
                bytes: bytes, to: delivery.destination,
                headers: [
                    ("Purser-Signature", WebhookSignature.header(secret: secret, body: bytes, at: world.now)),
                    ("Purser-Event", message.event), ("Purser-Delivery", delivery.id.postgresText),
                ], world: world, settings: settings)
        default:
            throw DeliveryFailure(description: "unknown channel kind \(delivery.kind)", status: nil, permanent: true)
        }
    }

    static func post(
        _ body: JSONValue, to url: String, headers: [(name: String, value: String)], world: World,
        settings: NotificationSettings
    ) throws -> Int {
        try post(bytes: body.serialized(), to: url, headers: headers, world: world, settings: settings)
    }

    /// Posts to a checked destination through the World's outbound HTTP, pinned to the address
    /// the check resolved (so a second lookup cannot send it elsewhere).
    static func post(
        bytes: [UInt8], to url: String, headers: [(name: String, value: String)], world: World,
        settings: NotificationSettings
    ) throws -> Int {
        let checked: CheckedDestination
        do {
            checked = try Destinations.check(url, policy: settings.destinations, resolver: world.resolver)
        } catch let refused as RefusedDestination {
            throw DeliveryFailure(description: "refused: \(refused.description)", status: nil, permanent: true)
        } catch {
            throw DeliveryFailure(description: "\(error)", status: nil, permanent: false)
        }
        var options = HTTPClient.Options()
        options.connectTimeout = .seconds(5)
        options.totalTimeout = .seconds(15)
        options.maxResponseBytes = 64 * 1024
        options.followRedirects = false
        options.resolve = [checked.pin]
        do {
            let response = try world.http.send(
                ClientRequest(
                    method: "POST", url: checked.url,
                    headers: [("Content-Type", "application/json"), ("User-Agent", "Purser/\(PurserVersion.current)")] + headers,
                    body: bytes), options: options)
            guard (200...299).contains(response.status) else {
                // 4xx other than timeouts and throttling: the receiver will not change its mind.
                let permanent = (400...499).contains(response.status) && ![408, 429].contains(response.status)
                throw DeliveryFailure(description: "answered \(response.status)", status: response.status, permanent: permanent)
            }
            return response.status
        } catch let error as HTTPClientError {
            throw DeliveryFailure(description: error.description, status: nil, permanent: false)
        }
    }
}

/// `Purser-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Receivers
/// recompute it, compare in constant time, and refuse a `t` more than five minutes old.
public enum WebhookSignature {
    public static func header(secret: String, body: [UInt8], at date: Date) -> String {
        let timestamp = String(Int(date.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array((timestamp + ".").utf8) + body,
            using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
