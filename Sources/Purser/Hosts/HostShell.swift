// Purser's own SSH to a host: not standing access either. Each use makes a key for the one
// connection, signs a certificate for Purser's principal on that host (`_purser.<host>`) valid for
// five minutes, restricted by force-command to the one command it runs and by source-address to
// Purser's nodes, runs it through the World's SSH, and audits it. The private key exists only in
// memory and in the client's 0600 temporary file while the connection lasts.
import Foundation
import OpenSSHFormats
import Postgres

struct HostShell: Sendable {
    let database: Database
    let keyring: Keyring
    let world: World

    /// How long Purser's certificate is valid; a minute of it is allowed before now for clock skew.
    static let validity: TimeInterval = 300
    /// How long one command may take, connection included.
    static let timeout: TimeInterval = 20

    /// Runs `command` on `host` for `purpose` (health, drain, undrain) and records the use.
    func run(_ command: String, purpose: String, on host: GPUHost) throws -> SSHOutcome {
        guard !world.ssh.sourceAddresses.isEmpty else {
            throw PermanentJobFailure(
                "PURSER_SSH_SOURCE_ADDRESSES is not set: Purser signs its own certificates only for its nodes' addresses")
        }
        let authority = try SSHCertificateAuthority.load(database: database, keyring: keyring)
        let key = OpenSSHEd25519Key()
        let serial = try database.pool.withConnection { try SSHCertificateAuthority.nextSerial($0) }
        let keyID = "purser:\(purpose):\(host.id.postgresText):\(serial)"
        // sshd judges the window by the host's real clock, so it is signed from the live clock.
        let signedAt = LiveClock().now
        let certificate = try authority.sign(
            publicKey: key.publicKey, keyID: keyID, serial: serial, principals: [SSHPrincipal.purser(hostName: host.name)],
            validAfter: signedAt - 60, validBefore: signedAt + Self.validity, permitPTY: false, permitPortForwarding: false,
            sourceAddress: world.ssh.sourceAddresses, forceCommand: command)
        let outcome = try world.ssh.run(
            command, on: host.destination,
            with: SSHCredentials(privateKeyFile: key.privateKeyFile(comment: keyID), certificate: certificate),
            timeout: Self.timeout)
        try HostStore.transaction(for: host.tenant, in: database) { tx in
            try AuditLog.record(
                AuditEvent(
                    tenant: host.tenant, actor: .system, action: "host.ssh", targetType: "host", targetID: host.id.postgresText,
                    after: try JSONText(encoding: [
                        "purpose": purpose, "command": command, "key_id": keyID, "serial": String(serial),
                        "principal": SSHPrincipal.purser(hostName: host.name), "address": host.address + ":" + String(host.sshPort),
                        "status": outcome.timedOut ? "timed out" : String(outcome.status),
                    ]), at: world.now), in: tx)
        }
        return outcome
    }
}
