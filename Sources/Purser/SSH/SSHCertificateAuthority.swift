// Purser's SSH certificate authority: one Ed25519 key, sealed with the master key in
// ssh_certificate_authority and opened only in memory to sign. It signs user certificates for
// grants (people, for the grant's window) and for Purser's own health and drain commands (minutes).
// Hosts trust its public key (TrustedUserCAKeys) and its KRL (RevokedKeys); docs/access.md.
import Foundation
import OpenSSHFormats
import Postgres

public struct SSHCertificateAuthority: Sendable {
    public let id: UUID
    let key: OpenSSHCAKey

    /// The CA's public key as one line, for `TrustedUserCAKeys`.
    public var publicKeyLine: String { key.publicKeyLine(comment: "purser-ssh-ca") }
    public var publicKey: OpenSSHPublicKey { key.publicKey }

    /// The installation's CA, opened with `keyring`.
    public static func load(database: Database, keyring: Keyring) throws -> SSHCertificateAuthority {
        let rows = try database.pool.query("SELECT id, sealed_key FROM ssh_certificate_authority")
        guard let row = rows.first else { throw SSHAuthorityError.notInitialized }
        let id = try row.require(0, as: UUID.self)
        let seed = try SealedColumn.sshAuthority.open(try row.require(1, as: String.self), row: id, keyring: keyring)
        return SSHCertificateAuthority(id: id, key: try OpenSSHCAKey(seed: seed))
    }

    /// The CA's public key line, or nil before `purser admin init-ssh-ca`.
    public static func publicKeyLine(database: Database) throws -> String? {
        try database.pool.query("SELECT public_key FROM ssh_certificate_authority").first?.require(0, as: String.self)
    }

    /// Makes the CA unless there is one (audited on the provider's chain); returns its public key
    /// line and whether it was made now. Idempotent: `purser dev` runs it at every start.
    @discardableResult
    public static func initialize(in tx: Connection, keyring: Keyring, at now: Date) throws -> (publicKey: String, created: Bool) {
        if let existing = try tx.query("SELECT public_key FROM ssh_certificate_authority FOR UPDATE").first {
            return (try existing.require(0, as: String.self), false)
        }
        let id = UUID.v7(at: now)
        let (key, seed) = OpenSSHCAKey.generate()
        let line = key.publicKeyLine(comment: "purser-ssh-ca")
        let inserted = try tx.query(
            """
            INSERT INTO ssh_certificate_authority (id, public_key, sealed_key, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (singleton) DO NOTHING RETURNING id
            """, [id, line, try SealedColumn.sshAuthority.seal(seed, row: id, keyring: keyring), now])
        guard !inserted.isEmpty else {
            // Another process made it between our look and our insert.
            return (try tx.query("SELECT public_key FROM ssh_certificate_authority").first!.require(0, as: String.self), false)
        }
        try AuditLog.record(
            AuditEvent(
                tenant: nil, actor: .system, action: "ssh.ca_created", targetType: "ssh_ca", targetID: id.postgresText,
                after: try JSONText(encoding: ["fingerprint": key.publicKey.fingerprint]), at: now), in: tx)
        return (line, true)
    }

    /// A serial for one certificate, unique across the CA (the KRL revokes by it).
    public static func nextSerial(_ tx: Connection) throws -> UInt64 {
        UInt64(try tx.query("SELECT nextval('ssh_certificate_serial')").first!.require(0, as: Int64.self))
    }

    /// Signs a user certificate for `publicKey`; returns it as one OpenSSH line
    /// (`<type>-cert-v01@openssh.com AAAA… <keyID>`), the content of an `id_…-cert.pub` file.
    /// `principals` come from `SSHPrincipal`; the window is the live clock's (sshd checks real time).
    public func sign(
        publicKey: OpenSSHPublicKey, keyID: String, serial: UInt64, principals: [String], validAfter: Date, validBefore: Date,
        permitPTY: Bool = true, permitPortForwarding: Bool = false, sourceAddress: [String] = [], forceCommand: String? = nil
    ) throws -> String {
        try OpenSSHUserCertificate(
            publicKey: publicKey, serial: serial, keyID: keyID, principals: principals, validAfter: validAfter,
            validBefore: validBefore, forceCommand: forceCommand, sourceAddresses: sourceAddress, permitPTY: permitPTY,
            permitPortForwarding: permitPortForwarding
        ).line(signedBy: key)
    }
}

public enum SSHAuthorityError: Error, CustomStringConvertible {
    case notInitialized

    public var description: String {
        switch self {
        case .notInitialized: "Purser's SSH certificate authority has not been made: run `purser admin init-ssh-ca`"
        }
    }
}

extension SealedColumn {
    /// The SSH CA's Ed25519 seed, bound to the CA's row.
    static let sshAuthority = SealedColumn(
        table: "ssh_certificate_authority", column: "sealed_key", storage: .text, rowColumns: ["id"]
    ) { "ssh-ca:" + $0[0] }
}
