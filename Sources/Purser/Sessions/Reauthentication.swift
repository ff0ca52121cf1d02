// Re-authentication on the account page: new recovery codes and turning the second factor off
// take a current code, a password change the current password. Someone holding a stolen session
// could otherwise guess a six-digit code in minutes, so these guesses count where sign-in's count —
// codes on the person's second-factor key (a right password does not clear it), passwords on their
// email — and on the address, with the same waits; every failure is audited, a refused one too.
import Foundation
import Postgres

enum Reauthentication {
    enum Outcome: String { case wrong, throttled }
    enum Factor: String { case password, code }

    /// Records a failed re-authentication (`user.reauthentication_failed`) by `actor`, the
    /// session's person, at `now` inside `tx`.
    static func record(
        _ outcome: Outcome, factor: Factor, for purpose: String, session: Session, actor: AuditActor,
        at now: Date, in tx: Connection
    ) throws {
        try AuditLog.record(
            AuditEvent(
                tenant: nil, actor: actor, action: "user.reauthentication_failed", targetType: "user",
                targetID: session.user.postgresText,
                after: try JSONText(encoding: [
                    "factor": factor.rawValue, "for": purpose, "outcome": outcome.rawValue,
                    "session": session.id.postgresText,
                ]), at: now), in: tx)
    }

    /// `record` in a transaction of its own.
    static func audit(
        _ outcome: Outcome, factor: Factor, for purpose: String, session: Session, actor: AuditActor,
        at now: Date, database: Database
    ) throws {
        try database.pool.transaction { tx in
            try record(outcome, factor: factor, for: purpose, session: session, actor: actor, at: now, in: tx)
        }
    }
}

/// How a code check ended: the change made, or a refusal whose count and audit must commit.
private enum CodeOutcome<T> {
    case done(T)
    case wrong
    case throttled(SignInThrottled)
}

extension SignIn {
    /// Runs `change` in one transaction once `code` (from the app, or a recovery code) is accepted
    /// for `actor`, the signed-in person of `session`. Their row is held first, so guesses sent at
    /// once are judged one after another against the count. A wrong code is counted and audited
    /// (committed) and thrown as a `ValidationError` on `code`; while the person or the address
    /// waits, `SignInThrottled`.
    func withCurrentCode<T>(
        _ code: String, session: Session, for purpose: String, actor: AuditActor,
        _ change: (Connection) throws -> T
    ) throws -> T {
        let key = SignInThrottle.secondFactorKey(session.user)
        let address = actor.origin?.address ?? "unknown"
        let outcome: CodeOutcome<T> = try database.pool.transaction { tx in
            let now = sessions.clock.now
            try tx.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [session.user])
            // Counted before it is judged, on the person's key and the address's, whose rows are held
            // to the end: guesses from several sessions behind one address are judged one by one.
            let attempt: SignInThrottle.Attempt
            do {
                attempt = try throttle.begin(account: key, address: address, in: tx)
            } catch let throttled as SignInThrottled {
                try Reauthentication.record(
                    .throttled, factor: .code, for: purpose, session: session, actor: actor, at: now,
                    in: tx)
                return .throttled(throttled)
            }
            guard try secondFactor.accept(code, user: session.user, in: tx) else {
                try Reauthentication.record(.wrong, factor: .code, for: purpose, session: session, actor: actor, at: now, in: tx)
                return .wrong
            }
            try throttle.succeeded(attempt, in: tx)
            return .done(try change(tx))
        }
        switch outcome {
        case .done(let value): return value
        case .wrong: throw ValidationError(field: "code", "enter a current code from your app (or a recovery code)")
        case .throttled(let throttled): throw throttled
        }
    }
}
