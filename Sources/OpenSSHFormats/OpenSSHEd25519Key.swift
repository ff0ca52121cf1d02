// A throwaway Ed25519 key pair for one SSH connection: its public half is what a certificate
// certifies, its private half is written (unencrypted, openssh-key-v1) to a 0600 file for `ssh -i`
// and deleted after the connection.
import Crypto
import Foundation

public struct OpenSSHEd25519Key: Sendable {
    private let seed: [UInt8]

    public init() { seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation) }

    private var privateKey: Curve25519.Signing.PrivateKey {
        // The seed was made by swift-crypto.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public var publicKey: OpenSSHPublicKey {
        var writer = SSHWriter()
        writer.string("ssh-ed25519")
        writer.string(Array(privateKey.publicKey.rawRepresentation))
        // A blob written here is well formed.
        return try! OpenSSHPublicKey(blob: writer.bytes)
    }

    /// The private key file as ssh-keygen writes one without a passphrase (PROTOCOL.key).
    public func privateKeyFile(comment: String = "") -> String {
        let publicRaw = Array(privateKey.publicKey.rawRepresentation)
        var secret = SSHWriter()
        // Two equal check words; ssh compares them to detect a wrong passphrase.
        let check = UInt32.random(in: 0...UInt32.max)
        secret.uint32(check)
        secret.uint32(check)
        secret.string("ssh-ed25519")
        secret.string(publicRaw)
        secret.string(seed + publicRaw)
        secret.string(comment)
        var padding: UInt8 = 1
        while secret.bytes.count % 8 != 0 {
            secret.byte(padding)
            padding += 1
        }
        var file = SSHWriter()
        file.raw(Array("openssh-key-v1".utf8) + [0])
        file.string("none")
        file.string("none")
        file.string([UInt8]())
        file.uint32(1)
        file.string(publicKey.blob)
        file.string(secret.bytes)
        let encoded = Data(file.bytes).base64EncodedString()
        var lines = ["-----BEGIN OPENSSH PRIVATE KEY-----"]
        var rest = Substring(encoded)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(70)))
            rest = rest.dropFirst(70)
        }
        lines.append("-----END OPENSSH PRIVATE KEY-----")
        return lines.joined(separator: "\n") + "\n"
    }
}
