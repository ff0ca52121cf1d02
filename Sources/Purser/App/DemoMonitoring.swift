// Demo monitoring for `purser dev`: three endpoints Acme's CSE added a week ago (a health URL, a
// chat model and a search API), a week of probe results at their interval with a daily rhythm in
// latency and time to first token, one confirmed 30-minute outage of the chat model two days ago
// (recorded through the recorder, so it opened and resolved a real incident), and a maintenance
// window planned for next week. The demo's hosts are under `.example`, which never resolves: a
// running worker records its probes of them as Purser errors, which do not count toward uptime.
import Foundation
import Postgres

enum DemoMonitoring {
    /// Answers for the demo's own hosts only (with a documentation address), so the destination
    /// check accepts them when they are added; probes use the real resolver.
    struct DemoResolver: NameResolver {
        func addresses(of host: String) throws -> [String] {
            guard host.hasSuffix(".acme.example") else { throw RefusedDestination(description: "\(host) is not a demo host") }
            return ["203.0.113.10"]
        }
    }

    /// (name, URL, kind, model, typical latency in ms)
    static let endpoints: [(String, String, ProbeTarget.Kind, String, Int)] = [
        ("acme-api-health", "https://api.acme.example/health", .http, "", 90),
        ("fraud-scoring-chat", "https://llm.acme.example/v1/chat/completions", .openAIChat, "llama-3.1-8b-instruct", 1100),
        ("document-search", "https://search.acme.example/v1/chat/completions", .openAIChat, "qwen2.5-7b-instruct", 800),
    ]
    static let interval = 60

    static func seed(database: Database, tenant: UUID, keyring: Keyring, clock: any WallClock) throws {
        let now = clock.now
        let cse = try database.pool.query("SELECT id FROM users WHERE email = 'cse@purser.test'")[0].require(0, as: UUID.self)
        let actor = AuditActor.person(cse, isStaff: true, origin: nil)
        // Probes ran once a minute from a week ago until the last whole minute.
        let lastTick = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let firstTick = lastTick.addingTimeInterval(-7 * 86400)
        let targets = ProbeTargets(
            database: database, world: World(clock: SettableClock(firstTick), resolver: DemoResolver()), keyring: keyring,
            policy: DestinationPolicy())
        var added: [ProbeTarget] = []
        for (name, url, kind, model, _) in endpoints {
            var input = ProbeTargetInput()
            input.name = name
            input.url = url
            input.kind = kind.rawValue
            input.model = model.isEmpty ? nil : model
            input.intervalSeconds = interval
            if kind == .openAIChat {
                input.availabilityPercent = 99.5
                input.p95TTFTMs = 600
            }
            added.append(try targets.create(input, tenant: tenant, actor: actor))
        }
        let chat = added[1]
        let outageStart = lastTick.addingTimeInterval(-2 * 86400 - 5 * 3600)
        let outageEnd = outageStart.addingTimeInterval(30 * 60)
        // One statement per endpoint for the week (about 10,000 rows each). Latency follows the
        // day (slowest in the afternoon, UTC) with some scatter; a chat streams 16 tokens.
        try database.inTenant(tenant) { tx in
            for (target, entry) in zip(added, endpoints) {
                try tx.query(
                    """
                    INSERT INTO probe_results (tenant_id, target_id, at, outcome, status, latency_ms, ttft_ms, tokens, retried, error)
                    SELECT $1, $2, s.at, CASE WHEN down THEN 'down' ELSE 'up' END, CASE WHEN down THEN 503 ELSE 200 END,
                           CASE WHEN down THEN 40 + n % 20
                                ELSE round($5::float8 * (1 + 0.2 * sin(2 * pi() * extract(hour FROM s.at AT TIME ZONE 'UTC') / 24))
                                           + $5::float8 * 0.15 * (n % 97) / 97 + CASE WHEN n % 211 = 0 THEN $5::float8 * 2 ELSE 0 END)::int END,
                           CASE WHEN down OR NOT $6::boolean THEN NULL
                                ELSE round(240 * (1 + 0.25 * sin(2 * pi() * extract(hour FROM s.at AT TIME ZONE 'UTC') / 24))
                                           + 60 * (n % 89) / 89.0)::int END,
                           CASE WHEN down OR NOT $6::boolean THEN NULL ELSE 16 END, down,
                           CASE WHEN down THEN 'HTTP 503: upstream unavailable' END
                    FROM generate_series($3::timestamptz, $4::timestamptz, make_interval(secs => $7::int)) AS s(at),
                         LATERAL (SELECT (extract(epoch FROM s.at)::bigint / 60) * 7919 + $8::bigint AS n) AS noise,
                         LATERAL (SELECT $2::uuid = $9::uuid AND s.at >= $10::timestamptz AND s.at < $11::timestamptz AS down) AS outage
                    ON CONFLICT (tenant_id, target_id, at) DO NOTHING
                    """,
                    [
                        tenant, target.id, firstTick, lastTick, entry.4, entry.2 == .openAIChat, interval, entry.4, chat.id,
                        outageStart, outageEnd,
                    ])
            }
        }
        // The outage's first and last readings and the latest one go through the recorder, so the
        // endpoints' states, the incident it opened and its recovery are what a live worker leaves.
        let incidents = ProbeIncidents(database: database, publicURL: DemoIncidents.publicURL)
        try ProbeRecorder.record(
            database,
            [(chat, ProbeReading(outcome: .down, status: 503, latencyMs: 42, error: "HTTP 503: upstream unavailable"))],
            incidents: incidents, at: outageStart)
        try ProbeRecorder.record(
            database, [(try targets.find(chat.id, tenant: tenant), ProbeReading(outcome: .up, status: 200, latencyMs: 1150, ttftMs: 250))],
            incidents: incidents, at: outageEnd)
        let latest = try added.map { try targets.find($0.id, tenant: tenant) }
        try ProbeRecorder.record(
            database,
            latest.map {
                ($0, ProbeReading(outcome: .up, status: 200, latencyMs: $0.kind == .http ? 90 : 1100, ttftMs: $0.kind == .http ? nil : 240))
            },
            incidents: incidents, at: lastTick)
        // Next week's planned upgrade of the chat model's hosts: two hours from 02:00 UTC, a week on.
        let nextWeek = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86400).rounded(.down) * 86400 + 7 * 86400 + 2 * 3600)
        _ = try MaintenanceWindows.create(
            database, tenant: tenant, target: chat.id, startsAt: nextWeek, endsAt: nextWeek.addingTimeInterval(2 * 3600),
            reason: "GPU driver upgrade on the inference hosts", actor: actor, at: now)
    }
}
