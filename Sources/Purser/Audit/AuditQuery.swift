// Reading one audit chain, newest first, filtered and paged by sequence (keyset: each page asks
// for rows before the last one seen, so page 1000 costs what page 1 does).
import Foundation
import Postgres

public struct AuditFilter: Sendable {
    /// Actor email or id.
    public var actor: String?
    /// Action or its prefix (`membership.` matches every membership action).
    public var action: String?
    /// Target id or target type.
    public var target: String?
    public var from: Date?
    public var until: Date?

    public init(actor: String? = nil, action: String? = nil, target: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.actor = actor
        self.action = action
        self.target = target
        self.from = from
        self.until = until
    }
}

public struct AuditRow: Sendable {
    public let sequence: Int64
    public let occurredAt: Date
    public let actorKind: String
    public let actor: String
    public let action: String
    public let targetType: String
    public let targetID: String
    public let reason: String
    public let address: String
    public let requestID: String
    public let before: String
    public let after: String

    public static let columns = [
        "sequence", "time", "actor_kind", "actor", "action", "target_type", "target_id", "reason",
        "address", "request_id", "before", "after",
    ]

    public var cells: [String] {
        [
            String(sequence), RFC3339.string(occurredAt), actorKind, actor, action, targetType, targetID, reason, address,
            requestID, before, after,
        ]
    }
}

public enum AuditQuery {
    /// Up to `limit` rows of `chain` with sequence below `before`, newest first. `tx` must see the
    /// chain (its tenant set, or a staff transaction).
    public static func page(chain: String, filter: AuditFilter, before: Int64?, limit: Int, in tx: Connection) throws -> [AuditRow] {
        try tx.query(
            """
            SELECT e.sequence, e.occurred_at, e.actor_kind, coalesce(u.email, e.actor_id::text, ''), e.action,
                   coalesce(e.target_type, ''), coalesce(e.target_id, ''), coalesce(e.reason, ''), coalesce(e.address, ''),
                   coalesce(e.request_id, ''), coalesce(e.before::text, ''), coalesce(e.after::text, '')
            FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
            WHERE e.chain = $1 AND ($2::bigint IS NULL OR e.sequence < $2)
              AND ($3::text IS NULL OR lower(u.email) = lower($3) OR e.actor_id::text = $3)
              AND ($4::text IS NULL OR left(e.action, length($4)) = $4)
              AND ($5::text IS NULL OR e.target_id = $5 OR e.target_type = $5)
              AND ($6::timestamptz IS NULL OR e.occurred_at >= $6)
              AND ($7::timestamptz IS NULL OR e.occurred_at < $7)
            ORDER BY e.sequence DESC LIMIT $8
            """, [chain, before, filter.actor, filter.action, filter.target, filter.from, filter.until, limit]
        ).map { row in
            AuditRow(
                sequence: try row.require(0), occurredAt: try row.require(1), actorKind: try row.require(2),
                actor: try row.require(3), action: try row.require(4), targetType: try row.require(5),
                targetID: try row.require(6), reason: try row.require(7), address: try row.require(8),
                requestID: try row.require(9), before: try row.require(10), after: try row.require(11))
        }
    }
}
