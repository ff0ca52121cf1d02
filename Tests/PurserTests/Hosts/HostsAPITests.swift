import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /api/v1/hosts and the hosts pages: a tenant's hosts for that tenant, the shared pool for staff,
/// bad addresses and keys refused with their field named, drain through PATCH.
@Suite(.serialized) struct HostsAPITests {
    static let hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXDqU6NM2+IkNN8NGJpuQyftkQy/5UkPdJhONr7BJkS"
    let app: TestApp
    let acme: People
    let globex: People

    init() throws {
        app = try TestApp()
        acme = try People(app, staff: true)
        globex = try People(app, slug: "globex")
    }

    func token(_ email: String, _ people: People, tenant: UUID?, scopes: [Scope] = [.hostsRead, .hostsWrite]) throws -> String {
        try app.app.tokens.create(user: people.id(email), tenant: tenant, name: "t", scopes: scopes, lifetime: 3600, actor: .system).token
    }

    func call(_ method: String, _ path: String, token: String, json: String? = nil, headers: [(name: String, value: String)] = []) throws
        -> ClientResponse
    {
        try app.send(
            method, path, headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")] + headers,
            body: json.map { Array($0.utf8) })
    }

    static func body(_ name: String, address: String = "gpu-a1.dc1.example.net") -> String {
        """
        {"name": "\(name)", "address": "\(address)", "host_keys": ["\(hostKey)"], "runtime": "vllm", "labels": ["group:inference"],
         "gpus": [{"model": "NVIDIA H100 80GB HBM3", "count": 8, "memory_mib": 81559}], "models": ["llama-3.1-70b"]}
        """
    }

    @Test func staffAddTenantAndPoolHostsAndEachSeesItsOwn() throws {
        let staff = try token("platform_engineer@staff.test", acme, tenant: nil)
        let created = try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: Self.body("gpu-a1"))
        #expect(created.status == 201, "\(created.text)")
        #expect(created.text.contains(#""tenant":"acme""#) && created.text.contains(#""principal_purser":"_purser.gpu-a1""#))
        let pool = try call("POST", APIPath.hosts.path(), token: staff, json: Self.body("pool-1", address: "10.0.4.7"))
        #expect(pool.status == 201 && pool.text.contains(#""tenant":null"#), "\(pool.text)")
        // The same name in another tenant is another host.
        #expect(try call("POST", APIPath.hosts.path() + "?tenant=globex", token: staff, json: Self.body("gpu-a1")).status == 201)
        #expect(try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: Self.body("gpu-a1")).status == 409)

