import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A host of the provider's shared pool, asked for under two tenants' pool policies, against a
/// real sshd trusting Purser's CA. Each tenant's grant carries its own principal
/// (`_pool.<host>.<login>.<tenant>`), owes the provider's approval as well as the customer's, and
/// logs in only where the host lists that tenant's principal; the access request's narrowed forced
/// command is what sshd runs. The clock stands on the real time (sshd checks it); nothing waits.
@Suite(.serialized) struct AccessPoolTests {
    let clock = SettableClock(LiveClock().now.addingTimeInterval(-60))
    let app: TestApp
    let acme: People
    let globex: People
    let peer: SSHPeer
    let ssh = OpenSSHClient(sourceAddresses: ["127.0.0.1/32"])

    init() throws {
        let clock = self.clock
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme", staff: true)
        globex = try People(app, slug: "globex")
        let made = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: clock.now)
        }
        // The pool host serves acme only, so far.
        peer = try SSHPeer(
            caPublicKey: made.publicKey, principals: [SSHPrincipal.forPoolHost(tenantSlug: "acme", hostName: "pool-1", login: "ops")],
            krl: try app.get(SitePage.sshKRL.template).body)
        var host = HostInput()
        (host.name, host.address, host.runtime, host.labels) = ("pool-1", "127.0.0.1", "vllm", ["pool:h100"])
        (host.sshPort, host.hostKeys) = (peer.port, [peer.hostKey])
        _ = try HostStore(database: app.app.database, clock: clock).create(host, tenant: nil, actor: .system)
    }

    func send(_ method: String, _ path: String, token: String, _ json: String) throws -> (status: Int, body: [String: Any]) {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(json.utf8))
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    /// An approved grant on pool-1 for `people`'s requester (the customer's approval, then the
    /// provider's), its certificate and key.
    func granted(_ people: People, options: String = "") throws -> (key: OpenSSHEd25519Key, certificate: String, principal: String) {
        let tokens = app.app.tokens
        let policy = AccessPolicy(
            id: UUID(), name: "Pool H100", kind: .ssh, hostLabels: ["pool:h100", "pool:a100"], hostSource: .pool, sshLogin: "ops",
            requesterRoles: ["requester"], maxSeconds: 3600)
        try AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock)
        ).save(policy, tenant: people.tenant, actor: .system)
        let slug = people.slug
        let requester = try tokens.create(
            user: people.id("requester@\(slug).test"), tenant: people.tenant, name: "t", scopes: [.accessRequest], lifetime: 3600,
            actor: .system
        ).token
        let approver = try tokens.create(
            user: people.id("approver@\(slug).test"), tenant: people.tenant, name: "t", scopes: [.accessApprove], lifetime: 3600,
            actor: .system
        ).token
        let provider = try tokens.create(
            user: acme.id("provider_admin@staff.test"), tenant: nil, name: "t", scopes: [.accessApprove], lifetime: 3600, actor: .system
        ).token
        let key = OpenSSHEd25519Key()
        let asked = try send(
            "POST", "/api/v1/access/requests?tenant=\(slug)", token: requester,
            #"{"policy_id": "\#(policy.id)", "reason": "NCCL hang", "duration_seconds": 1800, "host": "pool-1", "public_key": "\#(key.publicKey.line)"\#(options)}"#
        )
        #expect(asked.status == 201, "\(asked.body)")
        let id = try #require(asked.body["id"] as? String)
        // The customer's approval alone leaves it waiting for the provider's.
        let customer = try send(
            "POST", "/api/v1/access/requests/\(id)/approvals?tenant=\(slug)", token: approver, #"{"decision": "approve"}"#)
        #expect(customer.body["state"] as? String == "pending")
        #expect((customer.body["approvals_owed"] as? [String: Any])?["provider"] as? Int == 1, "\(customer.body)")
        let both = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=\(slug)", token: provider, #"{"decision": "approve"}"#)
        let grant = try #require((both.body["grant"] as? [String: Any])?["id"] as? String, "\(both.body)")
        let signed = try send("POST", "/api/v1/access/grants/\(grant)/certificate?tenant=\(slug)", token: requester, "{}")
        return (
            key, try #require(signed.body["certificate"] as? String, "\(signed.body)"), try #require(asked.body["principal"] as? String)
        )
    }

    func login(_ key: OpenSSHEd25519Key, _ certificate: String) throws -> SSHOutcome {
        try ssh.run(
            "echo hello-from-$(id -un)",
            on: SSHDestination(address: "127.0.0.1", port: peer.port, login: peer.login, hostKeys: [peer.hostKey]),
            with: SSHCredentials(privateKeyFile: key.privateKeyFile(), certificate: certificate), timeout: 15)
    }

    @Test func eachTenantsPoolGrantOpensThePoolHostOnlyWhereItListsThatTenant() throws {
        // acme: its own principal, listed by the host, and the narrowed forced command runs.
        let acmeGrant = try granted(acme, options: #", "force_command": "echo pool-for-acme""#)
        #expect(acmeGrant.principal == "_pool.pool-1.ops.acme")
        let inside = try login(acmeGrant.key, acmeGrant.certificate)
        #expect(inside.status == 0 && inside.output == "pool-for-acme\n", "\(inside.errors)\n\(peer.logText)")

        // globex: approved too, but its principal is its own, which the host does not list: sshd refuses.
        let globexGrant = try granted(globex)
        #expect(globexGrant.principal == "_pool.pool-1.ops.globex")
        let refused = try login(globexGrant.key, globexGrant.certificate)
        #expect(refused.status == 255 && refused.errors.contains("Permission denied"), "\(refused.errors)")
        // Once the host lists globex as well, the same certificate logs in (and acme's still does).
        try peer.setPrincipals([acmeGrant.principal, globexGrant.principal])
        let listed = try login(globexGrant.key, globexGrant.certificate)
        #expect(listed.status == 0 && listed.output == "hello-from-\(peer.login)\n", "\(listed.errors)\n\(peer.logText)")

        // The pool host's grants name it, so its host.down reaches both tenants; neither sees the other's grant.
        let owner = try app.database.connect()
        let named = try owner.query(
            "SELECT count(DISTINCT g.tenant_id) FROM access_grants g JOIN gpu_hosts h ON h.id = g.host_id WHERE h.name = 'pool-1' "
                + "AND h.tenant_id IS NULL AND g.state = 'active'")
        #expect(try named[0].require(0, as: Int.self) == 2)
        // The tenant's people see the pool host beside the policy that names it.
        #expect(try acme.signedIn("requester@acme.test", in: app).get("/t/acme/access").text.contains("(pool hosts: pool-1)"))
        // A customer never breaks glass onto the provider's pool.
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let glass = AccessPolicy(
            id: UUID(), name: "Pool glass", kind: .ssh, hostLabel: "pool:h100", hostSource: .pool, sshLogin: "ops",
            requesterRoles: ["requester"], maxSeconds: 3600, breakGlassRoles: ["requester"])
        try store.save(glass, tenant: acme.tenant, actor: .system)
        let requester = acme.id("requester@acme.test")
        #expect(throws: AccessRefused.self) {
            try store.ask(
                NewAccessRequest(policyID: glass.id, reason: "outage", durationSeconds: 600, host: "pool-1", breakGlass: true),
                tenant: acme.tenant, principal: Principal(user: requester, tenantRole: .requester, staffRole: nil, tenant: acme.tenant),
                actor: .person(requester, isStaff: false, origin: nil))
        }
    }
}
