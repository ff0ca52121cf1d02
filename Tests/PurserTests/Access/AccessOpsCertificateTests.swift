import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Certificate options as OpenSSH itself reads them: a grant under a policy that permits port
/// forwarding gets a certificate `ssh-keygen -L` lists with permit-port-forwarding (and one under a
/// policy that does not, without it), and sshd refuses a forwarding channel to the certificate
/// without it while opening one for the certificate with it. The clock stands two minutes behind
/// the real one, so grants approved now are live for sshd.
@Suite(.serialized) struct AccessOpsCertificateTests {
    let clock = SettableClock(LiveClock().now.addingTimeInterval(-120))
    let app: TestApp
    let acme: People
    let peer: SSHPeer
    let forwarding: UUID
    let plain: UUID

    init() throws {
        let clock = self.clock
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme")
        let made = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: clock.now)
        }
        peer = try SSHPeer(
            caPublicKey: made.publicKey, principals: [SSHPrincipal.forHost(tenantSlug: "acme", hostName: "gpu-a1", login: "ubuntu")],
            krl: try app.get(SitePage.sshKRL.template).body)
        var host = HostInput()
        (host.name, host.address, host.runtime, host.labels) = ("gpu-a1", "127.0.0.1", "vllm", ["group:train"])
        (host.sshPort, host.hostKeys) = (peer.port, [peer.hostKey])
        _ = try HostStore(database: app.app.database, clock: clock).create(host, tenant: acme.tenant, actor: .system)
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let forwarding = AccessPolicy(
            id: UUID(), name: "GPU with tunnels", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
            maxSeconds: 3600, permitPortForwarding: true)
        let plain = AccessPolicy(
            id: UUID(), name: "GPU shell", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
            maxSeconds: 3600)
        try store.save(forwarding, tenant: acme.tenant, actor: .system)
        try store.save(plain, tenant: acme.tenant, actor: .system)
        (self.forwarding, self.plain) = (forwarding.id, plain.id)
    }

    func send(_ method: String, _ path: String, token: String, _ json: String) throws -> [String: Any] {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(json.utf8))
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        #expect((200...201).contains(response.status), "\(method) \(path): \(response.status) \(body)")
        return body
    }

    /// An approved one-hour grant under `policy` for a fresh key, and its certificate.
    func certified(under policy: UUID) throws -> (key: OpenSSHEd25519Key, grant: String, certificate: String) {
        let requester = try app.app.tokens.create(
            user: acme.id("requester@acme.test"), tenant: acme.tenant, name: "t", scopes: [.accessRequest], lifetime: 3600, actor: .system
        ).token
        let approver = try app.app.tokens.create(
            user: acme.id("approver@acme.test"), tenant: acme.tenant, name: "t", scopes: [.accessApprove], lifetime: 3600, actor: .system
        ).token
        let key = OpenSSHEd25519Key()
        let asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(policy)", "reason": "look at the GPUs", "duration_seconds": 3600, "host": "gpu-a1", "public_key": "\#(key.publicKey.line)"}"#
        )
        let id = try #require(asked["id"] as? String)
        let approved = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        let grant = try #require((approved["grant"] as? [String: Any])?["id"] as? String)
        let signed = try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, "{}")
        return (key, grant, try #require(signed["certificate"] as? String))
    }

    /// What `ssh-keygen -L -f` prints for a certificate line.
    static func keygenList(_ certificate: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cert-\(UUID().uuidString)-cert.pub")
        defer { try? FileManager.default.removeItem(at: file) }
        try (certificate + "\n").write(to: file, atomically: true, encoding: .utf8)
        let listed = try ChildProcess.output(["/usr/bin/ssh-keygen", "-L", "-f", file.path])
        #expect(listed.status == 0, "\(listed.text)")
        return listed.text
    }

    /// `ssh -W` to sshd's own port through the host: a forwarding channel (direct-tcpip), which
    /// sshd opens only for a certificate that permits port forwarding.
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
        let open = try certified(under: forwarding)
        let shut = try certified(under: plain)

        let listed = try Self.keygenList(open.certificate)
        #expect(listed.contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate"), "\(listed)")
        #expect(listed.contains("Key ID: \"\(open.grant)\""), "\(listed)")
        #expect(listed.contains("acme.gpu-a1.ubuntu"))
        #expect(listed.contains("permit-port-forwarding") && listed.contains("permit-pty"), "\(listed)")
        let without = try Self.keygenList(shut.certificate)
        #expect(without.contains("permit-pty"), "\(without)")
        #expect(!without.contains("permit-port-forwarding"), "\(without)")

        // sshd opens a forwarding channel only for the certificate that permits it: through it,
        // the client reads sshd's own banner; the other is refused by sshd.
        let tunnel = try forward(open.key, open.certificate)
        #expect(tunnel.output.hasPrefix("SSH-2.0-OpenSSH"), "\(tunnel.errors)\n\(peer.logText)")
        let refused = try forward(shut.key, shut.certificate)
        #expect(refused.status == 255 && !refused.output.hasPrefix("SSH-2.0"), "\(refused.output)")
        #expect(refused.errors.contains("administratively prohibited") || refused.errors.contains("forwarding failed"), "\(refused.errors)")
    }
}
