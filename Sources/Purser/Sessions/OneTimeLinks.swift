// Links that work once: an invitation (choose a password, or accept a membership) and a password
// reset. The token in the URL is 256 random bits; only its SHA-256 is stored.
import Foundation
import Postgres

/// What a live link is for.
public struct OneTimeLink: Sendable {
    public enum Purpose: String, Sendable { case invite, reset }

    public let id: UUID
    public let purpose: Purpose
    public let user: UUID
    public let email: String
    public let name: String
    /// Whether the person already has a password.
    public let hasPassword: Bool
    /// Whether the invitation created the account (only then may it set the account's password).
    public let createsAccount: Bool
    public let tenant: UUID?
    public let tenantName: String?
    /// Whether the person is staff.
    public let staff: Bool

    /// A reset sets a password; an invitation does only for the account it created and that has
    /// none yet. Anyone else accepts an invitation by signing in as themselves.
    public var setsPassword: Bool { purpose == .reset || (createsAccount && !hasPassword) }
}

/// An unknown, used or expired link: one answer for all three.
public struct LinkNotValid: DomainError {
    public var refusal: Refusal { .notFound }
    public var headline: String? { "This link no longer works" }
    public var detail: String? { "It was used already, it expired, or it was never issued. Ask for a new one." }
}

public enum OneTimeLinks {
    public static let inviteLifetime: TimeInterval = 7 * 86400
    public static let resetLifetime: TimeInterval = 3600

    /// Issues a link at `now` inside `tx`; returns the link to hand to the person (`/links/<token>`).
    public static func issue(
        _ purpose: OneTimeLink.Purpose, user: UUID, tenant: UUID?, createdBy: UUID?,
        createsAccount: Bool = false, at now: Date, in tx: Connection
    ) throws -> SiteURL {
        let token = RandomSecret.base64url(32)
        let lifetime = purpose == .invite ? inviteLifetime : resetLifetime
        try tx.query(
            """
            INSERT INTO one_time_links (id, token_hash, user_id, tenant_id, purpose, created_by, creates_account, created_at,
                                        expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                UUID.v7(at: now), Bytea(RandomSecret.hash(token)), user, tenant, purpose.rawValue, createdBy, createsAccount,
                now, now.addingTimeInterval(lifetime),
            ])
        return SiteURL.link(token)
    }

    /// The link for `token` live at `now`, locked for the rest of `tx` when `lock` is set.
    public static func find(_ token: String, lock: Bool = false, at now: Date, in tx: Connection) throws -> OneTimeLink {
        guard RandomSecret.isWellFormed(token) else { throw LinkNotValid() }
        guard
            let row = try tx.query(
                """
                SELECT l.id, l.purpose, l.user_id, u.email, u.name, u.password_hash IS NOT NULL, l.tenant_id, t.name,
                       l.creates_account, u.staff_role IS NOT NULL
                FROM one_time_links l JOIN users u ON u.id = l.user_id LEFT JOIN tenants t ON t.id = l.tenant_id
                WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.status <> 'deactivated'
                \(lock ? "FOR UPDATE OF l" : "")
                """, [Bytea(RandomSecret.hash(token)), now]
            ).first
        else { throw LinkNotValid() }
        return OneTimeLink(
            id: try row.require(0), purpose: OneTimeLink.Purpose(rawValue: try row.require(1)) ?? .reset,
            user: try row.require(2), email: try row.require(3), name: try row.require(4),
            hasPassword: try row.require(5), createsAccount: try row.require(8), tenant: try row.decode(6),
            tenantName: try row.decode(7), staff: try row.require(9))
    }

    static func markUsed(_ link: OneTimeLink, at now: Date, in tx: Connection) throws {
        try tx.query("UPDATE one_time_links SET used_at = $2 WHERE id = $1", [link.id, now])
    }

    /// Ends every reset link of `user` still open at `now` inside `tx` (when their password is reset
    /// or changed, a link issued before then must not set another); returns how many ended.
    @discardableResult
    static func endResets(user: UUID, at now: Date, in tx: Connection) throws -> Int {
        try tx.query(
            """
            UPDATE one_time_links SET used_at = $2
            WHERE user_id = $1 AND purpose = 'reset' AND used_at IS NULL AND expires_at > $2
            """, [user, now]
        ).affected
    }
}
