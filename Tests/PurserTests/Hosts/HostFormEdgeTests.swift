import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A host's fields as a new user may type or send them: a line break after a name, login, address
/// or label is refused by field or trimmed (never stored), the hosts page lists every host a page
/// at a time, and a refused form keeps the runtime chosen.
@Suite(.serialized) struct HostFormEdgeTests {
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp()
        acme = try People(app, staff: true)
    }

    func call(_ method: String, _ path: String, json: String) throws -> ClientResponse {
        let token = try app.app.tokens.create(
            user: acme.id("provider_admin@staff.test"), tenant: nil, name: "t", scopes: [.hostsRead, .hostsWrite], lifetime: 3600,
            actor: .system
        ).token
        return try app.send(
            method, path, headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")], body: Array(json.utf8))
    }

    static func body(name: String = "gpu-e1", address: String = "gpu-e1.example.net", login: String = "purser", label: String = "group:a")
        -> String
    {
        """
        {"name": "\(name)", "address": "\(address)", "ssh_login": "\(login)", "host_keys": ["\(HostsAPITests.hostKey)"],
         "runtime": "vllm", "labels": ["\(label)"]}
        """
    }

    /// ICU's `$` also matches before a final line break: "gpu-1\n" passed the name's and login's
    /// patterns (the database then refused it without naming the field) and "host\n" passed the
    /// address check and was stored for ssh's command line.
    @Test func aLineBreakAfterAValueIsRefusedByFieldOrTrimmed() throws {
        for (json, field) in [
            (Self.body(name: "gpu-e2\\n"), "name"), (Self.body(name: "gpu-e3", login: "purser\\n"), "ssh_login"),
        ] {
            let answer = try call("POST", APIPath.hosts.path() + "?tenant=acme", json: json)
            #expect(answer.status == 422 && answer.text.contains(#""field":"\#(field)""#), "\(answer.text)")
        }
        let trimmed = try call(
            "POST", APIPath.hosts.path() + "?tenant=acme",
            json: Self.body(name: "gpu-e4", address: "gpu-e4.example.net\\n", label: "group:b\\n"))
        #expect(trimmed.status == 201, "\(trimmed.text)")
        #expect(trimmed.text.contains(#""address":"gpu-e4.example.net""#) && trimmed.text.contains(#"["group:b"]"#), "\(trimmed.text)")
    }

    /// /staff/hosts listed the first 500 hosts and no more; it pages (200 a page) with a link on.
    @Test func theHostsPageListsEveryHostAPageAtATime() throws {
        try app.database.connect().query(
            """
            INSERT INTO gpu_hosts (tenant_id, id, name, address, host_keys, runtime, created_at, updated_at)
            SELECT NULL, gen_random_uuid(), 'pool-' || lpad(n::text, 3, '0'), '10.9.0.' || (n % 250 + 1), ARRAY[$1], 'vllm', $2, $2
            FROM generate_series(1, 230) n
            """, [HostsAPITests.hostKey, app.app.world.now])
        let staff = try acme.signedIn(
            "provider_admin@staff.test", in: app, totp: try acme.enableSecondFactor("provider_admin@staff.test", in: app))
        var seen: [String] = []
        var path: String? = SitePage.staffHosts.template
        var pages = 0
        while let next = path, pages < 5 {
            let page = try staff.get(next)
            #expect(page.status == 200)
            seen += page.text.matches(of: /<td>(pool-[0-9]{3})<br>/).map { String($0.1) }
            path = WebVisitor.firstMatch(#"href="([^"]*cursor=[^"]*)">Next hosts"#, in: page.text)?
                .replacingOccurrences(of: "&amp;", with: "&")
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen == (1...230).map { "pool-" + String(format: "%03d", $0) })
    }

    @Test func aRefusedFormKeepsTheRuntimeChosen() throws {
        let staff = try acme.signedIn(
            "platform_engineer@staff.test", in: app, totp: try acme.enableSecondFactor("platform_engineer@staff.test", in: app))
        let refused = try staff.post(
            SitePage.staffHosts.template,
            [("name", "tgi-bad"), ("address", "not an address"), ("host_keys", HostsAPITests.hostKey), ("runtime", "tgi")])
        #expect(refused.status == 422)
        #expect(refused.text.contains(#"<option value="tgi" selected>"#), "\(refused.text)")
    }
}

extension HostFormEdgeTests {
    /// A NUL in a model name got a fieldless 422 from the database; a line break or other control
    /// character was stored and shown.
    @Test func controlCharactersInModelsAndGPUsAreRefusedByField() throws {
        func host(_ name: String, _ extra: String) -> String {
            #"{"name": "\#(name)", "address": "\#(name).example.net", "host_keys": ["\#(HostsAPITests.hostKey)"], "runtime": "vllm", \#(extra)}"#
        }
        for (json, field) in [
            (host("ctl-1", #""models": ["a\u0000b"]"#), "models"), (host("ctl-2", #""models": ["llama\u0007"]"#), "models"),
            (host("ctl-3", #""gpus": [{"model": "H100\u0000", "count": 1, "memory_mib": 5}]"#), "gpus"),
            (host("ctl-4", #""gpus": [{"model": "H100\nL40", "count": 1, "memory_mib": 5}]"#), "gpus"),
        ] {
            let answer = try call("POST", APIPath.hosts.path() + "?tenant=acme", json: json)
            #expect(answer.status == 422 && answer.text.contains(#""field":"\#(field)""#), "\(json): \(answer.text)")
        }
        let trimmed = try call("POST", APIPath.hosts.path() + "?tenant=acme", json: host("ctl-5", #""models": ["llama-3\n"]"#))
        #expect(trimmed.status == 201 && trimmed.text.contains(#""models":["llama-3"]"#), "\(trimmed.text)")
    }
}

extension HostFormEdgeTests {
    /// A refused provider channel kept its name, target and events but fell back to kind email, so
    /// sending it again made the webhook URL an e-mail target; a name with a control character was
    /// stored as typed.
    @Test func aRefusedProviderChannelKeepsItsKindAndRefusesAControlCharacterInItsName() throws {
        let admin = try acme.signedIn(
            "provider_admin@staff.test", in: app, totp: try acme.enableSecondFactor("provider_admin@staff.test", in: app))
        let refused = try admin.post(
            "/staff/provider-channels", [("kind", "webhook"), ("name", "On\u{7}call"), ("target", "ftp://x"), ("events", "host.down")])
        #expect(refused.status == 422)
        #expect(refused.text.contains(#"<option value="webhook" selected>"#), "\(refused.text)")
        #expect(refused.text.contains("<strong>name</strong>") && refused.text.contains("<strong>target</strong>"), "\(refused.text)")
        // A webhook deliveries would refuse (a private address, credentials in the URL) is refused now.
        for (target, reason) in [
            ("https://10.1.2.3/hook", "not a public address"), ("https://noc:pw@10.1.2.3/hook", "credentials in the URL"),
        ] {
            let answer = try admin.post(
                "/staff/provider-channels", [("kind", "webhook"), ("name", "NOC"), ("target", target), ("events", "host.down")])
            #expect(answer.status == 422 && answer.text.contains(reason), "\(answer.text)")
        }
    }
}

extension HostFormEdgeTests {
    /// A host's df answer is whatever it prints: a used figure near Int64's limit overflowed the
    /// hosts page's percentage (a trap that took the process down for everyone opening the page),
    /// and a negative one was kept. Readings are now bounded, and the page's figure cannot overflow
    /// for a reading stored before.
    @Test func anAbsurdDiskReadingNeitherTrapsNorIsKept() throws {
        let answer = "NVIDIA H100, 81559, 10, 5, 40\n--purser-uptime--\n3600.5 100.0\n--purser-disk--\n"
        for (used, kept) in [("99999999999999999", Int64(1) << 50), ("-5", 0)] {
            let df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 \(used) 1 99% /\n"
            let reading = try HostHealthReading.parse(answer + df).get()
            #expect(reading.diskUsedKiB == kept && reading.diskTotalKiB == 100)
        }
        try app.database.connect().query(
            """
            INSERT INTO gpu_hosts (tenant_id, id, name, address, host_keys, runtime, health, health_at, created_at, updated_at)
            VALUES (NULL, gen_random_uuid(), 'pool-df', '10.9.9.9', ARRAY[$1], 'vllm',
                    '{"gpus": [], "uptime_seconds": 7200, "disk_total_kib": 1, "disk_used_kib": 9000000000000000000}', $2, $2, $2)
            """, [HostsAPITests.hostKey, app.app.world.now])
        let staff = try acme.signedIn(
            "provider_admin@staff.test", in: app, totp: try acme.enableSecondFactor("provider_admin@staff.test", in: app))
        let page = try staff.get(SitePage.staffHosts.template)
        #expect(page.status == 200 && page.text.contains("up 2 h, disk 100%"), "\(page.text)")
    }
}

extension HostFormEdgeTests {
    /// The add form shows the SSH port and login empty with 22 and purser as placeholders; a browser
    /// sends the empty port as "", which was read as no number and refused (1–65535).
    @Test func anEmptySSHPortOnTheFormIsPort22() throws {
        let staff = try acme.signedIn(
            "provider_admin@staff.test", in: app, totp: try acme.enableSecondFactor("provider_admin@staff.test", in: app))
        let added = try staff.post(
            SitePage.staffHosts.template,
            [
                ("name", "blank-port"), ("address", "10.7.0.1"), ("ssh_port", ""), ("ssh_login", ""),
                ("host_keys", HostsAPITests.hostKey), ("runtime", "vllm"), ("gpu_model", ""), ("gpu_count", ""), ("gpu_memory_mib", ""),
                ("models", ""), ("labels", ""),
            ])
        #expect(added.status == 200 && added.text.contains("Added blank-port."), "\(added.text)")
        #expect(added.text.contains("10.7.0.1:22"))
    }
}

extension HostFormEdgeTests {
    /// ssh-keyscan's output pasted whole carries "# host:22 SSH-2.0-…" banner lines; each was read as
    /// a key and refused ("key 1: …").
    @Test func keyscanBannerLinesAreSkipped() throws {
        let json = Self.body(name: "gpu-k1").replacingOccurrences(
            of: #"["\#(HostsAPITests.hostKey)"]"#,
            with: ##"["# gpu-k1.example.net:22 SSH-2.0-OpenSSH_9.6p1", "gpu-k1.example.net \##(HostsAPITests.hostKey)"]"##)
        let answer = try call("POST", APIPath.hosts.path() + "?tenant=acme", json: json)
        #expect(answer.status == 201 && answer.text.contains(#""host_keys":["\#(HostsAPITests.hostKey)"]"#), "\(answer.text)")
    }
}

extension HostFormEdgeTests {
    /// A drained host that went down (rebooted for maintenance, say) came back `active` when it
    /// answered again: the drain was forgotten and placements saw it in rotation. It comes back
    /// draining; an undrained one active.
    @Test func aDrainedHostThatWasDownComesBackDraining() throws {
        let store = HostStore(database: app.app.database, clock: app.app.world.clock)
        let job = Job(id: 0, kind: HostHealthCheck.kind, payload: JSONText("{}"), tenant: nil, attempt: 1, maxAttempts: 1, timeout: 30)
        let context = JobContext(job: job, database: app.app.database, world: app.app.world)
        for (name, drained) in [("gpu-m1", true), ("gpu-m2", false)] {
            var input = HostInput()
            (input.name, input.address, input.hostKeys, input.runtime) = (name, "10.8.0.1", [HostsAPITests.hostKey], "vllm")
            var host = try store.create(input, tenant: acme.tenant, actor: .system)
            if drained {
                var change = HostInput()
                change.state = "draining"
                host = try store.update(host.id, change, reach: .tenant(acme.tenant), ifMatch: nil, actor: .system)
            }
            try app.database.connect().query(
                "UPDATE gpu_hosts SET created_at = created_at - interval '1 hour' WHERE id = $1", [host.id])
            try HostHealthCheck.unanswered(host, reason: "no answer", context: context, at: app.app.world.now)
            #expect(try store.find(host.id, .tenant(acme.tenant)).state == .down)
            try HostHealthCheck.answered(host, reading: nil, error: nil, context: context, at: app.app.world.now)
            #expect(try store.find(host.id, .tenant(acme.tenant)).state == (drained ? .draining : .active), "\(name)")
        }
    }
}
