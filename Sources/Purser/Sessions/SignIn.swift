// Signing in: a place in the hasher's queue, the attempt counted by the throttle, the password (or
// the decoy hash, so an unknown email costs the same time), the audit record either way, and a new
// session. The second factor, when on, completes it.
import Foundation
import Postgres

/// The one answer for an unknown email, a wrong password and a deactivated account.
public struct SignInRefused: DomainError {
    public init() {}
    public var refusal: Refusal { .unauthenticated }
    public var detail: String? { "The email or password is not right." }
}

public final class SignIn: Sendable {
    public let sessions: SessionStore
    let database: Database
    let hasher: PasswordHasher
    let throttle: SignInThrottle
    let secondFactor: SecondFactor

    public init(
        database: Database, sessions: SessionStore, hasher: PasswordHasher, throttle: SignInThrottle,
        secondFactor: SecondFactor
    ) {
        self.database = database
        self.sessions = sessions
        self.hasher = hasher
        self.throttle = throttle
        self.secondFactor = secondFactor
    }

    /// Checks the email and password; returns the new session (at the second-factor stage when the
    /// person has one). Throws `SignInThrottled` (429), `PasswordHasher.Busy` (429) or
    /// `SignInRefused` (401). `knownAs` is the person this browser's device cookie names: a
    /// sign-in as them queues in the hasher's lane for known people.
    ///
    /// The attempt is counted before the hash is checked, so attempts sent at once cannot pass the
    /// throttle together; a right password takes its count back, and an attempt never judged (the
    /// hasher too busy, an error) is withdrawn.
    public func signIn(email rawEmail: String, password: String, origin: RequestOrigin, knownAs device: UUID? = nil) throws
        -> (id: UUID, token: String, stage: Session.Stage, user: UUID)
    {
        let email = String(rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().prefix(254))
        let address = origin.address ?? "unknown"
        // A place in the hasher first: when the lanes are full the answer costs no query.
        var place = try hasher.admit(device.map { .known($0) } ?? .shared)
        defer { place.leave() }
        let (attempt, row) = try database.pool.transaction { tx in
            (
                try throttle.begin(account: SignInThrottle.emailKey(email), address: address, in: tx),
                try tx.query(
                    """
                    SELECT id, password_hash, status, totp_enabled_at IS NOT NULL, staff_role IS NOT NULL FROM users WHERE lower(email) = $1
                    """, [email]
                ).first
            )
        }
        let user = try row?.require(0, as: UUID.self)
        // The account's person, as the audit log records them: staff as staff.
        let person = try row.map { AuditActor.person(try $0.require(0), isStaff: try $0.require(4), origin: origin) }
        let active = try row?.require(2, as: String.self) == "active"
        let stored = active ? try row?.decode(1, as: String.self) : nil
        let verdict: Bool
        let rehash: String?
        do {
            // The cookie names someone else: this sign-in waits with everyone.
            if let device, device != user {
                place.leave()
                place = try hasher.admit(.shared)
            }
            verdict = !password.isEmpty && password.utf8.count <= 1024 && place.verify(password, against: stored)
            rehash = verdict && stored.map(hasher.needsRehash) == true ? try place.hash(password) : nil
        } catch {
            try? database.pool.transaction { tx in try throttle.withdraw(attempt, in: tx) }
            throw error
        }
        place.leave()
        guard verdict, let userID = user, let person else {
            try database.pool.transaction { tx in
                try AuditLog.record(
                    AuditEvent(
                        tenant: nil, actor: person ?? AuditActor(kind: .system, id: nil, origin: origin), action: "session.sign_in_failed",
                        targetType: user == nil ? "email" : "user", targetID: user?.postgresText ?? email, at: sessions.clock.now), in: tx)
            }
            throw SignInRefused()
        }
        let stage: Session.Stage = try row!.require(3, as: Bool.self) ? .secondFactor : .signedIn
        return try database.pool.transaction { tx in
            try throttle.succeeded(attempt, in: tx)
            if let rehash { try tx.query("UPDATE users SET password_hash = $2 WHERE id = $1", [userID, rehash]) }
            let session = try sessions.create(
                user: userID, stage: stage, address: origin.address,
                userAgent: origin.userAgent, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: person, action: "session.sign_in", targetType: "session", targetID: session.id.postgresText,
                    after: try JSONText(encoding: ["stage": stage.rawValue]), at: sessions.clock.now), in: tx)
            return (session.id, session.token, stage, userID)
        }
    }

    /// `actor`, the person of `session`, completes a sign-in with a TOTP or recovery code: the
    /// session is replaced by a fresh one (new token). Wrong codes are counted per person on a key
    /// of their own, which a right password does not clear; attempts for one person are serialised
    /// on their row, so parallel guesses cannot slip past the count.
    public func completeSecondFactor(_ session: Session, code: String, actor: AuditActor) throws -> (id: UUID, token: String) {
        let key = SignInThrottle.secondFactorKey(session.user)
        let origin = actor.origin ?? RequestOrigin()
        let address = origin.address ?? "unknown"
        let rotated = try database.pool.transaction { tx -> (id: UUID, token: String)? in
            try tx.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [session.user])
            // Counted before it is judged, like a password: guesses from one address for several
            // people queue on the address's row too.
            let attempt = try throttle.begin(account: key, address: address, in: tx)
            guard try secondFactor.accept(code, user: session.user, in: tx) else {
                try AuditLog.record(
                    AuditEvent(
                        tenant: nil, actor: actor, action: "session.second_factor_failed",
                        targetType: "session", targetID: session.id.postgresText, at: sessions.clock.now),
                    in: tx)
                return nil
            }
            let fresh = try sessions.rotate(
                session.id, user: session.user, stage: .signedIn, address: origin.address,
                userAgent: origin.userAgent, in: tx)
            try throttle.succeeded(attempt, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "session.second_factor", targetType: "session",
                    targetID: fresh.id.postgresText, at: sessions.clock.now), in: tx)
            return fresh
        }
        guard let rotated else { throw ValidationError(field: "code", "that code is not right (or was already used)") }
        return rotated
    }

    /// `actor` signs out: their session ends.
    public func signOut(_ session: Session, actor: AuditActor) throws {
        try database.pool.transaction { tx in
            try sessions.end(session.id, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "session.sign_out",
                    targetType: "session", targetID: session.id.postgresText, at: sessions.clock.now), in: tx)
        }
    }

    /// "Sign out everywhere": `actor` ends every session of theirs, this one included.
    public func signOutEverywhere(_ session: Session, actor: AuditActor) throws {
        try database.pool.transaction { tx in
            let ended = try sessions.endAll(user: session.user, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "session.sign_out_everywhere", targetType: "user",
                    targetID: session.user.postgresText,
                    after: try JSONText(encoding: ["sessions_ended": String(ended)]), at: sessions.clock.now),
                in: tx)
        }
    }
}
