// A host certificate in OpenSSH's format (PROTOCOL.certkeys, type 2): a host's own public key
// signed by the CA with the names clients reach it by as principals. A client whose known_hosts
// says `@cert-authority <pattern> <CA key>` accepts any host presenting one for the name it
// dialled, so no host key is pinned per host. No critical options or extensions are defined for
// host certificates; the encoding is the user certificate's with the other type.
import Foundation

public struct OpenSSHHostCertificate: Sendable {
    public var publicKey: OpenSSHPublicKey
    public var serial: UInt64
    public var keyID: String
    /// The host's names and addresses, as clients dial them (sshd's `HostKeyAlias` or the host name).
    public var principals: [String]
    public var validAfter: Date
    public var validBefore: Date

    public init(publicKey: OpenSSHPublicKey, serial: UInt64, keyID: String, principals: [String], validAfter: Date, validBefore: Date) {
        self.publicKey = publicKey
        self.serial = serial
        self.keyID = keyID
        self.principals = principals
        self.validAfter = validAfter
        self.validBefore = validBefore
    }

    static let hostType: UInt32 = 2

    /// The certificate as one line of a `-cert.pub` file (for sshd's `HostCertificate`).
    public func line(signedBy authority: OpenSSHCAKey) throws -> String {
        var certificate = OpenSSHUserCertificate(
            publicKey: publicKey, serial: serial, keyID: keyID, principals: principals, validAfter: validAfter, validBefore: validBefore,
            permitPTY: false)
        certificate.certificateType = Self.hostType
        return try certificate.line(signedBy: authority)
    }
}
