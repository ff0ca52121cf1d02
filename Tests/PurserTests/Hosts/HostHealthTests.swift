import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Purser's own SSH: the health check signs a certificate for `_purser.<host>` limited to the health
/// command and to Purser's address, reads the test host's nvidia-smi, uptime and disk over SSH, and
/// stores them; a host that stops answering is marked down after a few minutes of the World's clock
/// and host.down is sent. Every use of SSH is audited.
@Suite(.serialized) struct HostHealthTests {
    let clock = SettableClock(LiveClock().now)
    let app: TestApp
    let people: People
    let peer: SSHPeer
    let hosts: HostStore
    let worker: Database

    init() throws {
        let (app, clock) = (try TestApp(clock: clock), clock)
        self.app = app
        people = try People(app, staff: true)
        let made = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: clock.now)
        }
        peer = try SSHPeer(
            caPublicKey: made.publicKey, principals: [SSHPrincipal.purser(hostName: "gpu-a1")],
            krl: try app.get(SitePage.sshKRL.template).body)
        hosts = HostStore(database: app.app.database, clock: clock)
        worker = Database(url: app.database.url, size: 2, worker: true)
    }

    func host(_ name: String, port: Int) throws -> GPUHost {
        var input = HostInput()
        (input.name, input.address, input.sshPort, input.sshLogin) = (name, "127.0.0.1", port, peer.login)
        (input.hostKeys, input.runtime) = ([peer.hostKey], "vllm")
        input.gpus = [GPUHost.GPU(model: "NVIDIA H100 80GB HBM3", count: 2, memoryMiB: 81559)]
        return try hosts.create(input, tenant: people.tenant, actor: .system)
    }

    func check(_ host: GPUHost) throws {
        let job = Job(
            id: 0, kind: HostHealthCheck.kind, payload: JSONText("{}"), tenant: host.tenant, attempt: 1, maxAttempts: 1, timeout: 30)
        try HostHealthCheck.check(
            host.id, context: JobContext(job: job, database: worker, world: app.app.world), keyring: TestEnvironment.keyring)
    }

    @Test func theHealthCheckReadsTheHostOverSSH() throws {
        let host = try host("gpu-a1", port: peer.port)
        try check(host)
        let read = try hosts.find(host.id, .tenant(people.tenant))
        #expect(read.healthError == nil, "\(read.healthError ?? "")\n\(peer.logText)")
        let reading = try #require(read.health)
        #expect(reading.gpus.count == 2)
        #expect(
            reading.gpus[0]
                == .init(
                    name: "NVIDIA H100 80GB HBM3", memoryTotalMiB: 81559, memoryUsedMiB: 40123, utilizationPercent: 87, temperatureC: 64))
        #expect(reading.uptimeSeconds > 0 && reading.diskTotalKiB > 0 && reading.diskUsedKiB > 0)
        #expect(read.state == .active && abs((read.answeredAt ?? .distantPast).timeIntervalSince(clock.now)) < 0.001)
        // sshd saw Purser's certificate: its principal, limited to the health command.
        #expect(peer.logText.contains("purser:health:\(host.id.postgresText)"), "\(peer.logText)")
        let audited = try app.database.connect().query(
            "SELECT after->>'principal', after->>'status', after->>'command' FROM audit_events WHERE action = 'host.ssh' AND target_id = $1",
            [host.id.postgresText])
        #expect(audited.count == 1)
        #expect(try audited[0].require(0, as: String.self) == "_purser.gpu-a1" && audited[0].require(1, as: String.self) == "0")
        #expect(try audited[0].require(2, as: String.self) == HostHealthReading.command)
    }

    @Test func aHostThatStopsAnsweringIsMarkedDownAndTold() throws {
        // A port nothing listens on: the connection is refused.
        let host = try host("gpu-dead", port: RawHTTP.freePort())
        try check(host)
        var read = try hosts.find(host.id, .tenant(people.tenant))
        #expect(read.state == .active && read.healthError != nil)
        clock.advance(by: HostHealthCheck.downAfter + 1)
        try check(host)
        read = try hosts.find(host.id, .tenant(people.tenant))
        #expect(read.state == .down)
        let told = try app.database.connect().query(
            "SELECT destination FROM notification_deliveries WHERE tenant_id = $1 AND event = 'host.down' ORDER BY destination",
            [people.tenant]
        ).map { try $0.require(0, as: String.self) }
        #expect(told == ["platform_engineer@staff.test", "provider_admin@staff.test"])
        // Told once: the next failed check finds it down already.
        clock.advance(by: 60)
        try check(host)
        #expect(try app.database.connect().query("SELECT 1 FROM notification_deliveries WHERE event = 'host.down'").count == 2)
    }

    /// A host of the shared pool has no tenant: the tenants whose active grants name it hear that it
    /// is down (their channels and the grants' holders; the provider's host managers hear through the
    /// provider's own deliveries), and no other tenant does.
    @Test func aPoolHostDownIsToldToTheTenantsWhoseGrantsNameIt() throws {
        let globex = try People(app, slug: "globex")
        var input = HostInput()
        (input.name, input.address, input.sshPort, input.sshLogin) = ("pool-dead", "127.0.0.1", RawHTTP.freePort(), peer.login)
        (input.hostKeys, input.runtime) = ([peer.hostKey], "vllm")
        let pool = try hosts.create(input, tenant: nil, actor: .system)
        // An active SSH grant of acme's naming the pool host (written as the access feature keeps them).
        let owner = try app.database.connect()
        let (policy, request, grant) = (UUID.v7(at: clock.now), UUID.v7(at: clock.now), UUID.v7(at: clock.now))
        let requester = people.id("requester@acme.test")
        try owner.query(
            """
            INSERT INTO access_policies (tenant_id, id, name, kind, host_labels, host_source, ssh_login, requester_roles, max_seconds)
            VALUES ($1, $2, 'pool ssh', 'ssh', '{pool}', 'pool', 'ops', '{requester}', 3600)
            """, [people.tenant, policy])
        try owner.query(
            """
            INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, host_id, host_name, reason, duration_seconds, lapse_at, state)
            VALUES ($1, $2, $3, $4, 'ssh', $5, 'pool-dead', 'debugging', 3600, $6, 'approved')
            """, [people.tenant, request, policy, requester, pool.id, clock.now + 3600])
        try owner.query(
            """
            INSERT INTO access_grants (tenant_id, id, request_id, user_id, kind, host_id, host_name, starts_at, ends_at)
            VALUES ($1, $2, $3, $4, 'ssh', $5, 'pool-dead', $6, $7)
            """, [people.tenant, grant, request, requester, pool.id, clock.now, clock.now + 3600])
        clock.advance(by: HostHealthCheck.downAfter + 1)
        try check(pool)
        #expect(try hosts.find(pool.id, .staff).state == .down)
        let told = try owner.query(
            "SELECT tenant_id, destination FROM notification_deliveries WHERE event = 'host.down' ORDER BY destination")
        #expect(try told.map { try $0.require(0, as: UUID.self) } == [people.tenant])
        #expect(try told.map { try $0.require(1, as: String.self) } == ["requester@acme.test"])
        #expect(try !told.contains { try $0.require(0, as: UUID.self) == globex.tenant })
        #expect(try hosts.list(.tenant(globex.tenant)).isEmpty && hosts.list(.tenant(people.tenant)).isEmpty)
    }

    @Test func drainingRunsPurserDrainOnTheHostAsPurser() throws {
        // The host's operator's command: here it leaves a mark the test can see.
        let mark = peer.folder.appendingPathComponent("drained")
        try "#!/bin/sh\necho \"$0\" > \(mark.path)\n".write(
            to: peer.bin.appendingPathComponent("purser-drain"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: peer.bin.appendingPathComponent("purser-drain").path)
        let host = try host("gpu-a1", port: peer.port)
        var change = HostInput()
        change.state = "draining"
        _ = try hosts.update(host.id, change, reach: .tenant(people.tenant), ifMatch: host.etag, actor: .system)
        let queued = try app.database.connect().query(
            "SELECT id, payload::text, attempts FROM jobs WHERE kind = 'hosts.drain' AND lower(payload->>'host') = $1",
            [host.id.postgresText])
        #expect(queued.count == 1)
        let job = Job(
            id: try queued[0].require(0), kind: HostDrain.kind, payload: JSONText(try queued[0].require(1, as: String.self)),
            tenant: people.tenant, attempt: 1, maxAttempts: 20, timeout: 30)
        var handlers = JobHandlers()
        HostDrain.register(into: &handlers, keyring: TestEnvironment.keyring)
        let drain = try #require(handlers.handler(for: HostDrain.kind))
        try drain(JobContext(job: job, database: worker, world: app.app.world))
        #expect(FileManager.default.fileExists(atPath: mark.path), "\(peer.logText)")
        #expect(peer.logText.contains("purser:drain:\(host.id.postgresText)"))
    }

    @Test func theScheduleQueuesOneCheckPerHostEveryMinute() throws {
        #expect(Schedules.standard.contains(HostHealthCheck.schedule) && HostHealthCheck.schedule.recurrence == .every(seconds: 60))
        let first = try host("gpu-a1", port: peer.port)
        let second = try host("gpu-b2", port: peer.port)
        let job = Job(id: 0, kind: HostHealthCheck.kind, payload: JSONText("{}"), tenant: nil, attempt: 1, maxAttempts: 1, timeout: 30)
        let context = JobContext(job: job, database: worker, world: app.app.world)
        try HostHealthCheck.fanOut(context)
        try HostHealthCheck.fanOut(context)  // coalesced while the first checks wait
        let queued = try app.database.connect().query(
            "SELECT unique_key, tenant_id FROM jobs WHERE kind = 'hosts.health' ORDER BY unique_key"
        ).map { (try $0.require(0, as: String.self), try $0.require(1, as: UUID.self)) }
        #expect(queued.map(\.0) == [first.id, second.id].map { "hosts.health:" + $0.postgresText }.sorted())
        #expect(queued.allSatisfy { $0.1 == people.tenant })
    }

    @Test func healthOutputIsParsedAsNVIDIADocumentsIt() {
        let output =
            "NVIDIA A100-SXM4-40GB, 40960, [N/A], 3, 41\n--purser-uptime--\n12345.67 2345.00\n--purser-disk--\n"
            + "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/root 1000 250 750 25% /\n"
        guard case .success(let reading) = HostHealthReading.parse(output) else { Issue.record("not parsed"); return }
        #expect(
            reading.gpus == [
                .init(name: "NVIDIA A100-SXM4-40GB", memoryTotalMiB: 40960, memoryUsedMiB: 0, utilizationPercent: 3, temperatureC: 41)
            ])
        #expect(reading.uptimeSeconds == 12345 && reading.diskTotalKiB == 1000 && reading.diskUsedKiB == 250)
        guard case .failure = HostHealthReading.parse("garbage") else { Issue.record("garbage parsed"); return }
        // A host printing numbers no Int holds is read without trapping: 0 for a GPU figure, unreadable uptime.
        let odd =
            "GPU, 40960, inf, nan, 1e300\n--purser-uptime--\n1e300 0\n--purser-disk--\n"
            + "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/root 1000 250 750 25% /\n"
        guard case .failure = HostHealthReading.parse(odd) else { Issue.record("an uptime of 1e300 s read"); return }
        let gpuOdd = odd.replacingOccurrences(of: "uptime--\n1e300 0", with: "uptime--\n12.5 0")
        guard case .success(let figures) = HostHealthReading.parse(gpuOdd) else { Issue.record("inf/nan GPU figures refused"); return }
        #expect(figures.gpus.first?.memoryUsedMiB == 0 && figures.gpus.first?.temperatureC == 0)
    }
}
