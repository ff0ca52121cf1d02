import Foundation
import HTTPClient
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// host.down of a shared-pool host, which belongs to no tenant: the provider's own channels (a
/// signed webhook, a NOC mailbox) and the provider's host managers by mail hear it even when no
/// grant names the host; when an active grant of a tenant names it, that tenant's channels and the
/// grant's holder hear too, and no other tenant does. Real peers: an SMTP server and a webhook
/// receiver checking the signature with Python's hmac. The health check runs against a port
/// nothing listens on; the clock moves past the down threshold.
@Suite(.serialized) struct AccessOpsProviderChannelTests {
    let clock = SettableClock(LiveClock().now)
    let app: TestApp
    let acme: People
    let mail: MailSink
    let receiver: PythonPeer
    let receiverLog: URL
    let worker: Database
    static let secret = "provider-on-call-0123456789"

    init() throws {
        receiverLog = FileManager.default.temporaryDirectory.appendingPathComponent("provider-hooks-\(UUID().uuidString).jsonl")
        mail = try MailSink()
        receiver = try PythonPeer("webhook_receiver.py", arguments: [receiverLog.path, Self.secret])
        app = try TestApp(world: World(clock: clock, mail: SMTPSender(server: mail.server))) { configuration in
            configuration.mailFrom = "purser@provider.test"
            configuration.allowHTTPDestinations = true
            configuration.allowedDestinations = ["127.0.0.1/32"]
        }
        acme = try People(app, slug: "acme", staff: true)
        _ = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: LiveClock().now)
        }
        worker = Database(url: app.database.url, size: 2, worker: true)
        let (clock, receiver) = (clock, receiver)
        try app.app.database.asStaff { tx in
            _ = try ProviderChannels.create(
                kind: .webhook, name: "On call", target: "http://127.0.0.1:\(receiver.port)/provider", events: ["host.down"],
                secret: Self.secret, keyring: TestEnvironment.keyring, actor: .system, at: clock.now, in: tx)
            _ = try ProviderChannels.create(
                kind: .email, name: "NOC", target: "noc@provider.test", events: ["*"], keyring: TestEnvironment.keyring, actor: .system,
                at: clock.now, in: tx)
        }
    }

    /// A pool host on a port nothing answers, checked once, then again past the down threshold.
    func poolHostGoesDown(_ name: String, before: (GPUHost) throws -> Void = { _ in }) throws -> GPUHost {
        var input = HostInput()
        (input.name, input.address, input.sshPort, input.runtime) = (name, "127.0.0.1", RawHTTP.freePort(), "vllm")
        input.hostKeys = [OpenSSHEd25519Key().publicKey.line]
        let host = try HostStore(database: app.app.database, clock: clock).create(input, tenant: nil, actor: .system)
        try before(host)
        clock.advance(by: HostHealthCheck.downAfter + 1)
        let job = Job(id: 0, kind: HostHealthCheck.kind, payload: JSONText("{}"), tenant: nil, attempt: 1, maxAttempts: 1, timeout: 30)
        try HostHealthCheck.check(
            host.id, context: JobContext(job: job, database: worker, world: app.app.world), keyring: TestEnvironment.keyring)
        #expect(try HostStore(database: app.app.database, clock: clock).find(host.id, .staff).state == .down)
        return host
    }

    func received() -> [[String: Any]] {
        ((try? String(contentsOf: receiverLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func providerDeliveries() throws -> [(destination: String, state: String)] {
        try app.database.connect().query(
            "SELECT destination, state FROM provider_deliveries WHERE event = 'host.down' ORDER BY destination"
        ).map { (try $0.require(0), try $0.require(1)) }
    }

    @Test func aPoolHostNobodyHoldsIsToldToTheProvidersChannelsAndStaff() throws {
        _ = try poolHostGoesDown("pool-lonely")
        let worker = try app.startWorker()
        defer { worker.stop() }
        let settled = waitUntil(20) {
            (try? providerDeliveries().allSatisfy { $0.state == "delivered" }) == true && mail.names().count >= 3
        }
        let jobs = try app.database.connect().query("SELECT kind, state, last_error FROM jobs WHERE kind LIKE 'notify%'").map {
            "\(try $0.require(0, as: String.self)) \(try $0.require(1, as: String.self)) \(try $0.decode(2, as: String.self) ?? "")"
        }
        let rows = try providerDeliveries()
        #expect(settled, "\(rows) \(jobs)")
        // The signed webhook, checked by the receiver's own hmac; the tenant field is null.
        let hook = try #require(received().first)
        #expect(hook["path"] as? String == "/provider")
        #expect(hook["signature_valid"] as? Bool == true)
        let body = try #require(
            (hook["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(body["event"] as? String == "host.down" && body["tenant"] is NSNull)
        #expect((body["subject"] as? String)?.contains("pool-lonely") == true)
        // The NOC mailbox and the provider's host managers (platform engineers and provider admins) by mail.
        let recipients = try mail.names().map { try mail.parsed($0)["to"] ?? "" }.sorted()
        #expect(recipients == ["noc@provider.test", "platform_engineer@staff.test", "provider_admin@staff.test"], "\(recipients)")
        #expect(try providerDeliveries().map(\.destination).contains("http://127.0.0.1:\(receiver.port)"))
        // No tenant heard of a host that is none of theirs.
        #expect(try app.database.connect().query("SELECT 1 FROM notification_deliveries WHERE event = 'host.down'").isEmpty)
    }

    @Test func aPoolHostAGrantNamesIsToldToThatTenantAndItsHolderToo() throws {
        let globex = try People(app, slug: "globex")
        let holder = acme.id("requester@acme.test")
        try app.app.database.inTenant(acme.tenant) { tx in
            try tx.query(
                """
                INSERT INTO notification_channels (tenant_id, id, kind, name, target, events)
                VALUES ($1, $2, 'email', 'Ops', 'ops@acme.test', '{host.down}')
                """, [acme.tenant, UUID()])
        }
        _ = try poolHostGoesDown("pool-held") { host in
            // An active grant of acme's naming the pool host, written as the access feature keeps them.
            let owner = try app.database.connect()
            let (policy, request, grant) = (UUID(), UUID(), UUID())
            try owner.query(
                """
                INSERT INTO access_policies (tenant_id, id, name, kind, role, requester_roles, max_seconds)
                VALUES ($1, $2, 'pool ops', 'role', 'approver', '{requester}', 3600)
                """, [acme.tenant, policy])
            try owner.query(
                """
                INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, host_id, host_name, reason, duration_seconds,
                                             lapse_at, state)
                VALUES ($1, $2, $3, $4, 'ssh', $5, $6, 'debugging', 3600, $7, 'approved')
                """, [acme.tenant, request, policy, holder, host.id, host.name, clock.now + 3600])
            try owner.query(
                """
                INSERT INTO access_grants (tenant_id, id, request_id, user_id, kind, host_id, host_name, starts_at, ends_at)
                VALUES ($1, $2, $3, $4, 'ssh', $5, $6, $7, $8)
                """, [acme.tenant, grant, request, holder, host.id, host.name, clock.now, clock.now + 3600])
        }
        let told = try app.database.connect().query(
            "SELECT tenant_id, destination FROM notification_deliveries WHERE event = 'host.down' ORDER BY destination"
        ).map { (try $0.require(0, as: UUID.self), try $0.require(1, as: String.self)) }
        #expect(told.map(\.1) == ["ops@acme.test", "requester@acme.test"], "\(told)")
        #expect(told.allSatisfy { $0.0 == acme.tenant } && !told.contains { $0.0 == globex.tenant })
        // Staff are told once, through the provider's own deliveries, not through the tenant's.
        #expect(
            try providerDeliveries().map(\.destination).sorted()
                == ["http://127.0.0.1:\(receiver.port)", "noc@provider.test", "platform_engineer@staff.test", "provider_admin@staff.test"]
                .sorted())
    }
}
