// Passwords as NIST SP 800-63B asks: long enough, not absurdly long, not common, not the
// account's own name or address; no composition rules (they make passwords worse, not stronger).
import Foundation

public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 256

    /// Why `password` is refused, in words for the person choosing it; nil when it is acceptable.
    /// Length counts characters as people see them, not bytes.
    public static func problem(with password: String, email: String? = nil, name: String? = nil) -> String? {
        let length = password.count
        if length < minimumLength {
            return "Use at least \(minimumLength) characters; a few unrelated words make a strong password."
        }
        if length > maximumLength {
            return "Use at most \(maximumLength) characters."
        }
        let lowered = password.lowercased()
        if isCommon(lowered) {
            return "That password is among the most common ones attackers try first; choose another."
        }
        if Set(lowered).count <= 2 {
            return "That password repeats one or two characters; choose another."
        }
        let personal = [email, email?.split(separator: "@").first.map(String.init), name]
            .compactMap { $0?.lowercased() }.filter { $0.count >= 4 }
        if personal.contains(where: { lowered.contains($0) }) {
            return "Don't use your name or email address in your password."
        }
        return nil
    }

    /// In the common list as it is, with digits and symbols stripped from its end, or as a repeat of a common one.
    static func isCommon(_ lowered: String) -> Bool {
        if CommonPasswords.list.contains(Substring(lowered)) { return true }
        let stem = lowered.reversed().drop { !$0.isLetter }.reversed()
        if stem.count >= 3, CommonPasswords.list.contains(Substring(String(stem))) { return true }
        for unit in 1...(lowered.count / 2) where lowered.count % unit == 0 {
            let piece = lowered.prefix(unit)
            if String(repeating: String(piece), count: lowered.count / unit) == lowered,
                unit < 4 || CommonPasswords.list.contains(piece)
            {
                return true
            }
        }
        return false
    }
}
