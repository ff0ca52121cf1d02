// Changing a password (knowing the old one, checked and counted as a sign-in is) and setting one
// through a one-time link. Either way the person's other sessions end, their API tokens are revoked
// on every node and their other reset links end, in the same transaction: whoever knew the old
// password, or held a link from before, keeps nothing.
import Foundation
import class HTTPServer.Locked
import Postgres

public struct Passwords: Sendable {
    let database: Database
    let hasher: PasswordHasher
    let sessions: SessionStore
    /// Guesses at the current password count where sign-in's count: on the person's email and
    /// the address, so a stolen session gains no fresh guesses.
    let throttle: SignInThrottle
    /// The time of day passwords are changed and links judged by.
    var clock: any WallClock { sessions.clock }

    public init(database: Database, hasher: PasswordHasher, sessions: SessionStore) {
        self.database = database
        self.hasher = hasher
        self.sessions = sessions
        throttle = SignInThrottle(clock: sessions.clock)
    }

    /// `actor`, the signed-in person of `session`, checks `current` and sets `new`; every other
    /// session and token ends. Returns a fresh session replacing the current one.
    public func change(
        _ session: Session, current: String, new: String, confirmation: String,
        actor: AuditActor
    ) throws -> (id: UUID, token: String) {
        try reauthenticate(session, password: current, actor: actor)
        let hash = try checkedHash(new, confirmation: confirmation, email: session.email, name: session.name)
        let origin = actor.origin ?? RequestOrigin()
        return try database.pool.transaction { tx in
            let now = clock.now
            try tx.query(
                "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1",
                [session.user, hash, now])
            let ended = try SessionStore.endAll(user: session.user, except: session.id, at: now, in: tx)
            let revoked = try TokenStore.revokeAll(user: session.user, at: now, in: tx)
            // A reset link asked for before the change must not undo it.
            try OneTimeLinks.endResets(user: session.user, at: now, in: tx)
            let fresh = try sessions.rotate(
                session.id, user: session.user, stage: .signedIn, address: origin.address,
                userAgent: origin.userAgent, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "user.password_change", targetType: "user",
                    targetID: session.user.postgresText,
                    after: try JSONText(encoding: ["sessions_ended": String(ended), "tokens_revoked": String(revoked)]), at: now), in: tx)
            return fresh
        }
    }

    /// Sets a password through an invitation or reset link (used up by it), activates the account
    /// and any invited membership, and ends the person's sessions and tokens.
    public func set(linkToken: String, new: String, confirmation: String, origin: RequestOrigin) throws -> OneTimeLink {
        let link = try database.pool.transaction { tx in try OneTimeLinks.find(linkToken, at: clock.now, in: tx) }
        guard link.setsPassword else {
            throw ValidationError(field: "new_password", "this invitation is accepted by signing in to your account")
        }
        let hash = try checkedHash(new, confirmation: confirmation, email: link.email, name: link.name)
        return try database.pool.transaction { tx in
            // Locked and looked up again: two tabs submitting the same link succeed once.
            let now = clock.now
            let link = try OneTimeLinks.find(linkToken, lock: true, at: now, in: tx)
            guard link.setsPassword else { throw LinkNotValid() }
            // The invitation's tenant, for its membership and its audit chain.
            if let tenant = link.tenant { try tx.setLocal("purser.tenant_id", tenant.postgresText) }
            try tx.query(
                """
                UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3,
                       status = CASE WHEN status = 'invited' THEN 'active' ELSE status END
                WHERE id = $1
                """, [link.user, hash, now])
            try OneTimeLinks.markUsed(link, at: now, in: tx)
            // Any other reset link of theirs (asked for twice, or by someone else) ends with this one.
            try OneTimeLinks.endResets(user: link.user, at: now, in: tx)
            try SessionStore.endAll(user: link.user, at: now, in: tx)
            try TokenStore.revokeAll(user: link.user, at: now, in: tx)
            if let tenant = link.tenant { try Memberships.activatePending(user: link.user, tenant: tenant, at: now, in: tx) }
            // No session yet: the link's person, as sign-in records them (staff as staff).
            try AuditLog.record(
                AuditEvent(
                    tenant: link.tenant, actor: .person(link.user, isStaff: link.staff, origin: origin),
                    action: link.purpose == .invite ? "user.invitation_accept" : "user.password_reset",
                    targetType: "user", targetID: link.user.postgresText, at: now), in: tx)
            return link
        }
    }

    /// `actor`, the signed-in person of `session`, accepts an invitation addressed to them.
    public func acceptInvitation(linkToken: String, session: Session, actor: AuditActor) throws -> OneTimeLink {
        try database.pool.transaction { tx in
            let now = clock.now
            let link = try OneTimeLinks.find(linkToken, lock: true, at: now, in: tx)
            guard link.purpose == .invite, link.user == session.user, let tenant = link.tenant else { throw LinkNotValid() }
            try tx.setLocal("purser.tenant_id", tenant.postgresText)
            try OneTimeLinks.markUsed(link, at: now, in: tx)
            try Memberships.activatePending(user: link.user, tenant: tenant, at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "user.invitation_accept", targetType: "user",
                    targetID: link.user.postgresText, at: now), in: tx)
            return link
        }
    }

    /// Checks the signed-in person's current password as sign-in does: counted before the hash
    /// against their email and the address (429 once either waits), a right one taking its count
    /// back, a wrong one audited.
    func reauthenticate(_ session: Session, password: String, actor: AuditActor) throws {
        let account = SignInThrottle.emailKey(session.email.lowercased())
        let attempt: SignInThrottle.Attempt
        do {
            attempt = try database.pool.transaction { tx in
                try throttle.begin(account: account, address: actor.origin?.address ?? "unknown", in: tx)
            }
        } catch let throttled as SignInThrottled {
            try Reauthentication.audit(
                .throttled, factor: .password, for: "password_change", session: session, actor: actor,
                at: clock.now, database: database)
            throw throttled
        }
        let verdict: Bool
        do {
            let stored = try database.pool.query("SELECT password_hash FROM users WHERE id = $1", [session.user]).first?
                .decode(0, as: String.self)
            verdict = try !password.isEmpty && password.utf8.count <= 1024 && hasher.verify(password, against: stored)
        } catch {
            try? database.pool.transaction { tx in try throttle.withdraw(attempt, in: tx) }
            throw error
        }
        guard verdict else {
            try Reauthentication.audit(
                .wrong, factor: .password, for: "password_change", session: session, actor: actor,
                at: clock.now, database: database)
            throw ValidationError(field: "current_password", "that is not your current password")
        }
        try database.pool.transaction { tx in try throttle.succeeded(attempt, in: tx) }
    }

    private func checkedHash(_ new: String, confirmation: String, email: String, name: String) throws -> String {
        if let problem = PasswordPolicy.problem(with: new, email: email, name: name) {
            throw ValidationError(field: "new_password", problem)
        }
        guard new == confirmation else { throw ValidationError(field: "confirmation", "the two passwords differ") }
        return try hasher.hash(new)
    }
}
