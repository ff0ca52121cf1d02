// Failed sign-ins counted per account and per address in PostgreSQL, so every node sees the same
// counts. After the threshold, each further failure doubles the wait (30 s, 1 min, 2 min, … 1 h).
// A password attempt is counted before its hash is checked (`begin`), holding the key's row while
// it counts, so however many are sent at once no more than the threshold get past; a right
// password (`succeeded`) or an attempt never judged (`withdraw`) takes back exactly what it added.
import Foundation
import Postgres

/// Too many failures: 429 with Retry-After, the same for every account (nothing is revealed).
public struct SignInThrottled: DomainError {
    public let retryAfter: Int
    public var refusal: Refusal { .tooMany }
    public var detail: String? { "Too many failed sign-ins. Try again in \(Self.describe(retryAfter))." }
    public var retryAfterSeconds: Int? { retryAfter }

    static func describe(_ seconds: Int) -> String {
        seconds < 90 ? "\(seconds) seconds" : "\((seconds + 59) / 60) minutes"
    }
}

public struct SignInThrottle: Sendable {
    /// Failures before an account waits. Counted against the email typed, known or not.
    public var accountThreshold = 5
    /// Failures before an address waits; higher, since one office may share an address.
    public var addressThreshold = 20
    /// Failures older than this are forgotten.
    public var window: TimeInterval = 3600
    public var firstDelay: TimeInterval = 30
    public var longestDelay: TimeInterval = 3600
    /// The time of day failures are stamped and waits are judged by.
    let clock: any WallClock

    public init(clock: any WallClock) { self.clock = clock }

    /// `email:<address typed>` for passwords, `second_factor:<user id>` for second-factor codes.
    static func emailKey(_ email: String) -> String { "email:" + String(email.prefix(254)) }
    static func secondFactorKey(_ user: UUID) -> String { "second_factor:" + user.postgresText }
    /// An IPv6 address counts as its /64 (see `ThrottleAddress`).
    static func addressKey(_ address: String) -> String { "address:" + ThrottleAddress.canonical(address) }

    /// What `begin` counted against one key: the wait in place before, and the one after (nil when
    /// none), as PostgreSQL wrote them, so that taking the attempt back restores exactly that.
    struct Mark: Sendable {
        let key: String
        let blockedBefore: String?
        let blockedAfter: String?
    }

    /// An attempt counted before it was judged.
    struct Attempt: Sendable {
        let account: Mark
        let address: Mark
    }

    /// Counts an attempt against the account and the address before the password is checked.
    /// Each key's row is held for the rest of `tx`, so attempts sent at once are counted one after
    /// another, and once one of them starts a wait the rest are refused. Throws `SignInThrottled`
    /// (and counts nothing) while either key waits.
    func begin(account: String, address: String, in tx: Connection) throws -> Attempt {
        Attempt(
            account: try count(account, threshold: accountThreshold, in: tx),
            address: try count(Self.addressKey(address), threshold: addressThreshold, in: tx))
    }

    private func count(_ key: String, threshold: Int, in tx: Connection) throws -> Mark {
        let now = clock.now
        let row = try tx.query(
            """
            INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1, 0, $2)
            ON CONFLICT (key) DO UPDATE SET key = t.key
            RETURNING failures, last_failure_at < $3,
                      CASE WHEN blocked_until > $2 THEN ceil(extract(epoch FROM blocked_until - $2::timestamptz))::integer END,
                      blocked_until::text
            """, [key, now, now.addingTimeInterval(-window)])[0]
        if let seconds = try row.decode(2, as: Int.self) { throw SignInThrottled(retryAfter: max(1, seconds)) }
        let failures = try row.require(1, as: Bool.self) ? 1 : try row.require(0, as: Int.self) + 1
        let delay: Double? =
            failures >= threshold
            ? min(longestDelay, firstDelay * pow(2, Double(min(failures - threshold, 20)))) : nil
        let after = try tx.query(
            """
            UPDATE sign_in_throttle SET failures = $2, last_failure_at = $3, blocked_until = coalesce($4, blocked_until)
            WHERE key = $1 RETURNING blocked_until::text
            """, [key, failures, now, delay.map { now.addingTimeInterval($0) }])[0].decode(0, as: String.self)
        return Mark(key: key, blockedBefore: try row.decode(3, as: String.self), blockedAfter: after)
    }

    /// The password was right: the account's count is cleared (as `recordSuccess`), and the
    /// address's loses this attempt, with the wait it may have started.
    func succeeded(_ attempt: Attempt, in tx: Connection) throws {
        try recordSuccess(account: attempt.account.key, in: tx)
        try takeBack(attempt.address, in: tx)
    }

    /// The attempt was never judged (the hash queue was full, or something failed): neither key
    /// keeps it.
    func withdraw(_ attempt: Attempt, in tx: Connection) throws {
        try takeBack(attempt.account, in: tx)
        try takeBack(attempt.address, in: tx)
    }

    private func takeBack(_ mark: Mark, in tx: Connection) throws {
        try tx.query(
            """
            UPDATE sign_in_throttle SET failures = greatest(failures - 1, 0),
                   blocked_until = CASE WHEN blocked_until IS NOT DISTINCT FROM $2::timestamptz THEN $3::timestamptz
                                        ELSE blocked_until END
            WHERE key = $1
            """, [mark.key, mark.blockedAfter, mark.blockedBefore])
    }

    /// A correct password clears the account's count (not the address's).
    func recordSuccess(account: String, in tx: Connection) throws {
        try tx.query("DELETE FROM sign_in_throttle WHERE key = $1", [account])
    }
}
