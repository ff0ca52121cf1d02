// p95 latency and TTFT objectives raise alerts through the incident intake and resolve them: the
// probe peer turns slow on command, the clock moves probes due, and the window's p95 crosses the
// objective (the target's own TTFT objective; the tenant's SLA policy's latency objective).
import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite(.serialized) struct LatencyAlertTests {
    static let policy = DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])

    @Test func aSlowEndpointFiresItsObjectivesOnceAndResolvesThemWhenFastAgain() throws {
        let app = try TestApp()
        let people = try People(app, staff: false)
        let peer = try ProbeTargetPeer()
        let clock = RunningClock()
        let world = World(clock: clock)
        let owner = try app.database.connect()
        try owner.query(
            """
            INSERT INTO sla_policies (tenant_id, policy, updated_at) VALUES ($1, '{"uptime": {"p95_latency_ms": 1200}}'::jsonb, $2)
            ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy
            """, [people.tenant, clock.now])
        var input = ProbeTargetInput()
        (input.name, input.url, input.kind, input.intervalSeconds, input.p95TTFTMs) = (
            "chat", "http://127.0.0.1:\(peer.port)/v1", "openai_chat", 60, 250
        )
        let target = try ProbeTargets(database: app.app.database, world: world, keyring: TestEnvironment.keyring, policy: Self.policy)
            .create(input, tenant: people.tenant, actor: .system)
        func tick(_ times: Int) throws {
            for _ in 0..<times {
                try ProbeTick.run(
                    database: app.app.database, world: world, keyring: TestEnvironment.keyring, destinations: Self.policy,
                    publicURL: "http://purser.test")
                clock.advance(by: 60)
            }
        }
        func alerts() throws -> [String: String] {
            Dictionary(
                uniqueKeysWithValues: try owner.query(
                    "SELECT alertname, status FROM incident_alerts WHERE tenant_id = $1 AND fingerprint LIKE 'slo-%'", [people.tenant]
                ).map { (try $0.require(0, as: String.self), try $0.require(1, as: String.self)) })
        }
        func incidents() throws -> [(state: String, severity: String)] {
            try owner.query("SELECT state, severity FROM incidents WHERE tenant_id = $1", [people.tenant]).map {
                (try $0.require(0), try $0.require(1))
            }
        }

        // Fast: within both objectives, nothing fires.
        try peer.set(ttftMs: 20, gapMs: 5, tokens: 3)
        try tick(5)
        #expect(try alerts().isEmpty)

        // Slow first tokens (TTFT ≈ 400 ms > 250 ms) but the whole answer inside 1,200 ms: only the
        // TTFT objective fires, once, as one SEV3 incident, however many probes stay slow.
        try peer.set(ttftMs: 400, gapMs: 5, tokens: 3)
        try tick(5)
        #expect(try alerts() == ["TTFTObjectiveBreached": "firing"])
        #expect(try incidents().map(\.severity) == ["SEV3"] && incidents().first?.state == "detected")
        // Slower still (latency ≈ 400 + 4 × 300 ms > 1,200 ms): the latency objective joins the same incident.
        try peer.set(gapMs: 300, tokens: 5)
        try tick(2)
        #expect(try alerts() == ["TTFTObjectiveBreached": "firing", "LatencyObjectiveBreached": "firing"])
        #expect(try incidents().count == 1)
        let stamps = try owner.query(
            "SELECT latency_breach_at IS NOT NULL, ttft_breach_at IS NOT NULL FROM probe_targets WHERE id = $1", [target.id])[0]
        #expect(try stamps.require(0, as: Bool.self) && stamps.require(1, as: Bool.self))

        // Fast again: once the slow probes have left the 15-minute window, both resolve, and the
        // incident with them.
        try peer.set(ttftMs: 20, gapMs: 5, tokens: 3)
        clock.advance(by: 15 * 60)
        try tick(5)
        #expect(try alerts() == ["TTFTObjectiveBreached": "resolved", "LatencyObjectiveBreached": "resolved"])
        #expect(try incidents().map(\.state) == ["resolved"])
        #expect(try owner.query("SELECT count(*)::int FROM incident_alerts WHERE tenant_id = $1", [people.tenant])[0].require(0) == 2)
    }

    /// A tenant with nobody to file an incident's request for (no members, no staff) cannot open
    /// its incident; the tick still records every tenant's probes and opens the others' incidents.
    @Test func oneTenantsFailedIncidentNeverStopsTheOthersProbes() throws {
        let app = try TestApp()
        let people = try People(app, slug: "kept", staff: false)
        let lonely = try TenantStore(database: app.app.database, clock: app.app.world.clock).create(
            NewTenant(slug: "lonely", name: "Lonely Ltd"), actor: .system, reason: nil)
        let peer = try ProbeTargetPeer()
        try peer.set(fail: true)
        let world = World(clock: RunningClock())
        let targets = ProbeTargets(database: app.app.database, world: world, keyring: TestEnvironment.keyring, policy: Self.policy)
        var made: [ProbeTarget] = []
        for tenant in [lonely, people.tenant] {
            var input = ProbeTargetInput()
            (input.name, input.url, input.kind) = ("health", "http://127.0.0.1:\(peer.port)/health", "http")
            made.append(try targets.create(input, tenant: tenant, actor: .system))
        }
        #expect(
            try ProbeTick.run(
                database: app.app.database, world: world, keyring: TestEnvironment.keyring, destinations: Self.policy,
                publicURL: "http://purser.test") == 2)
        let owner = try app.database.connect()
        for target in made {
            let row = try owner.query("SELECT state, incident_id IS NOT NULL FROM probe_targets WHERE id = $1", [target.id])[0]
            #expect(try row.require(0, as: String.self) == "down")
            #expect(try row.require(1, as: Bool.self) == (target.tenant == people.tenant))
        }
        let failed = try owner.query(
            "SELECT reason FROM audit_events WHERE action = 'monitoring.incident_failed' AND target_id = $1", [made[0].id.postgresText])
        #expect(try failed.map { try $0.require(0, as: String.self) }.first?.contains("nobody to file") == true)
    }
}
