// The token string: `pur_<lookup>_<secret>`. The lookup (12 base32 characters, 60 random bits)
// finds the row; the secret (32 random bytes, base64url) is stored only as its SHA-256.
import Crypto
import Foundation

public struct APITokenSecret: Sendable, Equatable {
    public let lookup: String
    public let secret: String

    /// The string handed to the person once.
    public var text: String { "pur_\(lookup)_\(secret)" }

    public static func generate() -> APITokenSecret {
        var generator = SystemRandomNumberGenerator()
        let lookupBytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let lookup = String(Base32.encode(lookupBytes).lowercased().prefix(12))
        let secret = Data(secretBytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return APITokenSecret(lookup: lookup, secret: secret)
    }

    /// Nil when `text` is not shaped like a Purser token (then it cannot be one).
    public init?(text: String) {
        let parts = text.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "pur", parts[1].count == 12, parts[2].count == 43,
              parts[1].allSatisfy({ ("a"..."z").contains($0) || ("2"..."7").contains($0) }),
              parts[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        self.init(lookup: String(parts[1]), secret: String(parts[2]))
    }

    init(lookup: String, secret: String) {
        self.lookup = lookup
        self.secret = secret
    }

    var secretHash: [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }
}
