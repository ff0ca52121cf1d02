// A user certificate in OpenSSH's format (PROTOCOL.certkeys), signed by an Ed25519 CA key. sshd
// checks every field here itself: the principals against AuthorizedPrincipalsFile, the validity
// window against its own clock, the key id and serial against the KRL in RevokedKeys, and the
// critical options it must obey.
import Crypto
import Foundation

public struct OpenSSHUserCertificate: Sendable {
    public var publicKey: OpenSSHPublicKey
    public var serial: UInt64
    public var keyID: String
    public var principals: [String]
    public var validAfter: Date
    public var validBefore: Date
    /// `force-command`: the only command the certificate may run.
    public var forceCommand: String?
    /// `source-address`: CIDR lists the client must connect from; empty means any.
    public var sourceAddresses: [String]
    public var permitPTY: Bool
    public var permitPortForwarding: Bool

    public init(
        publicKey: OpenSSHPublicKey, serial: UInt64, keyID: String, principals: [String], validAfter: Date, validBefore: Date,
        forceCommand: String? = nil, sourceAddresses: [String] = [], permitPTY: Bool = true, permitPortForwarding: Bool = false
    ) {
        self.publicKey = publicKey
        self.serial = serial
        self.keyID = keyID
        self.principals = principals
        self.validAfter = validAfter
        self.validBefore = validBefore
        self.forceCommand = forceCommand
        self.sourceAddresses = sourceAddresses
        self.permitPTY = permitPTY
        self.permitPortForwarding = permitPortForwarding
    }

    /// The certificate type's user value (2 is a host certificate).
    static let userType: UInt32 = 1
    /// What is written as the type: a user certificate unless OpenSSHHostCertificate makes a host one.
    var certificateType: UInt32 = userType

    /// Signs the certificate with `authority`; returns its wire blob. `nonce` is random unless given.
    public func signed(by authority: OpenSSHCAKey, nonce: [UInt8]? = nil) throws -> [UInt8] {
        guard !principals.isEmpty else { throw OpenSSHCertificateError.noPrincipals }
        guard validBefore > validAfter else { throw OpenSSHCertificateError.emptyWindow }
        var body = SSHWriter()
        body.string(publicKey.algorithm.certificateType)
        body.string(nonce ?? Array(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }))
        body.raw(publicKey.fieldsAfterName)
        body.uint64(serial)
        body.uint32(certificateType)
        body.string(keyID)
        var names = SSHWriter()
        for principal in principals { names.string(principal) }
        body.string(names.bytes)
        body.uint64(Self.seconds(validAfter))
        body.uint64(Self.seconds(validBefore))
        body.string(criticalOptions)
        body.string(extensions)
        body.string([UInt8]())  // reserved
        body.string(authority.publicBlob)
        let signature = try authority.signatureBlob(over: body.bytes)
        body.string(signature)
        return body.bytes
    }

    /// The certificate as one line of a `-cert.pub` file: type, base64, and the key id as comment.
    public func line(signedBy authority: OpenSSHCAKey) throws -> String {
        publicKey.algorithm.certificateType + " " + Data(try signed(by: authority)).base64EncodedString() + " " + keyID
    }

    /// Seconds since the epoch, as the certificate counts them (whole seconds, never negative).
    static func seconds(_ date: Date) -> UInt64 { UInt64(max(0, date.timeIntervalSince1970.rounded(.down))) }

    /// Critical options, sorted by name; each value is itself a string inside the data string.
    private var criticalOptions: [UInt8] {
        var options: [(String, String)] = []
        if let forceCommand { options.append(("force-command", forceCommand)) }
        if !sourceAddresses.isEmpty { options.append(("source-address", sourceAddresses.joined(separator: ","))) }
        var writer = SSHWriter()
        for (name, value) in options.sorted(by: { $0.0 < $1.0 }) {
            writer.string(name)
            var data = SSHWriter()
            data.string(value)
            writer.string(data.bytes)
        }
        return writer.bytes
    }

    /// Extensions, sorted by name; the flags carry empty data.
    private var extensions: [UInt8] {
        var names: [String] = []
        if permitPortForwarding { names.append("permit-port-forwarding") }
        if permitPTY { names.append("permit-pty") }
        var writer = SSHWriter()
        for name in names.sorted() {
            writer.string(name)
            writer.string([UInt8]())
        }
        return writer.bytes
    }
}

public enum OpenSSHCertificateError: Error, CustomStringConvertible {
    case noPrincipals
    case emptyWindow

    public var description: String {
        switch self {
        // A certificate without principals is valid for every user on a host that trusts the CA.
        case .noPrincipals: "a certificate must name at least one principal"
        case .emptyWindow: "the certificate's validity ends before it begins"
        }
    }
}
