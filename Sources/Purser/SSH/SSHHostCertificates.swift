// Host certificates: Purser's CA signs a GPU host's own public key as a host certificate whose
// principals are the host's name and address, so clients (people's ssh, and Purser's own client)
// trust every host through one `@cert-authority` line in known_hosts instead of a pinned key per
// host. Staff only (providers.manage, hosts:write): the CA is the provider's, across tenants. The
// host presents it with sshd's `HostCertificate`; docs/access.md gives both lines. Each signing is
// audited in the host's chain with its serial and the key's fingerprint.
import Foundation
import struct HTTPServer.FieldError
import OpenSSHFormats
import Postgres

struct SSHHostCertificates: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any WallClock

    /// A certificate is valid this long unless asked otherwise; at most `longestDays`.
    static let defaultDays = 90
    static let longestDays = 366
    /// Signed this long before now, for hosts whose clocks run a little behind.
    static let skew: TimeInterval = 300

    struct Signed: Sendable {
        let certificate: String
        let serial: UInt64
        let principals: [String]
        let validAfter: Date
        let validBefore: Date
        let knownHosts: String
    }

    /// Signs `publicKeyLine` (the host's, e.g. /etc/ssh/ssh_host_ed25519_key.pub) for `host`.
    func sign(_ host: UUID, reach: HostStore.Reach, publicKeyLine: String?, days: Int, actor: AuditActor) throws -> Signed {
        // The host first: another tenant's is not found, whatever the body says.
        let host = try HostStore(database: database, clock: clock).find(host, reach)
        var errors: [FieldError] = []
        var key: OpenSSHPublicKey?
        do {
            key = try OpenSSHPublicKey(parsing: (publicKeyLine ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            errors.append(FieldError(field: "public_key", detail: error.description))
        }
        if !(1...Self.longestDays).contains(days) {
            errors.append(FieldError(field: "validity_days", detail: "choose 1 to \(Self.longestDays) days"))
        }
        guard let key, errors.isEmpty else { throw ValidationError(errors) }
        let authority = try SSHCertificateAuthority.load(database: database, keyring: keyring)
        let now = clock.now
        // The names a client dials the host by: its name and its address (once, if they are one).
        let principals = host.name == host.address ? [host.name] : [host.name, host.address]
        let validAfter = now.addingTimeInterval(-Self.skew)
        let validBefore = now.addingTimeInterval(TimeInterval(days) * 86400)
        return try HostStore.transaction(for: host.tenant, in: database) { tx in
            let serial = try SSHCertificateAuthority.nextSerial(tx)
            let keyID = "host:\(host.id.postgresText):\(serial)"
            let certificate = try OpenSSHHostCertificate(
                publicKey: key, serial: serial, keyID: keyID, principals: principals, validAfter: validAfter, validBefore: validBefore
            ).line(signedBy: authority.key)
            try AuditLog.record(
                AuditEvent(
                    tenant: host.tenant, actor: actor, action: "host.certificate", targetType: "host", targetID: host.id.postgresText,
                    after: try JSONText(encoding: [
                        "serial": String(serial), "fingerprint": key.fingerprint, "principals": principals.joined(separator: ","),
                        "valid_before": RFC3339.string(validBefore),
                    ]), at: now), in: tx)
            return Signed(
                certificate: certificate, serial: serial, principals: principals, validAfter: validAfter, validBefore: validBefore,
                knownHosts: Self.knownHostsLine(principals: principals, port: host.sshPort, authority: authority.publicKeyLine))
        }
    }

    /// The known_hosts line that trusts every certificate of `authority` for these names (with the
    /// port in OpenSSH's `[name]:port` form when it is not 22).
    static func knownHostsLine(principals: [String], port: Int, authority: String) -> String {
        let patterns = principals.map { port == 22 ? $0 : "[\($0)]:\(port)" }
        return "@cert-authority " + patterns.joined(separator: ",") + " " + authority
    }
}
