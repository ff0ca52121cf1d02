// A key revocation list in OpenSSH's format (PROTOCOL.krl), as sshd reads it from RevokedKeys:
// certificates of one CA revoked by serial and by key id. sshd refuses a revoked certificate even
// inside its validity window, so an early revocation takes effect once hosts hold the new list.
import Foundation

public struct OpenSSHKRL: Sendable {
    /// "SSHKRL\n\0".
    static let magic: UInt64 = 0x5353_484b_524c_0a00
    static let formatVersion: UInt32 = 1
    static let sectionCertificates: UInt8 = 1
    static let certificateSerialList: UInt8 = 0x20
    static let certificateKeyID: UInt8 = 0x23

    /// Grows with every change, so hosts can tell a newer list.
    public var version: UInt64
    public var generated: Date
    public var comment: String
    /// The CA whose certificates these are.
    public var authority: OpenSSHPublicKey
    public var serials: [UInt64]
    public var keyIDs: [String]

    public init(version: UInt64, generated: Date, comment: String = "", authority: OpenSSHPublicKey, serials: [UInt64], keyIDs: [String]) {
        self.version = version
        self.generated = generated
        self.comment = comment
        self.authority = authority
        self.serials = serials
        self.keyIDs = keyIDs
    }

    /// The list's bytes. Serials and key ids are written sorted and once each (serial 0 is never
    /// issued and is left out).
    public var bytes: [UInt8] {
        var writer = SSHWriter()
        writer.uint64(Self.magic)
        writer.uint32(Self.formatVersion)
        writer.uint64(version)
        writer.uint64(OpenSSHUserCertificate.seconds(generated))
        writer.uint64(0)  // flags
        writer.string([UInt8]())  // reserved
        writer.string(comment)
        let serials = Set(serials.filter { $0 != 0 }).sorted()
        let keyIDs = Set(keyIDs).sorted()
        guard !serials.isEmpty || !keyIDs.isEmpty else { return writer.bytes }
        var section = SSHWriter()
        section.string(authority.blob)
        section.string([UInt8]())  // reserved
        if !serials.isEmpty {
            var list = SSHWriter()
            for serial in serials { list.uint64(serial) }
            section.byte(Self.certificateSerialList)
            section.string(list.bytes)
        }
        if !keyIDs.isEmpty {
            var list = SSHWriter()
            for keyID in keyIDs { list.string(keyID) }
            section.byte(Self.certificateKeyID)
            section.string(list.bytes)
        }
        writer.byte(Self.sectionCertificates)
        writer.string(section.bytes)
        return writer.bytes
    }
}
