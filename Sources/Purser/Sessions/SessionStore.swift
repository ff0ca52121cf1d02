// Browser sessions: a 256-bit random token in a cookie, stored only as its SHA-256, with an idle
// timeout and an absolute lifetime. Every lookup reads the database (no cache), so ending a
// session takes effect on every node at the next request.
import Foundation
import struct HTTPServer.SetCookie
import Postgres

public struct SessionSettings: Sendable {
    public var idleTimeout: TimeInterval = 30 * 60
    public var absoluteLifetime: TimeInterval = 12 * 3600
    /// Secure cookies (under https).
    public var secureCookies = false
    public init() {}
}

/// A live session and the person behind it.
public struct Session: Sendable {
    public enum Stage: String, Sendable { case secondFactor = "second_factor", signedIn = "signed_in" }

    public let id: UUID
    public let user: UUID
    public let email: String
    public let name: String
    public let staffRole: StaffRole?
    public let stage: Stage
    public let totpEnabled: Bool
    public let createdAt: Date
}

/// One row of "your sessions".
public struct SessionSummary: Sendable {
    public let id: UUID
    public let createdAt: Date
    public let lastSeenAt: Date
    public let address: String?
    public let userAgent: String?
}

public final class SessionStore: Sendable {
    /// The session cookie's name over plain http; under https it is `__Host-purser_session`.
    public static let cookieName = "purser_session"
    public let settings: SessionSettings
    let database: Database
    /// The time of day every session is started, judged and ended by.
    let clock: any WallClock

    public init(database: Database, settings: SessionSettings, clock: any WallClock) {
        self.database = database
        self.settings = settings
        self.clock = clock
    }

    /// Starts a session inside `tx`; returns its id and the token for the cookie (shown nowhere else).
    public func create(
        user: UUID, stage: Session.Stage, address: String?, userAgent: String?,
        in tx: Connection
    ) throws -> (id: UUID, token: String) {
        let token = RandomSecret.base64url(32)
        let moment = clock.now
        let id = UUID.v7(at: moment)
        try tx.query(
            """
            INSERT INTO sessions (id, token_hash, user_id, stage, created_at, last_seen_at, expires_at, address, user_agent)
            VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)
            """,
            [
                id, Bytea(RandomSecret.hash(token)), user, stage.rawValue, moment,
                moment.addingTimeInterval(settings.absoluteLifetime), address.map { String($0.prefix(64)) },
                userAgent.map { String($0.prefix(300)) },
            ])
        return (id, token)
    }

    /// The session for a cookie value, or nil when it is unknown, ended, idle too long or past its
    /// lifetime. Records activity at most once a minute.
    public func find(token: String) throws -> Session? { try found(token: token)?.session }

    /// `find`, with the session's absolute end and its activity stamp as it now stands.
    func found(token: String) throws -> (session: Session, expiresAt: Date, lastSeen: Date)? {
        guard RandomSecret.isWellFormed(token) else { return nil }
        let moment = clock.now
        guard
            let row = try database.pool.query(
                """
                SELECT s.id, s.user_id, u.email, u.name, u.staff_role, s.stage, u.totp_enabled_at IS NOT NULL,
                       s.created_at, s.last_seen_at, s.expires_at
                FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
                  AND u.status = 'active'
                """, [Bytea(RandomSecret.hash(token)), moment, moment.addingTimeInterval(-settings.idleTimeout)]
            ).first
        else { return nil }
        let session = Session(
            id: try row.require(0), user: try row.require(1), email: try row.require(2), name: try row.require(3),
            staffRole: try row.decode(4, as: String.self).flatMap(StaffRole.init(rawValue:)),
            stage: Session.Stage(rawValue: try row.require(5)) ?? .secondFactor, totpEnabled: try row.require(6),
            createdAt: try row.require(7))
        var lastSeen = try row.require(8, as: Date.self)
        if moment.timeIntervalSince(lastSeen) >= 60 {
            try database.pool.query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", [session.id, moment])
            lastSeen = moment
        }
        return (session, try row.require(9), lastSeen)
    }

    /// Ends `old` and starts a fresh session for the same person (after the second factor, a
    /// password change, a new privilege), so a token seen before the change is worthless after it.
    public func rotate(
        _ old: UUID, user: UUID, stage: Session.Stage, address: String?, userAgent: String?,
        in tx: Connection
    ) throws -> (id: UUID, token: String) {
        try end(old, in: tx)
        return try create(user: user, stage: stage, address: address, userAgent: userAgent, in: tx)
    }

    public func end(_ id: UUID, in tx: Connection) throws {
        try tx.query("UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL", [id, clock.now])
    }

    /// Ends every session of `user` except `keep`, stamped `now`; returns how many ended.
    @discardableResult
    public static func endAll(user: UUID, except keep: UUID? = nil, at now: Date, in tx: Connection) throws -> Int {
        try tx.query(
            """
            UPDATE sessions SET ended_at = $3
            WHERE user_id = $1 AND ended_at IS NULL AND ($2::uuid IS NULL OR id <> $2)
            """, [user, keep, now]
        ).affected
    }

    /// `endAll` at this store's time.
    @discardableResult
    public func endAll(user: UUID, except keep: UUID? = nil, in tx: Connection) throws -> Int {
        try Self.endAll(user: user, except: keep, at: clock.now, in: tx)
    }

    /// The person's live sessions, newest first.
    public func list(user: UUID) throws -> [SessionSummary] {
        let moment = clock.now
        return try database.pool.query(
            """
            SELECT id, created_at, last_seen_at, address, user_agent FROM sessions
            WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3
            ORDER BY created_at DESC LIMIT 100
            """, [user, moment, moment.addingTimeInterval(-settings.idleTimeout)]
        ).map { row in
            SessionSummary(
                id: try row.require(0), createdAt: try row.require(1), lastSeenAt: try row.require(2),
                address: try row.decode(3), userAgent: try row.decode(4))
        }
    }

    /// What a cookie called `base` is named here. Under https it takes the `__Host-` prefix: a
    /// browser then keeps it only when it came over https with `Secure`, `Path=/` and no `Domain`,
    /// so neither a plain-http answer nor a sibling subdomain can set or overwrite it.
    public func cookieName(_ base: String) -> String {
        settings.secureCookies ? "__Host-" + base : base
    }

    /// The session cookie's name: `__Host-purser_session` under https, `purser_session` otherwise.
    public var sessionCookieName: String { cookieName(Self.cookieName) }

    /// A cookie (HttpOnly, SameSite=Lax, Path=/, never a Domain; Secure under https) named for this site.
    public func setCookie(_ base: String, value: String, maxAge: Int? = nil) -> SetCookie {
        SetCookie(name: cookieName(base), value: value, maxAge: maxAge, secure: settings.secureCookies)
    }

    /// The Set-Cookie that carries `token`; the browser keeps it until it closes, the server until
    /// the session's idle or absolute end.
    public func cookie(_ token: String) -> SetCookie {
        setCookie(Self.cookieName, value: token)
    }

    /// The Set-Cookie that removes the session cookie.
    public func clearingCookie() -> SetCookie {
        setCookie(Self.cookieName, value: "", maxAge: 0)
    }
}
