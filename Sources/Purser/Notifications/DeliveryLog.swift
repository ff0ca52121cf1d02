// The delivery log as pages and the API show it: newest first, paged by (created_at, id).
import Foundation
import Postgres

public struct DeliveryRecord: Sendable {
    public let id: UUID
    public let kind: String
    public let destination: String
    public let event: String
    public let subject: String
    public let state: String
    public let attempts: Int
    public let lastError: String?
    public let lastStatus: Int?
    public let createdAt: Date
    public let deliveredAt: Date?
}

public enum DeliveryLog {
    /// Up to `limit` deliveries of `tenant` older than `before` (a delivery id), newest first.
    public static func page(tenant: UUID, before: UUID?, limit: Int, database: Database) throws -> [DeliveryRecord] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT d.id, d.kind, d.destination, d.event, d.subject, d.state, d.attempts, d.last_error, d.last_status,
                       d.created_at, d.delivered_at
                FROM notification_deliveries d
                WHERE d.tenant_id = $1 AND ($2::uuid IS NULL OR (d.created_at, d.id) <
                      (SELECT created_at, id FROM notification_deliveries WHERE id = $2))
                ORDER BY d.created_at DESC, d.id DESC LIMIT $3
                """, [tenant, before, limit]
            ).map {
                DeliveryRecord(
                    id: try $0.require(0), kind: try $0.require(1), destination: try $0.require(2),
                    event: try $0.require(3), subject: try $0.require(4), state: try $0.require(5),
                    attempts: try $0.require(6), lastError: try $0.decode(7), lastStatus: try $0.decode(8),
                    createdAt: try $0.require(9), deliveredAt: try $0.decode(10))
            }
        }
    }
}
