// A certificate authority's Ed25519 key: it signs user certificates and KRLs. The private half is
// 32 bytes the caller keeps sealed; this type never writes it anywhere.
import Crypto
import Foundation

public struct OpenSSHCAKey: Sendable {
    /// The 32-byte Ed25519 seed (`Curve25519.Signing.PrivateKey.rawRepresentation`).
    private let seed: [UInt8]

    public init(seed: [UInt8]) throws {
        _ = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        self.seed = seed
    }

    /// A new random key; `seed` is what to seal and keep.
    public static func generate() -> (key: OpenSSHCAKey, seed: [UInt8]) {
        let seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        // The seed was just made by swift-crypto, so it is a valid key.
        return (try! OpenSSHCAKey(seed: seed), seed)
    }

    private var privateKey: Curve25519.Signing.PrivateKey {
        // Checked in init.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The public key's wire blob (`string "ssh-ed25519", string key`).
    public var publicBlob: [UInt8] {
        var writer = SSHWriter()
        writer.string("ssh-ed25519")
        writer.string(Array(privateKey.publicKey.rawRepresentation))
        return writer.bytes
    }

    /// The public key as one authorized_keys line, for `TrustedUserCAKeys`.
    public func publicKeyLine(comment: String) -> String {
        "ssh-ed25519 " + Data(publicBlob).base64EncodedString() + (comment.isEmpty ? "" : " " + comment)
    }

    public var publicKey: OpenSSHPublicKey {
        // A blob this type wrote is well formed.
        try! OpenSSHPublicKey(blob: publicBlob)
    }

    /// An SSH signature blob over `message` (`string "ssh-ed25519", string signature`).
    func signatureBlob(over message: [UInt8]) throws -> [UInt8] {
        var writer = SSHWriter()
        writer.string("ssh-ed25519")
        writer.string(Array(try privateKey.signature(for: message)))
        return writer.bytes
    }
}
