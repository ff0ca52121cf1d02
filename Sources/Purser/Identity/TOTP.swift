// Time-based one-time passwords (RFC 6238 over RFC 4226): SHA-1, 6 digits, 30-second steps,
// the parameters every authenticator app uses.
import Crypto
import Foundation

public struct TOTP: Sendable {
    public let secret: [UInt8]
    public let digits = 6
    public let period: TimeInterval = 30

    public init(secret: [UInt8]) { self.secret = secret }

    /// A new 160-bit secret (RFC 4226 recommends at least 128).
    public static func generate() -> TOTP {
        var generator = SystemRandomNumberGenerator()
        return TOTP(secret: (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The code for the time step containing `date`.
    public func code(at date: Date) -> String {
        code(step: UInt64(max(0, date.timeIntervalSince1970) / period))
    }

    func code(step: UInt64) -> String {
        let counter = (0..<8).map { UInt8(truncatingIfNeeded: step >> (56 - 8 * UInt64($0))) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: SymmetricKey(data: secret)))
        let offset = Int(mac[19] & 0x0F)
        let binary =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The time step `candidate` matches, allowing one step of clock drift either way; nil when it
    /// matches none. Callers store the step and refuse it again, so a code cannot be replayed.
    public func matchingStep(_ candidate: String, at date: Date) -> UInt64? {
        let digitsOnly = candidate.filter { !$0.isWhitespace }
        guard digitsOnly.count == digits, digitsOnly.allSatisfy(\.isASCII), digitsOnly.allSatisfy(\.isNumber) else { return nil }
        let current = UInt64(max(0, date.timeIntervalSince1970) / period)
        for step in [current, current &- 1, current + 1] where constantTimeEquals(code(step: step), digitsOnly) {
            return step
        }
        return nil
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code.
    public func provisioningURI(account: String, issuer: String) -> String {
        func escape(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? text
        }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(Base32.encode(secret))&issuer=\(escape(issuer))"
            + "&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}

/// RFC 4648 base32 without padding, as authenticator apps expect secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil when `text` holds a character outside the alphabet (case, spaces and padding are forgiven).
    public static func decode(_ text: String) -> [UInt8]? {
        var out = [UInt8]()
        var buffer = 0, bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") && character != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5 | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}
