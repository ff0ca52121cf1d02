import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Access policies over the API and what they decide, on a test clock standing on a Wednesday at
/// 16:00 UTC (the standard SLA calendar: Monday–Friday 09:00–17:00 UTC): made, changed against
/// the ETag read, refused field by field, archived; several host groups; the provider's pool only
/// by the provider's admins; a business-hours policy checking the whole window; certificate
/// options an access request narrows but never widens, shown on its grant.
@Suite(.serialized) struct AccessPolicyAPITests {
    let clock = SettableClock(RFC3339.date("2026-11-25T16:00:00Z")!)
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme", staff: true)
        let hosts = HostStore(database: app.app.database, clock: clock)
        for (name, label) in [("gpu-t1", "group:train"), ("gpu-e1", "group:eval"), ("gpu-x1", "group:other")] {
            var host = HostInput()
            (host.name, host.address, host.runtime, host.labels) = (name, "10.1.0.1", "vllm", [label])
            host.hostKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXDqU6NM2+IkNN8NGJpuQyftkQy/5UkPdJhONr7BJkS"]
            _ = try hosts.create(host, tenant: acme.tenant, actor: .system)
        }
    }

    func token(_ email: String, _ scopes: [Scope], tenant: Bool = true) throws -> String {
        try app.app.tokens.create(
            user: acme.id(email), tenant: tenant ? acme.tenant : nil, name: "t", scopes: scopes, lifetime: 86400, actor: .system
        ).token
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil, ifMatch: String? = nil) throws -> (
        status: Int, body: [String: Any], etag: String?
    ) {
        var headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        if let ifMatch { headers.append(("If-Match", ifMatch)) }
        let response = try app.send(method, path, headers: headers, body: json.map { Array($0.utf8) })
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, body, response.headers.first { $0.name.lowercased() == "etag" }?.value)
    }

    func fields(_ body: [String: Any]) -> [String] {
        ((body["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
    }

    @Test func policiesAreMadeChangedAndArchivedThroughTheAPI() throws {
        let admin = try token("tenant_admin@acme.test", [.accessManage, .accessRequest])
        let requester = try token("requester@acme.test", [.accessRequest])
        let base = "/api/v1/access/policies?tenant=acme"

        // Two host groups in one policy.
        let made = try send(
            "POST", base, token: admin,
            #"{"name": "GPU train+eval", "kind": "ssh", "host_labels": ["group:train", "group:eval"], "ssh_login": "ops", "requester_roles": ["requester"], "max_seconds": 3600, "force_command": "uptime"}"#
        )
        #expect(made.status == 201, "\(made.body)")
        #expect(made.etag == "\"v1\"" && made.body["host_labels"] as? [String] == ["group:train", "group:eval"])
        #expect(made.body["host_source"] as? String == "tenant")
        let id = try #require(made.body["id"] as? String)
        let one = "/api/v1/access/policies/\(id)?tenant=acme"

        // Bad values: problem+json naming each field; a requester may not write; kind is needed.
        let bad = try send(
            "POST", base, token: admin,
            #"{"name": "Bad", "kind": "ssh", "host_labels": ["Group Train"], "ssh_login": "Root!", "requester_roles": ["requester"], "max_seconds": 30, "source_addresses": ["10.0.0.0/33"]}"#
        )
        #expect(
            bad.status == 422 && Set(fields(bad.body)) == ["host_labels", "ssh_login", "max_seconds", "source_addresses"], "\(bad.body)")
        #expect(
            try send("POST", base, token: admin, #"{"name": "No kind", "requester_roles": ["requester"], "max_seconds": 60}"#).status == 422
        )
        #expect(try send("POST", base, token: admin, #"{"name": "x", "kind": "role", "colour": "red"}"#).status == 400)
        #expect(try send("POST", base, token: requester, #"{"name": "x", "kind": "role"}"#).status == 403)
        let roleWithHosts = try send(
            "POST", base, token: admin,
            #"{"name": "Role", "kind": "role", "role": "approver", "host_labels": ["group:train"], "requester_roles": ["requester"], "max_seconds": 600}"#
        )
        #expect(roleWithHosts.status == 422 && fields(roleWithHosts.body) == ["host_labels"])

        // Changed against the version read: a stale ETag is refused, the right one moves it on; null clears.
        #expect(try send("PATCH", one, token: admin, #"{"max_seconds": 1800}"#, ifMatch: "\"v7\"").status == 412)
        let changed = try send("PATCH", one, token: admin, #"{"max_seconds": 7200, "force_command": null}"#, ifMatch: made.etag)
        #expect(changed.status == 200 && changed.etag == "\"v2\"", "\(changed.body)")
        #expect(changed.body["max_seconds"] as? Int == 7200 && changed.body["force_command"] is NSNull)
        #expect(try send("PATCH", one, token: admin, #"{"kind": "role"}"#).status == 400)
        #expect(try send("PATCH", one, token: admin, #"{"host_labels": []}"#).status == 422)
        let audit = try app.database.connect().query(
            "SELECT before->>'max_seconds', after->>'max_seconds' FROM audit_events WHERE action = 'access.policy_save' AND target_id = $1 "
                + "AND before IS NOT NULL", [id])
        #expect(try audit.map { [try $0.require(0, as: String.self), try $0.require(1, as: String.self)] } == [["3600", "7200"]])

        // A host of either group may be asked for; one of neither may not.
        for (host, expected) in [("gpu-t1", 201), ("gpu-e1", 201), ("gpu-x1", 422)] {
            let asked = try send(
                "POST", "/api/v1/access/requests?tenant=acme", token: requester,
                #"{"policy_id": "\#(id)", "reason": "eval run", "duration_seconds": 600, "host": "\#(host)"}"#)
            #expect(asked.status == expected, "\(host): \(asked.body)")
            if expected == 201 { #expect(asked.body["principal"] as? String == "acme.\(host).ops") }
        }

        // Only the provider's admins name the provider's pool.
        let pool =
            #"{"name": "Pool", "kind": "ssh", "host_labels": ["pool:h100"], "host_source": "pool", "ssh_login": "ops", "requester_roles": ["requester"], "max_seconds": 3600}"#
        #expect(try send("POST", base, token: admin, pool).status == 403)
        #expect(try send("PATCH", one, token: admin, #"{"host_source": "pool"}"#).status == 403)
        let provider = try token("provider_admin@staff.test", [.accessManage], tenant: false)
        let pooled = try send("POST", base, token: provider, pool)
        #expect(pooled.status == 201 && pooled.body["host_source"] as? String == "pool", "\(pooled.body)")
        let poolOne = "/api/v1/access/policies/\(try #require(pooled.body["id"] as? String))?tenant=acme"
        // The tenant's admin may still turn it off, but not point it at other pool hosts.
        #expect(try send("PATCH", poolOne, token: admin, #"{"enabled": false}"#).status == 200)
        #expect(try send("PATCH", poolOne, token: admin, #"{"host_labels": ["pool:a100"]}"#).status == 403)
        // On the policies page too: the form says so, and nothing is written.
        let browser = try acme.signedIn(
            "tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let form = try browser.post(
            "/t/acme/access-policies",
            [("name", "Pool by hand"), ("kind", "ssh"), ("host_labels", "pool:h100"), ("host_source", "pool"), ("ssh_login", "ops")]
                + [("requester_roles", "requester"), ("max_minutes", "60"), ("customer_approvals", "1"), ("provider_approvals", "0")]
                + [("break_glass_minutes", "60"), ("lapse_minutes", "60"), ("enabled", "1")])
        #expect(form.status == 422 && form.text.contains("providers.manage"), "\(form.text)")
        let names = ((try send("GET", base, token: requester).body["items"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains("Pool") && !names.contains("Pool by hand"))

        // Archived: listed no more, asked under no more, changed no more, but still readable.
        #expect(try send("DELETE", one, token: admin, ifMatch: "\"v1\"").status == 412)
        #expect(try send("DELETE", one, token: admin).status == 204)
        #expect(try send("DELETE", one, token: admin).status == 409)
        #expect(try send("PATCH", one, token: admin, #"{"max_seconds": 600}"#).status == 409)
        let listed = try send("GET", base, token: requester)
        #expect(!((listed.body["items"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == id })
        #expect((try send("GET", one, token: requester).body["archived_at"] as? String) != nil)
        let late = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(id)", "reason": "eval run", "duration_seconds": 600, "host": "gpu-t1"}"#)
        #expect(late.status == 403 && "\(late.body)".contains("archived"))
        #expect(try send("GET", "/api/v1/access/policies/\(UUID())?tenant=acme", token: requester).status == 404)
    }

    @Test func businessHoursCoverTheWholeWindowAndOptionsOnlyNarrow() throws {
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let policy = AccessPolicy(
            id: UUID(), name: "Office GPU", kind: .ssh, hostLabel: "group:train", sshLogin: "ops", requesterRoles: ["requester"],
            maxSeconds: 4 * 3600, businessHoursOnly: true, permitPortForwarding: true, sourceAddresses: ["10.0.0.0/16", "2001:db8::/32"])
        try store.save(policy, tenant: acme.tenant, actor: .system)
        let requester = try token("requester@acme.test", [.accessRequest])
        let approver = try token("approver@acme.test", [.accessApprove])
        func ask(_ extra: String, seconds: Int = 1800) throws -> (status: Int, body: [String: Any], etag: String?) {
            try send(
                "POST", "/api/v1/access/requests?tenant=acme", token: requester,
                #"{"policy_id": "\#(policy.id)", "reason": "profiling", "duration_seconds": \#(seconds), "host": "gpu-t1"\#(extra)}"#)
        }

        // 16:00 on a Wednesday: two hours would run past 17:00, and the refusal says so.
        let long = try ask("", seconds: 7200)
        #expect(long.status == 422 && fields(long.body) == ["duration_seconds"], "\(long.body)")
        let detail = "\(long.body)"
        #expect(detail.contains("they end at 17:00 Wed 25 Nov 2026") && detail.contains("at most 1 h"), "\(detail)")
        // A later start outside business hours names when they begin.
        let night = try ask(#", "start": "2026-11-25T20:00:00Z""#)
        #expect(night.status == 422 && fields(night.body) == ["start"] && "\(night.body)".contains("09:00 Thu 26 Nov 2026"))

        // Options wider than the policy's, each refused by name.
        let wider = try ask(#", "source_addresses": ["10.1.2.0/24", "192.168.0.1"], "force_command": "ls\nrm -rf /""#)
        #expect(wider.status == 422 && Set(fields(wider.body)) == ["source_addresses", "force_command"], "\(wider.body)")
        var strict = policy
        (strict.id, strict.name, strict.permitPortForwarding, strict.forceCommand) = (UUID(), "Strict", false, "uptime")
        try store.save(strict, tenant: acme.tenant, actor: .system)
        let widened = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(strict.id)", "reason": "x", "duration_seconds": 600, "host": "gpu-t1", "permit_port_forwarding": true, "force_command": "bash"}"#
        )
        #expect(widened.status == 422 && Set(fields(widened.body)) == ["permit_port_forwarding", "force_command"], "\(widened.body)")

        // Narrower: granted, shown on the grant, and what its certificates will carry.
        let narrow = try ask(#", "permit_port_forwarding": false, "source_addresses": ["10.0.4.0/24"], "force_command": "nvidia-smi""#)
        #expect(narrow.status == 201, "\(narrow.body)")
        let id = try #require(narrow.body["id"] as? String)
        let approved = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        let grant = try #require(approved.body["grant"] as? [String: Any], "\(approved.body)")
        let options = try #require(grant["certificate_options"] as? [String: Any])
        #expect(options["permit_port_forwarding"] as? Bool == false && options["source_addresses"] as? [String] == ["10.0.4.0/24"])
        #expect(options["force_command"] as? String == "nvidia-smi")
        let page = try acme.signedIn("requester@acme.test", in: app).get("/t/acme/access/\(id)")
        #expect(page.text.contains("port forwarding not permitted; only from 10.0.4.0/24; runs only nvidia-smi"), "\(page.text)")

        // Asked at 16:00 for 30 minutes, approved at 16:50: the window would end at 17:20, so the
        // approval waits for business hours instead.
        let later = try ask("")
        clock.advance(by: 50 * 60)
        let waiting = try send(
            "POST", "/api/v1/access/requests/\(try #require(later.body["id"] as? String))/approvals?tenant=acme", token: approver,
            #"{"decision": "approve"}"#)
        #expect(waiting.status == 409 && "\(waiting.body)".contains("they end at 17:00"), "\(waiting.body)")
    }
}
