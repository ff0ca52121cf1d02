// Secrets at rest (provider credentials, the SSH CA key) sealed with AES-256-GCM under the master
// key. Each sealed value names the key that sealed it, so keys can be rotated: the first key of the
// ring seals, every key of the ring opens.
import Crypto
import Foundation

public struct Keyring: Sendable {
    public struct Key: Sendable {
        public let id: String
        /// Raw bytes: swift-crypto's SymmetricKey is not Sendable, so one is made per use.
        let bytes: [UInt8]
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    public enum KeyringError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case unknownKey(String)
        case tampered

        public var description: String {
            switch self {
            case .malformed(let why): "PURSER_MASTER_KEY: \(why)"
            case .unknownKey(let id): "the value was sealed with key '\(id)', which is not in PURSER_MASTER_KEY"
            case .tampered: "the sealed value does not authenticate (altered, or sealed for another purpose)"
            }
        }
    }

    /// Keys in order; the first seals.
    public let keys: [Key]

    /// Parses `base64` (one key, id `k1`) or `id:base64,id:base64,…`; each key is 32 random bytes.
    /// The error never contains key material.
    public init(parsing text: String) throws {
        let entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !entries.isEmpty else { throw KeyringError.malformed("no key given") }
        var keys: [Key] = []
        for (index, entry) in entries.enumerated() {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            let id = parts.count == 2 ? parts[0] : "k\(index + 1)"
            let encoded = parts.count == 2 ? parts[1] : parts[0]
            guard !id.isEmpty, id.utf8.count <= 32, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw KeyringError.malformed("key \(index + 1): an id is letters, digits, '-' or '_' (at most 32)")
            }
            guard let bytes = Data(base64Encoded: encoded), bytes.count == 32 else {
                throw KeyringError.malformed("key \(index + 1) (\(id)): expected 32 bytes in base64 (openssl rand -base64 32)")
            }
            guard !keys.contains(where: { $0.id == id }) else { throw KeyringError.malformed("the key id \(id) appears twice") }
            keys.append(Key(id: id, bytes: Array(bytes)))
        }
        self.keys = keys
    }

    /// A fresh single-key ring in the format `init(parsing:)` reads, for `purser dev`.
    public static func generateText(id: String = "k1") -> String {
        let key = SymmetricKey(size: .bits256)
        return id + ":" + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Seals `plaintext`; `context` (e.g. "provider-credentials:<id>") is authenticated but not
    /// stored, so a value copied to another row or purpose fails to open.
    public func seal(_ plaintext: [UInt8], context: String) throws -> SealedValue {
        let key = keys[0]
        let box = try AES.GCM.seal(plaintext, using: key.key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw KeyringError.tampered }
        return SealedValue(keyID: key.id, combined: Array(combined))
    }

    public func open(_ sealed: SealedValue, context: String) throws -> [UInt8] {
        guard let key = keys.first(where: { $0.id == sealed.keyID }) else { throw KeyringError.unknownKey(sealed.keyID) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.combined)
            return Array(try AES.GCM.open(box, using: key.key, authenticating: Array(context.utf8)))
        } catch {
            throw KeyringError.tampered
        }
    }

    /// Opens with whichever key sealed it and seals again under the first key (key rotation).
    public func reseal(_ sealed: SealedValue, context: String) throws -> SealedValue {
        try seal(try open(sealed, context: context), context: context)
    }

    /// HMAC-SHA256 under the first key, for values that must be checked but not hidden (audit checkpoints).
    public func authenticate(_ message: [UInt8]) -> (keyID: String, tag: [UInt8]) {
        (keys[0].id, Array(HMAC<SHA256>.authenticationCode(for: message, using: keys[0].key)))
    }

    public func verify(_ message: [UInt8], keyID: String, tag: [UInt8]) -> Bool {
        guard let key = keys.first(where: { $0.id == keyID }) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: message, using: key.key)
    }
}

/// A sealed secret as stored: the sealing key's id and nonce ‖ ciphertext ‖ tag.
public struct SealedValue: Sendable, Equatable {
    public let keyID: String
    public let combined: [UInt8]

    public init(keyID: String, combined: [UInt8]) {
        self.keyID = keyID
        self.combined = combined
    }

    /// `keyID.base64`, for a single text column.
    public var text: String { keyID + "." + Data(combined).base64EncodedString() }

    public init?(text: String) {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let data = Data(base64Encoded: String(parts[1])) else { return nil }
        self.init(keyID: String(parts[0]), combined: Array(data))
    }
}
