import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Certificate options as OpenSSH itself reads them, on AccessSSHTests' sshd and policies: a grant
/// under the policy that permits port forwarding gets a certificate `ssh-keygen -L` lists with
/// permit-port-forwarding (and one under the plain policy, without it), and sshd refuses a
/// forwarding channel to the certificate without it while opening one for the certificate with it.
extension AccessSSHTests {
    /// A grant's certificate under `policy`, for a fresh key.
    func certified(under policy: UUID) throws -> (key: OpenSSHEd25519Key, grant: String, certificate: String) {
        let (key, grant, requester) = try granted(seconds: 3600, under: policy)
        let signed = try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, "{}")
        #expect(signed.status == 200, "\(signed.body)")
        return (key, grant, try #require(signed.body["certificate"] as? String))
    }

    /// `ssh -W` to sshd's own port through the host: a forwarding channel (direct-tcpip), which
    /// sshd opens only for a certificate that permits port forwarding (a forced command governs
    /// sessions, not forwarding).
    func forward(_ key: OpenSSHEd25519Key, _ certificate: String) throws -> SSHOutcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("id_ed25519")
        FileManager.default.createFile(
            atPath: keyFile.path, contents: Data(key.privateKeyFile().utf8), attributes: [.posixPermissions: 0o600])
        try (certificate + "\n").write(to: folder.appendingPathComponent("id_ed25519-cert.pub"), atomically: true, encoding: .utf8)
        try "[127.0.0.1]:\(peer.port) \(peer.hostKey)\n".write(
            to: folder.appendingPathComponent("known_hosts"), atomically: true, encoding: .utf8)
        return try OpenSSHClient.execute(
            "/usr/bin/ssh",
            [
                "-F", "/dev/null", "-i", keyFile.path, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=" + folder.appendingPathComponent("known_hosts").path, "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", "-o", "ExitOnForwardFailure=yes",
                "-p", String(peer.port), "-l", peer.login, "-W", "127.0.0.1:\(peer.port)", "127.0.0.1",
            ], errorsTo: folder.appendingPathComponent("errors"), timeout: 15)
    }

    @Test func portForwardingIsInTheCertificateOnlyWhenThePolicyPermitsItAndSshdHoldsToThat() throws {
        let open = try certified(under: forced)
        let shut = try certified(under: policy)

        let listed = try OpenSSHListing.keygen(open.certificate)
        #expect(listed.contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate"), "\(listed)")
        #expect(listed.contains("Key ID: \"\(open.grant)\""), "\(listed)")
        #expect(listed.contains("acme.gpu-a1.ubuntu"))
        #expect(listed.contains("permit-port-forwarding") && listed.contains("permit-pty"), "\(listed)")
        let without = try OpenSSHListing.keygen(shut.certificate)
        #expect(without.contains("permit-pty"), "\(without)")
        #expect(!without.contains("permit-port-forwarding"), "\(without)")

        // Through the forwarding channel the client reads sshd's own banner; without the
        // extension sshd refuses the channel.
        let tunnel = try forward(open.key, open.certificate)
        #expect(tunnel.output.hasPrefix("SSH-2.0-OpenSSH"), "\(tunnel.errors)\n\(peer.logText)")
        let refused = try forward(shut.key, shut.certificate)
        #expect(refused.status == 255 && !refused.output.hasPrefix("SSH-2.0"), "\(refused.output)")
        #expect(refused.errors.contains("administratively prohibited") || refused.errors.contains("forwarding failed"), "\(refused.errors)")
    }
}

/// What `ssh-keygen -L -f` prints for a certificate line: OpenSSH's own reading of it.
enum OpenSSHListing {
    static func keygen(_ certificate: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cert-\(UUID().uuidString)-cert.pub")
        defer { try? FileManager.default.removeItem(at: file) }
        try (certificate + "\n").write(to: file, atomically: true, encoding: .utf8)
        let listed = try ChildProcess.output(["/usr/bin/ssh-keygen", "-L", "-f", file.path])
        #expect(listed.status == 0, "\(listed.text)")
        return listed.text
    }
}
