// A tenant's people, as its admins manage them: invite, change a role, deactivate. Taking a role
// away (a change or a deactivation) ends the person's sessions and revokes their tokens for the
// tenant on every node; the tenant always keeps at least one active admin.
import Foundation
import Postgres

public struct Member: Sendable {
    public let user: UUID
    public let email: String
    public let name: String
    public let role: CustomerRole
    /// `active`, `pending` (invited, not yet accepted) or `deactivated`.
    public let status: String
    public let since: Date
}

public struct Memberships: Sendable {
    let database: Database
    /// The time of day memberships change and invitations run out by.
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Every member of `tenant`, active first, then by email.
    public func list(tenant: UUID) throws -> [Member] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT m.user_id, u.email, CASE WHEN m.status = 'pending' THEN coalesce(m.invited_name, u.email) ELSE u.name END,
                       m.role, m.status, m.created_at
                FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1
                ORDER BY m.status = 'active' DESC, m.status, lower(u.email) LIMIT 1000
                """, [tenant]
            ).map { row in
                Member(
                    user: try row.require(0), email: try row.require(1), name: try row.require(2),
                    role: CustomerRole(rawValue: try row.require(3)) ?? .viewer, status: try row.require(4),
                    since: try row.require(5))
            }
        }
    }

    /// Invites `person` with `role`: a pending membership and a one-time link (returned, to hand
    /// over). A new email gets an invited account; an email known elsewhere gets the same answer,
    /// so no tenant learns who uses another. An existing member is a 409 on `email`.
    /// With `emailing` (the public URL and the tenant's name) the link is also emailed to the person.
    public func invite(
        _ person: NewPerson, role: CustomerRole, tenant: UUID, actor: AuditActor,
        emailing: (publicURL: String, tenantName: String)? = nil
    ) throws -> SiteURL {
        var person = person
        person.password = nil
        try person.validate()
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            let (user, created) = try PersonStore.upsertUser(person, hash: nil, at: now, tx)
            let typedName = person.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let existing = try tx.query(
                "SELECT status FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
                [tenant, user]
            ).first?.require(0, as: String.self)
            switch existing {
            case "active", "pending":
                throw ValidationError(field: "email", "this person is already a member or invited", refusal: .conflict)
            case "deactivated":
                try tx.query(
                    """
                    UPDATE memberships SET status = 'pending', role = $3, invited_name = $4, updated_at = $5
                    WHERE tenant_id = $1 AND user_id = $2
                    """, [tenant, user, role.rawValue, typedName, now])
            default:
                try tx.query(
                    """
                    INSERT INTO memberships (tenant_id, user_id, role, status, invited_name, created_at)
                    VALUES ($1, $2, $3, 'pending', $4, $5)
                    """, [tenant, user, role.rawValue, typedName, now])
            }
            let link = try OneTimeLinks.issue(
                .invite, user: user, tenant: tenant, createdBy: actor.id, createsAccount: created,
                at: now, in: tx)
            if let emailing {
                try Outbox.email(
                    tx, tenant: tenant, to: person.normalizedEmail,
                    message: NotificationMessage(
                        event: "membership.invited", subject: "You are invited to \(emailing.tenantName) on Purser",
                        text: "\(typedName), you are invited to work with \(emailing.tenantName) on Purser as \(role.rawValue). "
                            + "The link works once, for seven days.", url: link.absolute(on: emailing.publicURL)), at: now)
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "membership.invite", targetType: "user", targetID: user.postgresText,
                    after: try JSONText(encoding: ["email": person.normalizedEmail, "role": role.rawValue]), at: now), in: tx)
            return link
        }
    }

    /// Gives `user` a new role in `tenant`. Any change is a privilege change: the person's sessions
    /// end and their tokens for this tenant are revoked.
    public func changeRole(user: UUID, to role: CustomerRole, tenant: UUID, actor: AuditActor) throws {
        try database.inTenant(tenant) { tx in
            let before = try lockedMembership(user, tenant, tx)
            guard before.role != role.rawValue else { return }
            if before.role == CustomerRole.tenantAdmin.rawValue && before.status == "active" {
                try requireAnotherAdmin(besides: user, tenant, tx)
            }
            let now = clock.now
            try tx.query(
                "UPDATE memberships SET role = $3, updated_at = $4 WHERE tenant_id = $1 AND user_id = $2",
                [tenant, user, role.rawValue, now])
            // Only a membership in use carries privileges to take back; a pending one changes quietly.
            if before.status == "active" { try endAccess(user, tenant, at: now, tx) }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "membership.role_change", targetType: "user",
                    targetID: user.postgresText, before: try JSONText(encoding: ["role": before.role]),
                    after: try JSONText(encoding: ["role": role.rawValue]), at: now), in: tx)
        }
    }

    /// Deactivates `user`'s membership (kept for history); sessions end, tenant tokens are revoked,
    /// and they stop watching the tenant's requests (mail already composed for them is not sent:
    /// the worker checks the membership again).
    public func deactivate(user: UUID, tenant: UUID, actor: AuditActor) throws {
        try database.inTenant(tenant) { tx in
            let before = try lockedMembership(user, tenant, tx)
            guard before.status != "deactivated" else { return }
            if before.role == CustomerRole.tenantAdmin.rawValue && before.status == "active" {
                try requireAnotherAdmin(besides: user, tenant, tx)
            }
            let now = clock.now
            try tx.query(
                """
                UPDATE memberships SET status = 'deactivated', updated_at = $3 WHERE tenant_id = $1 AND user_id = $2
                """, [tenant, user, now])
            try tx.query(
                "UPDATE one_time_links SET used_at = $3 WHERE user_id = $1 AND tenant_id = $2 AND used_at IS NULL",
                [user, tenant, now])
            let unwatched = try tx.query("DELETE FROM request_watchers WHERE tenant_id = $1 AND user_id = $2", [tenant, user]).affected
            if before.status == "active" { try endAccess(user, tenant, at: now, tx) }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "membership.deactivate", targetType: "user",
                    targetID: user.postgresText, before: try JSONText(encoding: ["status": before.status]),
                    after: try JSONText(encoding: ["status": "deactivated", "watches_removed": String(unwatched)]), at: now), in: tx)
        }
    }

    /// Turns an invited membership active (the invitation was accepted at `now`). The tenant must be set in `tx`.
    static func activatePending(user: UUID, tenant: UUID, at now: Date, in tx: Connection) throws {
        try tx.query(
            """
            UPDATE memberships SET status = 'active', updated_at = $3
            WHERE tenant_id = $1 AND user_id = $2 AND status = 'pending'
            """, [tenant, user, now])
    }

    private func lockedMembership(_ user: UUID, _ tenant: UUID, _ tx: Connection) throws -> (role: String, status: String) {
        guard
            let row = try tx.query(
                "SELECT role, status FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
                [tenant, user]
            ).first
        else { throw NotFound() }
        return (try row.require(0), try row.require(1))
    }

    private func requireAnotherAdmin(besides user: UUID, _ tenant: UUID, _ tx: Connection) throws {
        // Every active admin row is locked before counting, so two admins demoting each other at
        // once are serialised and the second sees the first's change.
        let others = try tx.query(
            """
            SELECT user_id FROM memberships
            WHERE tenant_id = $1 AND role = 'tenant_admin' AND status = 'active' ORDER BY user_id FOR UPDATE
            """, [tenant]
        ).filter { try $0.require(0, as: UUID.self) != user }.count
        guard others > 0 else {
            throw ValidationError(field: "role", "the tenant needs another active tenant admin first", refusal: .conflict)
        }
    }

    private func endAccess(_ user: UUID, _ tenant: UUID, at now: Date, _ tx: Connection) throws {
        try SessionStore.endAll(user: user, at: now, in: tx)
        try TokenStore.revokeAll(user: user, tenant: tenant, at: now, in: tx)
    }
}
