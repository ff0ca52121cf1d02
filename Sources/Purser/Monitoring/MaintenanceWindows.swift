// Planned maintenance: a window of one endpoint (or of every endpoint of the tenant) in which probe
// results are kept as `maintenance` and do not count toward uptime. Windows are planned ahead: one
// that starts before it is made, or ends before it starts, is refused (so no outage can be excused
// afterwards).
import Foundation
import Postgres
import struct HTTPServer.FieldError

public struct MaintenanceWindow: Sendable, Equatable {
    public var id: UUID
    public var target: UUID?
    public var startsAt: Date
    public var endsAt: Date
    public var reason: String
}

public enum MaintenanceWindows {
    struct Key: Hashable {
        let tenant: UUID
        let target: UUID?
    }

    /// The windows open at `now` for these tenants (target nil: the whole tenant).
    static func activeTargets(_ tx: Connection, tenants: Set<UUID>, at now: Date) throws -> Set<Key> {
        Set(
            try tx.query(
                "SELECT tenant_id, target_id FROM maintenance_windows WHERE tenant_id = ANY($1::uuid[]) AND starts_at <= $2 AND ends_at > $2",
                [Array(tenants), now]
            ).map { Key(tenant: try $0.require(0), target: try $0.decode(1)) })
    }

    /// Why a window cannot be planned; empty when it can.
    static func problems(startsAt: Date?, endsAt: Date?, reason: String, now: Date) -> [FieldError] {
        var errors: [FieldError] = []
        if startsAt == nil { errors.append(FieldError(field: "starts_at", detail: "give the start as an RFC 3339 time")) }
        if endsAt == nil { errors.append(FieldError(field: "ends_at", detail: "give the end as an RFC 3339 time")) }
        if let startsAt, let endsAt, endsAt <= startsAt {
            errors.append(FieldError(field: "ends_at", detail: "a window ends after it starts"))
        }
        if let startsAt, startsAt < now {
            errors.append(FieldError(field: "starts_at", detail: "maintenance is planned ahead: the start is in the past"))
        }
        if let startsAt, let endsAt, endsAt.timeIntervalSince(startsAt) > 7 * 86400 {
            errors.append(FieldError(field: "ends_at", detail: "a window lasts at most 7 days"))
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed.count > 500 { errors.append(FieldError(field: "reason", detail: "say why, in 1–500 characters")) }
        return errors
    }

    /// Plans a window (audited).
    public static func create(
        _ database: Database, tenant: UUID, target: UUID?, startsAt: Date?, endsAt: Date?, reason: String, actor: AuditActor,
        at now: Date
    ) throws -> MaintenanceWindow {
        let problems = problems(startsAt: startsAt, endsAt: endsAt, reason: reason, now: now)
        guard problems.isEmpty, let startsAt, let endsAt else { throw ValidationError(problems) }
        return try database.inTenant(tenant) { tx in
            if let target, try tx.query("SELECT 1 FROM probe_targets WHERE tenant_id = $1 AND id = $2", [tenant, target]).isEmpty {
                throw ValidationError([FieldError(field: "target_id", detail: "no such endpoint here")])
            }
            let window = MaintenanceWindow(
                id: UUID.v7(at: now), target: target, startsAt: startsAt, endsAt: endsAt,
                reason: reason.trimmingCharacters(in: .whitespacesAndNewlines))
            try tx.query(
                """
                INSERT INTO maintenance_windows (tenant_id, id, target_id, starts_at, ends_at, reason, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [tenant, window.id, target, startsAt, endsAt, window.reason, actor.personID, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "monitoring.maintenance_planned", targetType: "maintenance_window",
                    targetID: window.id.postgresText, reason: window.reason, at: now), in: tx)
            return window
        }
    }

    /// The windows of `tenant` that end after `from` (and start before `to`), the target's and the tenant's.
    public static func list(_ tx: Connection, tenant: UUID, target: UUID? = nil, from: Date, to: Date) throws -> [MaintenanceWindow] {
        try tx.query(
            """
            SELECT id, target_id, starts_at, ends_at, reason FROM maintenance_windows
            WHERE tenant_id = $1 AND ends_at > $2 AND starts_at < $3 AND ($4::uuid IS NULL OR target_id IS NULL OR target_id = $4)
            ORDER BY starts_at LIMIT 500
            """, [tenant, from, to, target]
        ).map {
            MaintenanceWindow(
                id: try $0.require(0), target: try $0.decode(1), startsAt: try $0.require(2), endsAt: try $0.require(3),
                reason: try $0.require(4))
        }
    }

    public static func find(_ tx: Connection, tenant: UUID, id: UUID) throws -> MaintenanceWindow? {
        try tx.query(
            "SELECT id, target_id, starts_at, ends_at, reason FROM maintenance_windows WHERE tenant_id = $1 AND id = $2", [tenant, id]
        ).first.map {
            MaintenanceWindow(
                id: try $0.require(0), target: try $0.decode(1), startsAt: try $0.require(2), endsAt: try $0.require(3),
                reason: try $0.require(4))
        }
    }

    /// Seconds of `[from, to)` inside any of `windows` (overlaps counted once).
    static func coveredSeconds(_ windows: [MaintenanceWindow], from: Date, to: Date) -> TimeInterval {
        let spans = windows.map { (max($0.startsAt, from), min($0.endsAt, to)) }.filter { $0.0 < $0.1 }.sorted { $0.0 < $1.0 }
        var total: TimeInterval = 0
        var current: (Date, Date)?
        for span in spans {
            if let open = current, span.0 <= open.1 {
                current = (open.0, max(open.1, span.1))
            } else {
                if let open = current { total += open.1.timeIntervalSince(open.0) }
                current = span
            }
        }
        if let open = current { total += open.1.timeIntervalSince(open.0) }
        return total
    }
}

extension AuditActor {
    /// The person acting, for a `created_by` column (nil for a token or Purser itself).
    var personID: UUID? { kind == .user || kind == .staff ? id : nil }
}
