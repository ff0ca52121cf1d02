// Failed sign-ins counted per account and per address in PostgreSQL, so every node sees the same
// counts. After the threshold, each further failure doubles the wait (30 s, 1 min, 2 min, … 1 h).
import Foundation
import HTTPServer
import Postgres

/// Too many failures: 429 with Retry-After, the same for every account (nothing is revealed).
public struct SignInThrottled: HTTPResponseError {
    public let retryAfter: Int
    public var status: HTTPStatus { .tooManyRequests }
    public var detail: String? { "Too many failed sign-ins. Try again in \(Self.describe(retryAfter))." }
    public var headers: HTTPHeaders { HTTPHeaders([("Retry-After", String(retryAfter))]) }

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

    public init() {}

    /// `email:<address typed>` for passwords, `second_factor:<user id>` for second-factor codes.
    static func emailKey(_ email: String) -> String { "email:" + String(email.prefix(254)) }
    static func secondFactorKey(_ user: UUID) -> String { "second_factor:" + user.postgresText }
    static func addressKey(_ address: String) -> String { "address:" + String(address.prefix(64)) }

    /// Throws `SignInThrottled` while the account's key (see `emailKey`) or the address waits.
    func check(account: String, address: String, in tx: Connection) throws {
        let rows = try tx.query("""
            SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::integer FROM sign_in_throttle
            WHERE key IN ($1, $2) AND blocked_until > now()
            """, [account, Self.addressKey(address)])
        if let seconds = try rows.first?.decode(0, as: Int.self) {
            throw SignInThrottled(retryAfter: max(1, seconds))
        }
    }

    /// Counts a failure against both keys, starting or lengthening their waits past the threshold.
    func recordFailure(account: String, address: String, in tx: Connection) throws {
        for (key, threshold) in [(account, accountThreshold), (Self.addressKey(address), addressThreshold)] {
            let failures = try tx.query("""
                INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1, 1, now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.last_failure_at < now() - $2 * interval '1 second' THEN 1 ELSE t.failures + 1 END,
                    last_failure_at = now()
                RETURNING failures
                """, [key, window])[0].require(0, as: Int.self)
            if failures >= threshold {
                let delay = min(longestDelay, firstDelay * pow(2, Double(min(failures - threshold, 20))))
                try tx.query("UPDATE sign_in_throttle SET blocked_until = now() + $2 * interval '1 second' WHERE key = $1",
                             [key, delay])
            }
        }
    }

    /// A correct password clears the account's count (not the address's).
    func recordSuccess(account: String, in tx: Connection) throws {
        try tx.query("DELETE FROM sign_in_throttle WHERE key = $1", [account])
    }
}
