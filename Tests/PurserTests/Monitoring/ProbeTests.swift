import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// A clock that runs in real time (so time to first token is measured) and can be moved ahead (so
/// probes fall due without waiting).
final class RunningClock: WallClock, @unchecked Sendable {
    private let live = LiveClock()
    private let shift = Locked(0.0)
    var now: Date { live.now.addingTimeInterval(shift.withLock { $0 }) }
    func advance(by seconds: TimeInterval) { shift.withLock { $0 += seconds } }
    func wait(until deadline: Date, on interrupt: Interrupt, woken: () -> Bool) {
        live.wait(until: deadline.addingTimeInterval(-shift.withLock { $0 }), on: interrupt, woken: woken)
    }
}

/// Names that resolve to loopback until told to fail, as if Purser's own resolver broke.
final class SwitchableResolver: NameResolver, @unchecked Sendable {
    let broken = Locked(false)
    func addresses(of host: String) throws -> [String] {
        if broken.withLock({ $0 }) { throw TestSetupError("resolver unreachable") }
        return host == "probe.test" ? ["127.0.0.1"] : try SystemResolver().addresses(of: host)
    }
}

/// Probes against a loopback OpenAI-compatible peer: what they measure, how failures are confirmed
/// and counted, maintenance, and how a misbehaving target is cut off.
@Suite(.serialized) struct ProbeTests {
    static let policy = DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
    let app: TestApp
    let people: People
    let peer: ProbeTargetPeer
    let clock = RunningClock()
    let resolver = SwitchableResolver()
    var world: World { World(clock: clock, resolver: resolver) }

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
        peer = try ProbeTargetPeer()
    }

    func targets() -> ProbeTargets {
        ProbeTargets(database: app.app.database, world: world, keyring: TestEnvironment.keyring, policy: Self.policy)
    }

    func add(_ name: String, _ url: String, kind: String = "http", timeoutMs: Int = 5000) throws -> ProbeTarget {
        var input = ProbeTargetInput()
        (input.name, input.url, input.kind, input.timeoutMs, input.intervalSeconds) = (name, url, kind, timeoutMs, 30)
        return try targets().create(input, tenant: people.tenant, actor: .system)
    }

    func tick(following: TimeInterval = 0) throws -> Int {
        try ProbeTick.run(
            database: app.app.database, world: world, keyring: TestEnvironment.keyring, destinations: Self.policy,
            publicURL: "http://purser.test", following: following)
    }

    struct Stored: Equatable {
        var outcome: String
        var status: Int?
        var latency: Int?
        var ttft: Int?
        var tokens: Int?
        var retried: Bool
        var error: String?
    }

    func results(_ target: ProbeTarget) throws -> [Stored] {
        try app.app.database.inTenant(people.tenant) { tx in
            try tx.query(
                "SELECT outcome, status, latency_ms, ttft_ms, tokens, retried, error FROM probe_results WHERE tenant_id = $1 AND target_id = $2 ORDER BY at",
                [people.tenant, target.id]
            ).map {
                Stored(
                    outcome: try $0.require(0), status: try $0.decode(1), latency: try $0.decode(2), ttft: try $0.decode(3),
                    tokens: try $0.decode(4), retried: try $0.require(5), error: try $0.decode(6))
            }
        }
    }

    func incidentState(_ id: UUID) throws -> String? {
        try app.database.connect().query("SELECT state FROM incidents WHERE id = $1", [id]).first?.decode(0)
    }

    @Test func aStreamedChatIsTimedAndOnlyConfirmedFailuresCount() throws {
        try peer.set(ttftMs: 300, gapMs: 40, tokens: 5)
        let chat = try add("chat", "http://probe.test:\(peer.port)/v1", kind: "openai_chat")
        let before = peer.requests

        // Up: time to first token ≥ the peer's 300 ms, total ≥ that plus four 40 ms gaps, five tokens.
        #expect(try tick() == 1)
        var stored = try results(chat)
        #expect(stored.count == 1 && stored[0].outcome == "up" && stored[0].tokens == 5 && stored[0].status == 200)
        let ttft = try #require(stored[0].ttft), latency = try #require(stored[0].latency)
        #expect((300..<1500).contains(ttft), "ttft \(ttft)")
        #expect(latency >= ttft + 150 && latency < ttft + 1500, "latency \(latency), ttft \(ttft)")
        #expect(peer.requests == before + 1)

        // Not due yet: nothing is probed.
        #expect(try tick() == 0)

        // One failure, answered by the retry: kept as up (retried), not counted down.
        try peer.set(failNext: 1)
        clock.advance(by: 30)
        #expect(try tick() == 1)
        stored = try results(chat)
        #expect(stored.last?.outcome == "up" && stored.last?.retried == true)
        #expect(stored.last?.error?.contains("HTTP 503") == true)

        // Failing on command: the retry confirms it; the endpoint is down, audited.
        try peer.set(fail: true)
        clock.advance(by: 30)
        let sent = peer.requests
        #expect(try tick() == 1)
        #expect(peer.requests == sent + 2, "a probe and its retry")
        stored = try results(chat)
        #expect(stored.last?.outcome == "down" && stored.last?.retried == true && stored.last?.status == 503)
        #expect(try targets().find(chat.id, tenant: people.tenant).state == "down")
        let audited = try app.database.connect().query(
            "SELECT count(*)::int FROM audit_events WHERE action = 'monitoring.endpoint_down' AND target_id = $1", [chat.id.postgresText])
        #expect(try audited[0].require(0, as: Int.self) == 1)
        // It opened an incident through the incidents' intake (kept on the target until it is up again).
        let incident = try #require(try targets().find(chat.id, tenant: people.tenant).incidentID)
        #expect(try incidentState(incident) == "detected")

        // Purser's own failure (its resolver gives no address): recorded, not counted, state kept.
        resolver.broken.withLock { $0 = true }
        clock.advance(by: 30)
        #expect(try tick() == 1)
        resolver.broken.withLock { $0 = false }
        #expect(try results(chat).last?.outcome == "purser_error")
        #expect(try targets().find(chat.id, tenant: people.tenant).state == "down")

        // Planned maintenance: a failure inside the window is not counted and changes nothing.
        let window = try MaintenanceWindows.create(
            app.app.database, tenant: people.tenant, target: chat.id, startsAt: clock.now.addingTimeInterval(10),
            endsAt: clock.now.addingTimeInterval(100), reason: "upgrade", actor: .system, at: clock.now)
        clock.advance(by: 30)
        #expect(try tick() == 1)
        #expect(try results(chat).last?.outcome == "maintenance")

        // Back up after the window.
        try peer.set(fail: false)
        clock.advance(by: window.endsAt.timeIntervalSince(clock.now) + 1)
        #expect(try tick() == 1)
        #expect(try targets().find(chat.id, tenant: people.tenant).state == "up")
        #expect(try targets().find(chat.id, tenant: people.tenant).incidentID == nil)
        #expect(try incidentState(incident) == "resolved", "its only signal resolved")

        // The figures: 3 up, 1 down, 1 of Purser's, 1 in maintenance → 75 % uptime; TTFT p95 from
        // the up probes, as stored.
        let figures = try app.app.database.inTenant(people.tenant) { tx in
            try UptimeQuery.counts(
                tx, tenant: people.tenant, target: chat.id, from: clock.now.addingTimeInterval(-3600), to: clock.now.addingTimeInterval(1),
                now: clock.now)
        }
        let counts = try #require(figures[chat.id]).counts
        #expect(counts.up == 3 && counts.down == 1 && counts.purserErrors == 1 && counts.maintenance == 1 && counts.probes == 6)
        #expect(counts.uptimePercent == 75)
        let upTTFTs = try results(chat).filter { $0.outcome == "up" }.compactMap(\.ttft).sorted()
        #expect(counts.ttftP95Ms == upTTFTs.last)
        // The same day in the LLM signal vocabulary, as the API and the endpoint page give it.
        let signals = try app.app.database.inTenant(people.tenant) {
            try EndpointStatus.all($0, tenant: people.tenant, now: clock.now, only: chat.id).1.first?.lastDay
        }
        #expect(signals?[.errorRate] == 0.25 && signals?[.p95TTFTMs] == upTTFTs.last.map(Double.init))

        // The pages show the same figures, the charts, and the incident the failure opened.
        let admin = try people.signedIn("viewer@acme.test", in: app)
        let list = String(decoding: try admin.get("/t/acme/endpoints").body, as: UTF8.self)
        #expect(list.contains("75.000 %") && list.contains("99.50 %"))
        let page = try admin.get("/t/acme/endpoints/\(chat.id.postgresText)")
        let text = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 200 && text.contains("chat is down") && text.contains("<svg") && text.contains("upgrade"))
        #expect(text.contains("1 down, confirmed by a retry") || text.contains("(1 down"))
    }

    /// A live SageMaker endpoint is probed through the runtime API, signed with the target's keys.
    @Test func aSageMakerEndpointIsProbedThroughItsStreamingInvocation() throws {
        try peer.set(fail: false, ttftMs: 250, gapMs: 30, tokens: 4)
        let (database, owner) = (app.app.database, try app.database.connect())
        let requester = people.id("requester@acme.test")
        let environment = UUID()
        try owner.query(
            "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, 'production', 1, $3)",
            [people.tenant, environment, clock.now])
        let target = try DeploymentTargets(database: database, keyring: TestEnvironment.keyring, clock: clock).create(
            NewTarget(
                name: "aws", kind: "sagemaker", region: "eu-west-1", endpointURL: "http://127.0.0.1:\(peer.port)",
                credentials: ProviderCredentials(
                    accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
            tenant: people.tenant, by: requester, actor: .system)
        let registry = ModelRegistry(database: database, clock: clock)
        let model = try registry.register(
            NewModel(name: "Llama", family: "Llama 3.1", source: "open_weights", licence: "Llama 3.1 Community Licence"),
            tenant: people.tenant, owner: requester, actor: .system)
        let version = try registry.addVersion(
            NewModelVersion(
                version: "1.0.0", artifactURI: "s3://models/llama/1.0.0", digest: "sha256:" + String(repeating: "ab", count: 32),
                format: "safetensors", parameterCount: 8_000_000_000, contextLength: 8192, card: "Card"),
            to: model.id, tenant: people.tenant, by: requester, actor: .system)
        let endpoint = UUID()
        try owner.query(
            """
            INSERT INTO endpoints (tenant_id, id, target_id, environment_id, name, live_version_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'chat', $5, $6, $6)
            """, [people.tenant, endpoint, target.id, environment, version.id, clock.now])

        #expect(try tick() == 1, "the live endpoint got a target and was probed")
        let probed = try #require(try targets().list(tenant: people.tenant).first { $0.endpointID == endpoint })
        #expect(probed.kind == .sagemaker && probed.name == "production/aws/chat" && probed.url.hasSuffix("/invocations-response-stream"))
        let reading = try #require(try results(probed).last)
        #expect(reading.outcome == "up" && reading.tokens == 4, "\(reading)")
        #expect((250..<1500).contains(reading.ttft ?? 0) && (reading.latency ?? 0) >= (reading.ttft ?? 0) + 60)

        // The model failing is the endpoint's failure, confirmed by the retry.
        try peer.set(fail: true)
        clock.advance(by: 60)
        #expect(try tick() == 1)
        #expect(try results(probed).last?.outcome == "down" && (try results(probed).last?.error ?? "").contains("ModelError"))
        try peer.set(fail: false)

        // No longer live: no longer probed.
        try owner.query("UPDATE endpoints SET live_version_id = NULL WHERE id = $1", [endpoint])
        clock.advance(by: 60)
        #expect(try tick() == 0)
    }

    @Test func aTargetThatHangsSendsWithoutEndOrRedirectsIsCutOff() throws {
        let hang = try add("hang", "http://probe.test:\(peer.port)/hang", timeoutMs: 1000)
        let huge = try add("huge", "http://probe.test:\(peer.port)/huge")
        let loop = try add("loop", "http://probe.test:\(peer.port)/loop")
        let started = Date.now
        #expect(try tick() == 3)
        // Probed in parallel: the hanging one (1 s, and its retry) bounds the tick.
        #expect(Date.now.timeIntervalSince(started) < 6)
        let hung = try #require(try results(hang).last)
        #expect(hung.outcome == "down" && hung.retried && hung.error == "no complete answer within 1000 ms")
        #expect((1000..<3000).contains(hung.latency ?? 0))
        let big = try #require(try results(huge).last)
        #expect(big.outcome == "down" && big.error?.contains("cut off") == true)
        let looped = try #require(try results(loop).last)
        #expect(looped.outcome == "down" && looped.status == 302 && looped.error?.contains("do not follow redirects") == true)
    }

    @Test func handAddedURLsPassTheDestinationChecks() throws {
        let strict = ProbeTargets(
            database: app.app.database, world: world, keyring: TestEnvironment.keyring, policy: DestinationPolicy())
        var input = ProbeTargetInput()
        (input.name, input.url) = ("metadata", "https://169.254.169.254/latest/meta-data/")
        #expect(throws: ValidationError.self) { try strict.create(input, tenant: people.tenant, actor: .system) }
        (input.name, input.url) = ("internal", "https://10.1.2.3/")
        #expect(throws: ValidationError.self) { try strict.create(input, tenant: people.tenant, actor: .system) }
        // A deployment endpoint (registered by providers.manage) may sit on a private network; loopback
        // and link-local stay refused.
        let prober = Prober(world: world, manualPolicy: DestinationPolicy())
        #expect(throws: Never.self) {
            try Destinations.check("http://10.1.2.3/v1", policy: prober.policy(for: .endpoint), resolver: world.resolver)
        }
        #expect(throws: RefusedDestination.self) {
            try Destinations.check("http://169.254.169.254/", policy: prober.policy(for: .endpoint), resolver: world.resolver)
        }
        #expect(throws: RefusedDestination.self) {
            try Destinations.check("http://10.1.2.3/", policy: prober.policy(for: .manual), resolver: world.resolver)
        }
    }

    /// The scheduled tick follows the due times through its period: a probe falling due while it
    /// runs starts on its time (here within a second), not at the next tick up to 15 s later.
    @Test func theScheduledTickStartsAProbeFallingDueOnTime() throws {
        _ = try add("due-now", "http://probe.test:\(peer.port)/health")
        let soon = try add("due-soon", "http://probe.test:\(peer.port)/health")
        let due = clock.now.addingTimeInterval(2)
        try app.app.database.asStaff { tx in
            try tx.query("UPDATE probe_targets SET next_due_at = $3 WHERE tenant_id = $1 AND id = $2", [people.tenant, soon.id, due])
        }
        #expect(try tick() == 1, "without following, only what is due now")
        #expect(try tick(following: 5) == 1, "the one falling due, then nothing more within the period")
        let at = try app.app.database.asStaff { tx in
            try tx.query("SELECT at FROM probe_results WHERE tenant_id = $1 AND target_id = $2", [people.tenant, soon.id])[0]
                .require(0, as: Date.self)
        }
        #expect(at >= due && at < due.addingTimeInterval(1), "claimed \(at.timeIntervalSince(due)) s after its due time")
    }
}
