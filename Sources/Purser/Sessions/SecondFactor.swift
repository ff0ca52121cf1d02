// The second factor: TOTP (RFC 6238) with ten recovery codes. The secret is sealed under the
// master key, bound to its user; a time step is accepted once; recovery codes are stored hashed
// and each works once.
import Foundation
import Postgres

public struct SecondFactor: Sendable {
    let database: Database
    let keyring: Keyring
    /// The time of day codes are judged by (their 30-second steps).
    let clock: any WallClock

    public init(database: Database, keyring: Keyring, clock: any WallClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// Staff and tenant admins must use a second factor; others may.
    public static func isRequired(staffRole: StaffRole?, roles: [CustomerRole]) -> Bool {
        staffRole != nil || roles.contains(.tenantAdmin)
    }

    /// The secret being set up for `user`: the pending one if there is one (a reload shows the same
    /// secret), otherwise a new one. Nil when the second factor is already on.
    public func pendingSecret(user: UUID) throws -> TOTP? {
        try database.pool.transaction { tx in
            let row = try tx.query(
                "SELECT totp_secret, totp_enabled_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE",
                [user])[0]
            if try row.require(1, as: Bool.self) { return nil }
            if let text = try row.decode(0, as: String.self),
                let secret = try? SealedColumn.secondFactor.open(text, row: user, keyring: keyring)
            {
                return TOTP(secret: secret)
            }
            let totp = TOTP.generate()
            let sealed = try SealedColumn.secondFactor.seal(totp.secret, row: user, keyring: keyring)
            try tx.query("UPDATE users SET totp_secret = $2 WHERE id = $1", [user, sealed])
            return totp
        }
    }

    /// Turns the second factor on when `code` matches the pending secret; returns the recovery
    /// codes, shown once. A wrong code is a 422 on `code`.
    public func confirm(user: UUID, code: String, audit: AuditEvent) throws -> [String] {
        try database.pool.transaction { tx in
            let row = try tx.query("SELECT totp_secret FROM users WHERE id = $1 AND totp_enabled_at IS NULL FOR UPDATE", [user])
            guard let text = try row.first?.decode(0, as: String.self) else {
                throw ValidationError(field: "code", "the second factor is already on, or setup has not started")
            }
            let totp = TOTP(secret: try SealedColumn.secondFactor.open(text, row: user, keyring: keyring))
            let now = clock.now
            guard let step = totp.matchingStep(code, at: now) else {
                throw ValidationError(field: "code", "that code does not match; check the clock of the device and try the next code")
            }
            try tx.query("UPDATE users SET totp_enabled_at = $3, totp_last_step = $2 WHERE id = $1", [user, Int64(step), now])
            let codes = try replaceRecoveryCodes(user: user, in: tx)
            try AuditLog.record(audit, in: tx)
            return codes
        }
    }

    /// Checks a TOTP code or a recovery code for `user` inside `tx`; true when it is accepted (and
    /// now used up).
    func accept(_ input: String, user: UUID, in tx: Connection) throws -> Bool {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        let now = clock.now
        let row = try tx.query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1 FOR UPDATE", [user])[0]
        if trimmed.filter({ !$0.isWhitespace }).count == 6, let text = try row.decode(0, as: String.self) {
            let totp = TOTP(secret: try SealedColumn.secondFactor.open(text, row: user, keyring: keyring))
            guard let step = totp.matchingStep(trimmed, at: now) else { return false }
            // A step at or before the last accepted one is a replay.
            if let last = try row.decode(1, as: Int64.self), Int64(step) <= last { return false }
            try tx.query("UPDATE users SET totp_last_step = $2 WHERE id = $1", [user, Int64(step)])
            return true
        }
        let normalized = Self.normalizeRecoveryCode(trimmed)
        guard normalized.count == 12 else { return false }
        return try tx.query(
            """
            UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
            """, [user, Bytea(RandomSecret.hash(normalized)), now]
        ).affected == 1
    }

    /// Ten new recovery codes (`xxxx-xxxx-xxxx`, 60 random bits each); the old ones stop working.
    func replaceRecoveryCodes(user: UUID, in tx: Connection) throws -> [String] {
        try tx.query("DELETE FROM recovery_codes WHERE user_id = $1", [user])
        var codes: [String] = []
        let now = clock.now
        for _ in 0..<10 {
            let raw = String(Base32.encode(RandomSecret.bytes(8)).lowercased().prefix(12))
            try tx.query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
                [user, Bytea(RandomSecret.hash(raw)), now])
            let chars = Array(raw)
            codes.append(String(chars[0..<4]) + "-" + String(chars[4..<8]) + "-" + String(chars[8..<12]))
        }
        return codes
    }

    public func remainingRecoveryCodes(user: UUID) throws -> Int {
        try database.pool.query("SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL", [user])[0]
            .require(0, as: Int.self)
    }

    /// Turns the second factor off inside `tx` (the caller has checked a current code).
    func disable(user: UUID, audit: AuditEvent, in tx: Connection) throws {
        try tx.query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1", [user])
        try tx.query("DELETE FROM recovery_codes WHERE user_id = $1", [user])
        try AuditLog.record(audit, in: tx)
    }

    static func normalizeRecoveryCode(_ text: String) -> String {
        text.lowercased().filter { $0 != "-" && !$0.isWhitespace }
    }
}
