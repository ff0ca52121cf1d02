// Random secrets handed to people or browsers (session cookies, one-time links, recovery codes):
// generated from the system's CSPRNG, stored only as their SHA-256.
import Crypto
import Foundation

public enum RandomSecret {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `count` random bytes as unpadded base64url (URL- and cookie-safe).
    public static func base64url(_ count: Int = 32) -> String {
        encodeBase64url(bytes(count))
    }

    public static func encodeBase64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// What is stored in place of the secret.
    public static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// True when `text` could be a secret made by `base64url(32)`: 43 URL-safe characters.
    /// Anything else is refused before it reaches the database.
    public static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 43
            && bytes.allSatisfy {
                (97...122).contains($0) || (65...90).contains($0)
                    || (48...57).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
    }
}