        // A requester of acme sees acme's host only: not globex's, not the pool's.
        let requester = try token("requester@acme.test", acme, tenant: acme.tenant, scopes: [.hostsRead])
        let listed = try call("GET", APIPath.hosts.path(), token: requester)
        #expect(listed.status == 200)
        #expect(listed.text.contains("gpu-a1") && !listed.text.contains("pool-1") && !listed.text.contains("globex"))
        let poolID = try #require(pool.text.firstMatch(of: /"id":"([0-9a-f-]{36})"/)?.1)
        #expect(try call("GET", APIPath.host.path(String(poolID)), token: requester).status == 404)
        // Staff naming no tenant see all three; ?pool=true only the pool's.
        #expect(try call("GET", APIPath.hosts.path(), token: staff).text.components(separatedBy: #""name":"#).count == 4)
        let poolOnly = try call("GET", APIPath.hosts.path() + "?pool=true", token: staff)
        #expect(poolOnly.text.contains("pool-1") && !poolOnly.text.contains("gpu-a1"))
        // Customers cannot add hosts: no role of theirs manages providers.
        #expect(throws: (any Error).self) { try token("tenant_admin@acme.test", acme, tenant: acme.tenant, scopes: [.hostsWrite]) }
    }

    @Test func badAddressesKeysAndNamesAreRefusedWithTheirField() throws {
        let staff = try token("provider_admin@staff.test", acme, tenant: nil)
        for (address, field) in [
            ("-oProxyCommand=sh", "address"), ("http://gpu.example", "address"), ("gpu a1", "address"), ("10.0.0.1:22", "address"),
            ("999.1.1.1", "address"), ("gpu.example.net/path", "address"),
        ] {
            let answer = try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: Self.body("gpu-x", address: address))
            #expect(answer.status == 422 && answer.text.contains(#""field":"\#(field)""#), "\(address): \(answer.text)")
        }
        for good in ["fe80::1", "10.1.2.3", "gpu-7.dc1.example.net"] {
            let answer = try call(
                "POST", APIPath.hosts.path() + "?tenant=acme", token: staff,
                json: Self.body("ok-\(abs(good.hashValue) % 10000)", address: good))
            #expect(answer.status == 201, "\(good): \(answer.text)")
        }
        let dsaKey = Self.body("gpu-y").replacingOccurrences(of: Self.hostKey, with: "ssh-dss AAAAB3NzaC1kc3MAAACBAL4P")
        let refused = try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: dsaKey)
        #expect(refused.status == 422 && refused.text.contains("host_keys") && refused.text.contains("DSA"), "\(refused.text)")
        let dotted = try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: Self.body("gpu.a1"))
        #expect(dotted.status == 422 && dotted.text.contains(#""field":"name""#))
    }

    @Test func drainingThroughPatchQueuesTheDrainJob() throws {
        let staff = try token("platform_engineer@staff.test", acme, tenant: nil)
        let created = try call("POST", APIPath.hosts.path() + "?tenant=acme", token: staff, json: Self.body("gpu-d1"))
        let id = try #require(created.text.firstMatch(of: /"id":"([0-9a-f-]{36})"/)?.1)
        let etag = try #require(created.header("ETag"))
        let drained = try call(
            "PATCH", APIPath.host.path(String(id)) + "?tenant=acme", token: staff, json: #"{"state": "draining"}"#,
            headers: [("If-Match", etag)])
        #expect(drained.status == 200 && drained.text.contains(#""state":"draining""#), "\(drained.status) \(drained.text)")
        #expect(
            try call(
                "PATCH", APIPath.host.path(String(id)) + "?tenant=acme", token: staff, json: #"{"state": "active"}"#,
                headers: [("If-Match", etag)]
            ).status == 412)
        #expect(try call("PATCH", APIPath.host.path(String(id)) + "?tenant=acme", token: staff, json: #"{"state": "down"}"#).status == 422)
        let jobs = try app.database.connect().query(
            "SELECT payload->>'action' FROM jobs WHERE kind = 'hosts.drain' AND lower(payload->>'host') = $1", [String(id)])
        #expect(try jobs.map { try $0.require(0, as: String.self) } == ["drain"])
        let audited = try app.database.connect().query(
            "SELECT 1 FROM audit_events WHERE action = 'host.drain_requested' AND target_id = $1", [String(id)])
        #expect(audited.count == 1)
    }

    @Test func purserSSHesOnlyFromTheSourceAddressesConfigured() {
        #expect(Configuration.load(environment: [:], root: TestEnvironment.root).0.sshSourceAddresses.isEmpty)
        let (configured, fine) = Configuration.load(
            environment: ["PURSER_SSH_SOURCE_ADDRESSES": "10.0.4.0/24, 10.0.5.7,fd00::/8"], root: TestEnvironment.root)
        #expect(fine.isEmpty && configured.sshSourceAddresses == ["10.0.4.0/24", "10.0.5.7", "fd00::/8"])
        let (_, problems) = Configuration.load(environment: ["PURSER_SSH_SOURCE_ADDRESSES": "10.0.4.0/24,any"], root: TestEnvironment.root)
        #expect(problems.contains { $0.contains("PURSER_SSH_SOURCE_ADDRESSES: any") }, "\(problems)")
        // A value read from a file ends in a line break: it is not part of the last address.
        let (fromFile, none) = Configuration.load(
            environment: ["PURSER_SSH_SOURCE_ADDRESSES": "10.0.4.0/24,10.0.5.7\n"], root: TestEnvironment.root)
        #expect(none.isEmpty && fromFile.sshSourceAddresses == ["10.0.4.0/24", "10.0.5.7"], "\(none)")
        #expect((World.live(configured).ssh as? OpenSSHClient)?.sourceAddresses == configured.sshSourceAddresses)
    }

    @Test func thePagesListHostsAndStaffAddThem() throws {
        let staff = try acme.signedIn(
            "provider_admin@staff.test", in: app, totp: try acme.enableSecondFactor("provider_admin@staff.test", in: app))
        let added = try staff.post(
            SitePage.staffHosts.template,
            [
                ("name", "pool-page"), ("address", "gpu-page.example.net"), ("ssh_port", "2222"), ("host_keys", Self.hostKey),
                ("runtime", "tgi"), ("gpu_model", "NVIDIA L40S"), ("gpu_count", "4"), ("gpu_memory_mib", "46068"), ("models", "mistral-7b"),
            ])
        #expect(added.status == 200 && added.text.contains("Added pool-page."), "\(added.text)")
        let refused = try staff.post(
            SitePage.staffHosts.template,
            [("name", "pool-bad"), ("address", "not an address"), ("host_keys", Self.hostKey), ("runtime", "vllm")])
        #expect(refused.status == 422 && refused.text.contains("not a host name or an IP address"))
        let requester = try acme.signedIn("requester@acme.test", in: app)
        let page = try requester.get(SiteURL.hosts("acme").path)
        #expect(page.status == 200 && !page.text.contains("pool-page") && !page.text.contains("Add a host"))
        #expect(try requester.get(SitePage.staffHosts.template).status == 404)
    }
}
