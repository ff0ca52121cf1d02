// Sends one provider delivery (ProviderChannels): mail through the World's mail server, rendered by
// the same composer as a tenant's, or a webhook signed like a tenant's (`Purser-Signature` with the
// channel's secret; the payload's `tenant` is null), posted through the same destination checks.
// Mail for a staff member is not sent once they are no longer active staff. Each attempt updates
// the delivery's row; the job's retries and backoff are the queue's.
import Foundation
import HTTPClient
import enum HTTPServer.JSONValue
import Postgres

enum ProviderDelivery {
    static func register(into handlers: inout JobHandlers, settings: NotificationSettings) {
        handlers.register(ProviderChannels.deliverKind) { context in try deliver(context, settings) }
    }

    static func deliver(_ context: JobContext, _ settings: NotificationSettings) throws {
        struct Payload: Decodable { let delivery: UUID }
        let id = try context.job.decode(Payload.self).delivery
        let database = context.database, world = context.world
        guard
            let row = try database.pool.query(
                """
                SELECT d.kind, d.message::text, d.attempts, coalesce(c.target, u.email), c.secret, d.recipient_id IS NOT NULL,
                       d.recipient_id IS NULL OR coalesce(u.status = 'active' AND u.staff_role IS NOT NULL, false), d.channel_id
                FROM provider_deliveries d LEFT JOIN provider_channels c ON c.id = d.channel_id LEFT JOIN users u ON u.id = d.recipient_id
                WHERE d.id = $1 AND d.state = 'pending'
                """, [id]
            ).first
        else { return }
        let kind = try row.require(0, as: String.self)
        let message = try JSONText(try row.require(1, as: String.self)).decode(NotificationMessage.self)
        let attempt = try row.require(2, as: Int.self) + 1
        func finish(_ status: Int?, error: String?, dead: Bool) throws {
            let state = error == nil ? "delivered" : (dead ? "dead" : "pending")
            try database.pool.query(
                """
                UPDATE provider_deliveries SET state = $2, attempts = $3, last_error = $4, last_status = $5,
                       delivered_at = CASE WHEN $2 = 'delivered' THEN $6::timestamptz END
                WHERE id = $1
                """, [id, state, attempt, error.map { String($0.prefix(1000)) }, status, world.now])
        }
        guard try row.require(6, as: Bool.self) else {
            try finish(nil, error: "not sent: the recipient is no longer active staff", dead: true)
            return
        }
        guard let destination = try row.decode(3, as: String.self) else {
            try finish(nil, error: "the channel was removed", dead: true)
            return
        }
        do {
            let status: Int
            switch kind {
            case "email":
                guard let mail = world.mail else { throw DeliveryFailure(description: Delivery.noMailServer, status: nil, permanent: true) }
                for address in destination.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !address.isEmpty {
                    do {
                        try mail.send(
                            settings.composer.compose(message, to: address, deliveryID: id, optional: false, date: world.now),
                            from: settings.composer.from, to: [address])
                    } catch let error as MailError {
                        throw DeliveryFailure(
                            description: error.description, status: error.replyCode, permanent: (500...599).contains(error.replyCode))
                    }
                }
                status = 250
            default:
                guard let sealed = try row.decode(4, as: String.self), let channel = try row.decode(7, as: UUID.self) else {
                    throw DeliveryFailure(description: "the channel has no signing secret", status: nil, permanent: true)
                }
                let secret = String(
                    decoding: try SealedColumn.providerChannelSecret.open(sealed, row: channel, keyring: settings.keyring), as: UTF8.self)
                let payload: JSONValue = [
                    "id": .string(id.postgresText), "event": .string(message.event), "subject": .string(message.subject),
                    "text": .string(message.text), "url": message.url.map { .string($0) } ?? .null, "tenant": .null,
                    "dedup_key": .string(message.dedupKey),
                ]
                let bytes = payload.serialized()
                status = try Delivery.post(
                    bytes: bytes, to: destination,
                    headers: [
                        ("Purser-Signature", WebhookSignature.header(secret: secret, body: bytes, at: world.now)),
                        ("Purser-Event", message.event), ("Purser-Delivery", id.postgresText),
                    ], world: world, settings: settings)
            }
            try finish(status, error: nil, dead: false)
        } catch let failure as DeliveryFailure {
            let dead = failure.permanent || context.job.attempt >= context.job.maxAttempts
            // What is kept shows no more of a webhook's URL than the log's scheme and host.
            let shown = failure.description.replacingOccurrences(of: destination, with: DestinationRedaction.url(destination))
            try finish(failure.status, error: shown, dead: dead)
            if failure.permanent { throw PermanentJobFailure(shown) }
            throw DeliveryFailure(description: shown, status: failure.status, permanent: false)
        }
    }
}
