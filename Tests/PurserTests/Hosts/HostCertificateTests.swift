import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Host certificates from Purser's CA: staff sign a host's own key (POST /api/v1/hosts/{id}/
/// host-certificate), ssh-keygen reads it back as a host certificate for the host's name and
/// address, and Purser's own OpenSSH client reaches a real sshd presenting it through one
/// `@cert-authority` known-hosts line with no key pinned — and refuses the same host under a name
/// its certificate does not list.
@Suite(.serialized) struct HostCertificateTests {
    let app: TestApp
    let staff: People
    let authority: SSHCertificateAuthority
    let host: GPUHost
    let ssh = OpenSSHClient(sourceAddresses: ["127.0.0.1/32"])

    init() throws {
        // Hosts and ssh judge certificate windows by the real time: a clock a little behind it.
        let clock = SettableClock(LiveClock().now.addingTimeInterval(-120))
        app = try TestApp(clock: clock)
        staff = try People(app, slug: "acme", staff: true)
        _ = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: clock.now)
        }
        authority = try SSHCertificateAuthority.load(database: app.app.database, keyring: TestEnvironment.keyring)
        var input = HostInput()
        (input.name, input.address, input.runtime, input.labels) = ("gpu-pool-7", "127.0.0.1", "vllm", ["pool"])
        // A key the host does not have: whatever connects below trusts the CA, not a pinned key.
        input.hostKeys = [OpenSSHEd25519Key().publicKey.line]
        host = try HostStore(database: app.app.database, clock: clock).create(input, tenant: nil, actor: .system)
    }

    func sign(_ publicKey: String, token: String? = nil, host: UUID? = nil, days: Int? = nil) throws -> (
        status: Int, body: [String: Any]
    ) {
        let token =
            try token
            ?? app.app.tokens.create(
                user: staff.id("platform_engineer@staff.test"), tenant: nil, name: "t", scopes: [.hostsWrite], lifetime: 3600,
                actor: .system
            ).token
        let body = try JSONSerialization.data(
            withJSONObject: ["public_key": publicKey].merging(days.map { ["validity_days": $0] } ?? [:]) { a, _ in a })
        let response = try app.send(
            "POST", APIPath.hostCertificate.path((host ?? self.host.id).postgresText),
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body))
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    @Test func aSignedHostCertificateIsReadBackAndTrustedThroughTheCA() throws {
        var signed: [String: Any] = [:]
        let peer = try SSHPeer(
            caPublicKey: authority.publicKeyLine, principals: [SSHPrincipal.purser(hostName: host.name)],
            krl: try app.get(SitePage.sshKRL.template).body,
            hostCertificate: { hostKey in
                let answer = try sign(hostKey)
                #expect(answer.status == 200, "\(answer.body)")
                signed = answer.body
                return answer.body["certificate"] as? String ?? ""
            })
        let certificate = try #require(signed["certificate"] as? String)
        #expect(signed["principals"] as? [String] == ["gpu-pool-7", "127.0.0.1"])
        #expect(signed["sshd_config"] as? String == "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub")
        #expect(signed["known_hosts"] as? String == "@cert-authority gpu-pool-7,127.0.0.1 " + authority.publicKeyLine)

        // ssh-keygen reads it as a host certificate of Purser's CA for the host's names.
        let listed = try OpenSSHListing.keygen(certificate)
        #expect(listed.contains("Type: ssh-ed25519-cert-v01@openssh.com host certificate"), "\(listed)")
        #expect(listed.contains("Signing CA: ED25519 \(authority.publicKey.fingerprint)"), "\(listed)")
        #expect(listed.contains("gpu-pool-7") && listed.contains("127.0.0.1"))
        #expect(listed.contains("Critical Options: (none)") && listed.contains("Extensions: (none)"), "\(listed)")

        // Purser's client, a user certificate for its own principal, and known_hosts holding only the CA.
        let key = OpenSSHEd25519Key()
        let now = LiveClock().now
        let user = try authority.sign(
            publicKey: key.publicKey, keyID: "purser:test", serial: 1, principals: [SSHPrincipal.purser(hostName: host.name)],
            validAfter: now - 60, validBefore: now + 300, permitPTY: false)
        let credentials = SSHCredentials(privateKeyFile: key.privateKeyFile(), certificate: user)
        func connect(as name: String) throws -> SSHOutcome {
            try ssh.run(
                "echo host-ca-ok",
                on: SSHDestination(
                    address: "127.0.0.1", port: peer.port, login: peer.login, hostKeys: [],
                    hostCertificateAuthority: (authority.publicKeyLine, name)), with: credentials, timeout: 15)
        }
        let trusted = try connect(as: host.name)
        #expect(trusted.status == 0, "\(trusted.errors)\n\(peer.logText)")
        #expect(trusted.output == "host-ca-ok\n")
        // The same host under a name its certificate does not list is not believed.
        let stranger = try connect(as: "gpu-pool-8")
        #expect(stranger.status == 255, "\(stranger.output)")
        // And the row's pinned key (which the host does not hold) would not have let Purser in.
        let pinned = try ssh.run(
            "echo pinned",
            on: SSHDestination(address: "127.0.0.1", port: peer.port, login: peer.login, hostKeys: host.hostKeys),
            with: credentials, timeout: 15)
        #expect(pinned.status == 255 && pinned.errors.contains("Host key verification failed"), "\(pinned.errors)")

        let audited = try app.database.connect().query(
            "SELECT after->>'principals' FROM audit_events WHERE action = 'host.certificate' AND target_id = $1", [host.id.postgresText])
        #expect(try audited.map { try $0.require(0, as: String.self) } == ["gpu-pool-7,127.0.0.1"])
    }

    @Test func badKeysValiditiesHostsAndCallersAreRefused() throws {
        #expect(try sign("ssh-ed25519 nonsense").status == 422)
        #expect(try sign("ssh-dss AAAAB3NzaC1kc3MAAACBAP").status == 422)
        #expect(try sign(OpenSSHEd25519Key().publicKey.line, days: 400).status == 422)
        #expect(try sign(OpenSSHEd25519Key().publicKey.line, host: UUID()).status == 404)
        // A token without hosts:write is refused.
        let reader = try staff.requestsToken("platform_engineer@staff.test", tenant: nil, in: app)
        #expect(try sign(OpenSSHEd25519Key().publicKey.line, token: reader).status == 403)
    }
}
