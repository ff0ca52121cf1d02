// Creating tenants: validation shared by every caller, the row, and its audit event, in one transaction.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct NewTenant: Sendable, Codable {
    public var slug: String
    public var name: String
    /// Uppercase prefix of request numbers (ACME-42); derived from the slug when nil.
    public var key: String?
    public var plan: String
    public var timeZone: String

    public init(slug: String, name: String, key: String? = nil, plan: String = "standard", timeZone: String = "UTC") {
        self.slug = slug
        self.name = name
        self.key = key
        self.plan = plan
        self.timeZone = timeZone
    }

    /// The key people will say out loud: given, or the slug's letters and digits, uppercased.
    var effectiveKey: String {
        key ?? String(slug.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(10))
    }

    func validate() throws {
        var errors: [FieldError] = []
        if slug.range(of: "^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?\\z", options: .regularExpression) == nil {
            errors.append(FieldError(field: "slug", detail: "use 1–40 lowercase letters, digits and inner hyphens"))
        }
        let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmedName.isEmpty || trimmedName.count > 200 {
            errors.append(FieldError(field: "name", detail: "give a name of 1–200 characters"))
        }
        if effectiveKey.range(of: "^[A-Z][A-Z0-9]{1,9}\\z", options: .regularExpression) == nil {
            errors.append(FieldError(field: "key", detail: "use 2–10 uppercase letters and digits, starting with a letter"))
        }
        if TimeZone(identifier: timeZone) == nil {
            errors.append(FieldError(field: "time_zone", detail: "use an IANA time zone such as Europe/Zurich"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}

public struct TenantStore: Sendable {
    let database: Database
    /// The time of day tenants are made at.
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Creates the tenant and records it in the new tenant's audit chain; a slug or key in use is a 422
    /// naming the field.
    public func create(_ tenant: NewTenant, actor: AuditActor, reason: String?) throws -> UUID {
        try tenant.validate()
        let now = clock.now
        let id = UUID.v7(at: now)
        do {
            try database.inTenant(id) { tx in
                guard !(try tx.query("SELECT 1 FROM plans WHERE id = $1", [tenant.plan])).isEmpty else {
                    throw ValidationError(field: "plan", "there is no plan '\(tenant.plan)'")
                }
                try tx.query(
                    """
                    INSERT INTO tenants (id, slug, key, name, plan_id, time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """,
                    [
                        id, tenant.slug, tenant.effectiveKey, tenant.name.trimmingCharacters(in: .whitespacesAndNewlines),
                        tenant.plan, tenant.timeZone, now,
                    ])
                // Its schedules run in its own time zone (the monthly cost review).
                try TenantSchedules.ensure(tx, tenant: id, timeZone: tenant.timeZone, now: now)
                try AuditLog.record(
                    AuditEvent(
                        tenant: id, actor: actor, action: "tenant.create", targetType: "tenant",
                        targetID: id.postgresText, reason: reason,
                        after: try JSONText(encoding: [
                            "slug": tenant.slug, "key": tenant.effectiveKey, "name": tenant.name,
                            "plan": tenant.plan, "time_zone": tenant.timeZone,
                        ]), at: now), in: tx)
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            let field = error.constraint == "tenants_key_key" ? "key" : "slug"
            throw ValidationError(field: field, "another tenant already uses this \(field)")
        }
        return id
    }

    /// The tenant's id for a slug, or nil.
    public func id(slug: String) throws -> UUID? {
        try database.pool.query("SELECT id FROM tenants WHERE slug = $1", [slug]).first?.require(0, as: UUID.self)
    }

    /// Every tenant with its member count, by name (for staff).
    public func list() throws -> [TenantSummary] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT t.id, t.slug, t.key, t.name, t.plan_id, t.status, t.created_at,
                       (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id AND m.status = 'active'), t.time_zone
                FROM tenants t ORDER BY lower(t.name) LIMIT 5000
                """
            ).map { row in
                TenantSummary(
                    id: try row.require(0), slug: try row.require(1), key: try row.require(2), name: try row.require(3),
                    plan: try row.require(4), status: try row.require(5), createdAt: try row.require(6),
                    members: try row.require(7), timeZone: try row.require(8))
            }
        }
    }

    /// Moves the tenant to another time zone; its schedules move with it (their next run is the
    /// new zone's local time), and its reports' periods follow.
    public func setTimeZone(slug: String, timeZone: String, actor: AuditActor) throws {
        guard TimeZone(identifier: timeZone) != nil else {
            throw ValidationError(field: "time_zone", "use an IANA time zone such as Europe/Zurich")
        }
        guard let id = try id(slug: slug) else { throw NotFound() }
        let now = clock.now
        try database.inTenant(id) { tx in
            let before = try tx.query("SELECT time_zone FROM tenants WHERE id = $1 FOR UPDATE", [id])[0].require(0, as: String.self)
            guard before != timeZone else { return }
            try tx.query("UPDATE tenants SET time_zone = $2, version = version + 1 WHERE id = $1", [id, timeZone])
            try TenantSchedules.ensure(tx, tenant: id, timeZone: timeZone, now: now)
            // The daily rollups count local days: they are rebuilt in the new zone.
            try JobQueue.enqueue(
                tx, kind: "usage.rollups_rebuild", payload: JSONText("{\"tenant\": \"\(id.postgresText)\"}"),
                options: JobOptions(tenant: id, uniqueKey: "usage.rollups_rebuild:\(id.postgresText)", runAt: now))
            try AuditLog.record(
                AuditEvent(
                    tenant: id, actor: actor, action: "tenant.update", targetType: "tenant", targetID: id.postgresText,
                    before: try JSONText(encoding: ["time_zone": before]), after: try JSONText(encoding: ["time_zone": timeZone]),
                    at: now), in: tx)
        }
    }

    /// Suspends or reactivates a tenant. Suspending shuts its members out at once: pages stop
    /// showing it, and every node drops its tokens from their caches.
    public func setStatus(slug: String, active: Bool, actor: AuditActor) throws {
        guard let id = try id(slug: slug) else { throw NotFound() }
        let status = active ? "active" : "suspended"
        try database.inTenant(id) { tx in
            let before = try tx.query("SELECT status FROM tenants WHERE id = $1 FOR UPDATE", [id])[0].require(0, as: String.self)
            guard before != status else { return }
            try tx.query("UPDATE tenants SET status = $2, version = version + 1 WHERE id = $1", [id, status])
            for row in try tx.query("SELECT lookup FROM api_tokens WHERE tenant_id = $1 AND revoked_at IS NULL", [id]) {
                try tx.notify(TokenStore.revocationChannel, payload: try row.require(0, as: String.self))
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: id, actor: actor, action: active ? "tenant.activate" : "tenant.suspend",
                    targetType: "tenant", targetID: id.postgresText, before: try JSONText(encoding: ["status": before]),
                    after: try JSONText(encoding: ["status": status]), at: clock.now), in: tx)
        }
    }
}

public struct TenantSummary: Sendable {
    public let id: UUID
    public let slug: String
    public let key: String
    public let name: String
    public let plan: String
    public let status: String
    public let createdAt: Date
    public let members: Int
    public let timeZone: String
}
