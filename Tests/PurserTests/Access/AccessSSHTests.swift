import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// An SSH grant end to end against a real sshd trusting Purser's CA: the certificate of an approved
/// grant logs in and runs a command; after an early revocation the KRL makes sshd refuse it; a grant
/// whose window has passed in real time is refused by sshd, and Purser refuses to sign for it once
/// its own clock is past the end. The clock starts two minutes behind the real one, so a grant of
/// one minute approved at once has already ended for sshd: nothing waits.
@Suite(.serialized) struct AccessSSHTests {
    let clock = SettableClock(LiveClock().now.addingTimeInterval(-120))
    let app: TestApp
    let acme: People
    let peer: SSHPeer
    let ssh = OpenSSHClient(sourceAddresses: ["127.0.0.1/32"])
    let policy: UUID
    /// A policy whose certificates force a command, name where they may be used from and permit
    /// port forwarding.
    let forced: UUID

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
        let policy = AccessPolicy(
            id: UUID(), name: "GPU", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
            maxSeconds: 3600)
        let forced = AccessPolicy(
            id: UUID(), name: "GPU health only", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
            maxSeconds: 3600, permitPortForwarding: true, sourceAddresses: ["127.0.0.1/32", "::1/128"],
            forceCommand: "echo forced-for-$(id -un)")
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        try store.save(policy, tenant: acme.tenant, actor: .system)
        try store.save(forced, tenant: acme.tenant, actor: .system)
        self.policy = policy.id
        self.forced = forced.id
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: json.map { Array($0.utf8) })
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    /// An approved SSH grant of `seconds` for a fresh key: the key and the grant's id.
    func granted(seconds: Int, under policy: UUID? = nil) throws -> (key: OpenSSHEd25519Key, grant: String, requester: String) {
        let requester = try app.app.tokens.create(
            user: acme.id("requester@acme.test"), tenant: acme.tenant, name: "t", scopes: [.accessRequest], lifetime: 86400, actor: .system
        ).token
        let approver = try app.app.tokens.create(
            user: acme.id("approver@acme.test"), tenant: acme.tenant, name: "t", scopes: [.accessApprove], lifetime: 86400, actor: .system
        ).token
        let key = OpenSSHEd25519Key()
        let policy = policy ?? self.policy
        let asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(policy)", "reason": "debug vLLM", "duration_seconds": \#(seconds), "host": "gpu-a1", "public_key": "\#(key.publicKey.line)"}"#
        )
        #expect(asked.status == 201, "\(asked.body)")
        #expect(asked.body["principal"] as? String == "acme.gpu-a1.ubuntu")
        let id = try #require(asked.body["id"] as? String)
        let approved = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        let grant = try #require((approved.body["grant"] as? [String: Any])?["id"] as? String)
        return (key, grant, requester)
    }

    func login(_ key: OpenSSHEd25519Key, _ certificate: String) throws -> SSHOutcome {
        try ssh.run(
            "echo hello-from-$(id -un)",
            on: SSHDestination(address: "127.0.0.1", port: peer.port, login: peer.login, hostKeys: [peer.hostKey]),
            with: SSHCredentials(privateKeyFile: key.privateKeyFile(), certificate: certificate), timeout: 15)
    }

    @Test func anApprovedGrantsCertificateLogsInUntilRevokedOrExpired() throws {
        // Live for sshd: the window is [clock, clock + 1 h], which holds the real time.
        let (key, grant, requester) = try granted(seconds: 3600)
        let signed = try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, "{}")
        #expect(signed.status == 200, "\(signed.body)")
        let certificate = try #require(signed.body["certificate"] as? String)
        let outcome = try login(key, certificate)
        #expect(outcome.status == 0, "\(outcome.errors)\n\(peer.logText)")
        #expect(outcome.output == "hello-from-\(peer.login)\n")
        // A weak or foreign key is refused with its reason.
        let dsa = try send(
            "POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester,
            #"{"public_key": "ssh-dss AAAAB3NzaC1kc3MAAACBAP"}"#)
        #expect(dsa.status == 422)
        let garbage = try send(
            "POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, #"{"public_key": "hello"}"#)
        #expect(garbage.status == 422)

        // Revoked early: the KRL served next names it, and sshd refuses the same certificate.
        #expect(
            try send("POST", "/api/v1/access/grants/\(grant)/revoke?tenant=acme", token: requester, #"{"reason": "done"}"#).status == 200)
        try peer.setKRL(try app.get(SitePage.sshKRL.template).body)
        let refused = try login(key, certificate)
        #expect(refused.status == 255 && refused.errors.contains("Permission denied"), "\(refused.errors)")
        #expect(try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, "{}").status == 409)

        // A one-minute grant approved now ended a minute ago in real time: sshd refuses its certificate.
        let (short, shortGrant, shortRequester) = try granted(seconds: 60)
        let late = try send("POST", "/api/v1/access/grants/\(shortGrant)/certificate?tenant=acme", token: shortRequester, "{}")
        let expired = try login(short, try #require(late.body["certificate"] as? String))
        #expect(expired.status == 255 && expired.errors.contains("Permission denied"), "\(expired.errors)")
        // And once Purser's clock passes the end, it signs no more.
        clock.advance(by: 61)
        #expect(try send("POST", "/api/v1/access/grants/\(shortGrant)/certificate?tenant=acme", token: shortRequester, "{}").status == 409)
    }

    @Test func aPolicysForcedCommandRunsWhateverTheClientAsks() throws {
        let (key, grant, requester) = try granted(seconds: 3600, under: forced)
        let signed = try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=acme", token: requester, "{}")
        let certificate = try #require(signed.body["certificate"] as? String)
        // The client asks for `echo hello-from-…`; sshd runs the certificate's command instead, and
        // lets it in from 127.0.0.1, which its source-address names.
        let outcome = try login(key, certificate)
        #expect(outcome.status == 0, "\(outcome.errors)\n\(peer.logText)")
        #expect(outcome.output == "forced-for-\(peer.login)\n")
        let saved = try #require(try store().policies(tenant: acme.tenant).first { $0.id == forced })
        #expect(saved.sourceAddresses == ["127.0.0.1/32", "::1/128"] && saved.permitPortForwarding)
    }

    func store() -> AccessStore {
        AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
    }

    @Test func aSourceAddressThatIsNoCIDRIsRefusedOnTheForm() throws {
        var bad = AccessPolicy(
            id: UUID(), name: "Bad", kind: .ssh, hostLabel: "group:train", sshLogin: "ubuntu", requesterRoles: ["requester"],
            maxSeconds: 3600, sourceAddresses: ["10.0.0.0/33"])
        #expect(bad.problems().map(\.field) == ["source_addresses"])
        bad.sourceAddresses = ["10.0.4.0/24", "2001:db8::/32", "192.0.2.7"]
        #expect(bad.problems().isEmpty)
        bad.forceCommand = "uptime\nrm -rf /"
        #expect(bad.problems().map(\.field) == ["force_command"])

        let admin = try acme.signedIn(
            "tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let refused = try admin.post(
            "/t/acme/access-policies",
            [("name", "Bad"), ("kind", "ssh"), ("host_label", "group:train"), ("ssh_login", "ubuntu"), ("requester_roles", "requester")]
                + [("max_minutes", "10"), ("customer_approvals", "1"), ("provider_approvals", "0"), ("break_glass_minutes", "5")]
                + [("lapse_minutes", "5"), ("source_addresses", "10.0.4.0/24, 10.0.0.300/8"), ("enabled", "1")])
        #expect(refused.status == 422)
        #expect(refused.text.contains("10.0.0.300/8 is not an IP address or CIDR block"))
        #expect(try store().policies(tenant: acme.tenant).allSatisfy { $0.name != "Bad" })
    }
}
