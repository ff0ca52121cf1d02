// The token string: `pur_<lookup>_<secret>`. The lookup (12 base32 characters, 60 random bits)
// finds the row; the secret (32 random bytes, base64url) is stored only as its SHA-256.
import Foundation

public struct APITokenSecret: Sendable, Equatable {
    public let lookup: String
    public let secret: String

    /// The string handed to the person once.
    public var text: String { "pur_\(lookup)_\(secret)" }

    public static func generate() -> APITokenSecret {
        let lookup = String(Base32.encode(RandomSecret.bytes(8)).lowercased().prefix(12))
        return APITokenSecret(lookup: lookup, secret: RandomSecret.base64url(32))
    }

    /// Nil when `text` is not shaped like a Purser token (then it cannot be one).
    public init?(text: String) {
        // Checked as bytes: Character properties are far slower, and this runs per API request.
        let bytes = Array(text.utf8)
        guard bytes.count == 4 + 12 + 1 + 43, bytes.starts(with: Array("pur_".utf8)), bytes[16] == UInt8(ascii: "_"),
            bytes[4..<16].allSatisfy({ (97...122).contains($0) || (50...55).contains($0) }),
            bytes[17...].allSatisfy({
                (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0)
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            })
        else { return nil }
        self.init(lookup: String(decoding: bytes[4..<16], as: UTF8.self), secret: String(decoding: bytes[17...], as: UTF8.self))
    }

    init(lookup: String, secret: String) {
        self.lookup = lookup
        self.secret = secret
    }

    var secretHash: [UInt8] { RandomSecret.hash(secret) }
}
