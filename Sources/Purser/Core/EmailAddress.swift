// E-mail addresses as people type them into forms, checked by length first and then in one pass
// over their characters, never by a regular expression: a backtracking one took time growing with
// the square of a hostile address's length (`a@` followed by 10,000 dots and `@`: 0.57 s).
import Foundation

public enum EmailAddress {
    /// The longest address SMTP carries (RFC 5321: a 256-octet path less its angle brackets), in UTF-8 bytes.
    public static let maxLength = 254
    /// The longest list of addresses a notification channel takes, in UTF-8 bytes.
    public static let maxListLength = 2000

    /// True for one address: at most `maxLength` bytes, exactly one `@` with text before it, and after
    /// it a domain with a dot that is neither its first nor its last character; no white space, control
    /// character, `<`, `>` or `,` anywhere.
    public static func isValid(_ text: String) -> Bool {
        guard text.utf8.count <= maxLength else { return false }
        var localLength = 0
        var domainLength: Int?
        var firstInnerDot: Int?
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
                || scalar == "<" || scalar == ">" || scalar == ","
            {
                return false
            }
            if scalar == "@" {
                guard domainLength == nil else { return false }
                domainLength = 0
            } else if let length = domainLength {
                if scalar == ".", length > 0, firstInnerDot == nil { firstInnerDot = length }
                domainLength = length + 1
            } else {
                localLength += 1
            }
        }
        guard localLength > 0, let domainLength, let firstInnerDot else { return false }
        return firstInnerDot < domainLength - 1
    }

    /// What is wrong with a comma-separated list of addresses (the email channel's target), as a field
    /// error's detail, or nil when every address is good. Empty items between commas are skipped.
    public static func problem(inList text: String) -> String? {
        guard text.utf8.count <= maxListLength else { return "give at most 2,000 characters of email addresses" }
        let addresses = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !addresses.isEmpty, addresses.allSatisfy(isValid) else { return "give email addresses separated by commas" }
        return nil
    }
}
