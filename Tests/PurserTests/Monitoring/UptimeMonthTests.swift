import Foundation
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The SLO arithmetic against a month worked out by hand: November 2026 in Europe/Zurich (CET all
/// month: 2026-10-31 23:00 UTC to 2026-11-30 23:00 UTC, 2,592,000 s), a probe every 300 s (8,640),
/// a planned two-hour maintenance window (24 probes, 7,200 s), a three-hour outage (36 probes down),
/// half an hour of Purser's own failures (6 probes), and an objective of 99.5 % from the tenant's
/// SLA policy (its plan says 99.9 %):
/// - counted = 8,640 − 24 − 6 = 8,610; up = 8,574; uptime = 8,574 ÷ 8,610 = 99.581882… %
/// - budget = (2,592,000 − 7,200) × 0.5 % = 12,924 s; used 36 × 300 = 10,800 s; left 2,124 s (16.4345 %).
/// Read from raw results, then from hourly rollups once the raw ones are gone: the same figures.
@Suite(.serialized) struct UptimeMonthTests {
    let clock = SettableClock(ISO8601DateFormatter().date(from: "2026-11-01T00:00:00Z")!)
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp(clock: clock)
        people = try People(app)
    }

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// The tenant in Zurich; its plan promises 99.9 % and a 1,500 ms p95, the tenant's own policy 99.5 %.
    func policies() throws {
        let owner = try app.database.connect()
        try owner.query("UPDATE tenants SET time_zone = 'Europe/Zurich' WHERE id = $1", [people.tenant])
        try owner.query(
            """
            UPDATE plans SET sla_policy = jsonb_set(coalesce(sla_policy, $2::jsonb), '{uptime}',
                '{"availability_percent": 99.9, "p95_latency_ms": 1500}') WHERE id = (SELECT plan_id FROM tenants WHERE id = $1)
            """, [people.tenant, try JSONText(encoding: SLAPolicy.standard)])
        try owner.query(
            """
            INSERT INTO sla_policies (tenant_id, policy, updated_at)
            VALUES ($1, jsonb_set($2::jsonb, '{uptime}', '{"availability_percent": 99.5}'), $3)
            """, [people.tenant, try JSONText(encoding: SLAPolicy.standard), clock.now])
    }

    func target() throws -> ProbeTarget {
        var input = ProbeTargetInput()
        (input.name, input.url, input.intervalSeconds) = ("chat", "http://127.0.0.1:9/health", 300)
        return try ProbeTargets(
            database: app.app.database, world: app.app.world, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
        ).create(input, tenant: people.tenant, actor: .system)
    }

    /// Every probe of the month, as the tick would have recorded them, and one either side of it.
    func record(_ target: ProbeTarget) throws {
        try app.database.connect().query(
            """
            INSERT INTO probe_results (tenant_id, target_id, at, outcome, latency_ms)
            SELECT $1::uuid, $2::uuid, at,
                   CASE WHEN at >= '2026-11-10T01:00Z' AND at < '2026-11-10T03:00Z' THEN 'maintenance'
                        WHEN at >= '2026-11-20T10:00Z' AND at < '2026-11-20T13:00Z' THEN 'down'
                        WHEN at >= '2026-11-25T00:00Z' AND at < '2026-11-25T00:30Z' THEN 'purser_error'
                        ELSE 'up' END, 120
            FROM generate_series('2026-10-31T23:00Z'::timestamptz, '2026-11-30T22:55Z', interval '300 seconds') AS at
            UNION ALL SELECT $1::uuid, $2::uuid, '2026-10-31T22:55Z', 'down', NULL
            UNION ALL SELECT $1::uuid, $2::uuid, '2026-11-30T23:00Z', 'down', NULL
            """, [people.tenant, target.id])
    }

    func november(_ target: ProbeTarget) throws -> (UptimeCounts, ErrorBudget, Bool) {
        try app.app.database.inTenant(people.tenant) { tx in
            let (objectives, zone) = try UptimeObjectives.forTenant(tx, tenant: people.tenant)
            #expect(objectives == UptimeObjectives(availabilityPercent: 99.5, p95LatencyMs: 1500), "tenant → plan → Purser, key by key")
            let (start, end) = UptimeMath.month(containing: Self.at("2026-11-15T12:00:00Z"), in: zone)
            #expect(start == Self.at("2026-10-31T23:00:00Z") && end == Self.at("2026-11-30T23:00:00Z"))
            let found = try #require(
                try UptimeQuery.counts(tx, tenant: people.tenant, target: target.id, from: start, to: end, now: clock.now)[target.id])
            let windows = try MaintenanceWindows.list(tx, tenant: people.tenant, target: target.id, from: start, to: end)
            let budget = UptimeMath.budget(
                objectivePercent: objectives.availabilityPercent!, monthSeconds: end.timeIntervalSince(start),
                maintenanceSeconds: MaintenanceWindows.coveredSeconds(windows, from: start, to: end), down: found.counts.down,
                interval: target.intervalSeconds)
            return (found.counts, budget, found.exactPercentiles)
        }
    }

    func expectHandFigures(_ counts: UptimeCounts, _ budget: ErrorBudget) {
        #expect(counts.probes == 8640 && counts.maintenance == 24 && counts.purserErrors == 6)
        #expect(counts.down == 36 && counts.up == 8574 && counts.counted == 8610)
        #expect(abs(counts.uptimePercent! - 8574.0 / 8610.0 * 100) < 1e-9)
        #expect(budget.maintenanceSeconds == 7200 && budget.eligibleSeconds == 2_584_800)
        #expect(abs(budget.allowedSeconds - 12_924) < 1e-6 && budget.usedSeconds == 10_800)
        #expect(abs(budget.remainingSeconds - 2_124) < 1e-6 && abs(budget.remainingShare - 2_124.0 / 12_924.0) < 1e-9)
    }

    @Test func aMonthWithMaintenanceMatchesTheHandFigures() throws {
        try policies()
        // Saved again through the SLA code (as its page does), the tenant's "uptime" key is kept.
        let stored = SLAPolicies(database: app.app.database, clock: clock)
        let own = try stored.effective(tenant: people.tenant).policy
        #expect(own.uptime == UptimeObjectives(availabilityPercent: 99.5))
        try stored.set(own, tenant: people.tenant, actor: .system)
        let chat = try target()
        // Planned ahead: 02:00–04:00 Zurich on the 10th. One that ends before it starts is refused.
        _ = try MaintenanceWindows.create(
            app.app.database, tenant: people.tenant, target: chat.id, startsAt: Self.at("2026-11-10T01:00:00Z"),
            endsAt: Self.at("2026-11-10T03:00:00Z"), reason: "GPU driver upgrade", actor: .system, at: clock.now)
        #expect(throws: ValidationError.self) {
            try MaintenanceWindows.create(
                app.app.database, tenant: people.tenant, target: chat.id, startsAt: Self.at("2026-11-12T03:00:00Z"),
                endsAt: Self.at("2026-11-12T01:00:00Z"), reason: "backwards", actor: .system, at: clock.now)
        }
        #expect(throws: ValidationError.self) {
            try MaintenanceWindows.create(
                app.app.database, tenant: people.tenant, target: chat.id, startsAt: Self.at("2026-10-30T03:00:00Z"),
                endsAt: Self.at("2026-10-30T04:00:00Z"), reason: "after the fact", actor: .system, at: clock.now)
        }
        try record(chat)

        // Rolled up as the hourly job goes, while the raw results are still there: read partly from each.
        for step in ["2026-11-13T12:00:00Z", "2026-11-26T12:00:00Z"] {
            clock.advance(by: Self.at(step).timeIntervalSince(clock.now))
            try ProbeRollup.run(app.app.database, now: clock.now)
        }
        clock.advance(by: Self.at("2026-11-30T22:30:00Z").timeIntervalSince(clock.now))
        var (counts, budget, exact) = try november(chat)
        expectHandFigures(counts, budget)
        #expect(!exact, "before the raw boundary, p95s come from the hourly rollups")

        // This month's page figures say the same.
        let status = try app.app.database.inTenant(people.tenant) { try EndpointStatus.all($0, tenant: people.tenant, now: clock.now).1 }
        #expect(status.first?.month == counts && status.first?.budget == budget)

        // Weeks later the raw results are gone: the rollups alone give the same month.
        for step in ["2026-12-05T12:00:00Z", "2026-12-20T12:00:00Z"] {
            clock.advance(by: Self.at(step).timeIntervalSince(clock.now))
            try ProbeRollup.run(app.app.database, now: clock.now)
        }
        let raw = try app.database.connect().query("SELECT count(*)::int FROM probe_results WHERE at < '2026-12-01'")
        #expect(try raw[0].require(0, as: Int.self) == 0)
        (counts, budget, exact) = try november(chat)
        expectHandFigures(counts, budget)

        // The report for the month: the same, with its verdict against 99.5 %.
        let report = try UptimeReport.compute(
            app.app.database, tenant: people.tenant, parameters: QueryParameters([("from", "2026-11-01"), ("to", "2026-11-30")]),
            now: clock.now)
        #expect(report.rows.first?.counts.up == 8574 && report.rows.first?.met == true && report.total.down == 36)
        #expect(report.csv.contains("\"chat\",\"2026-11-01\",\"2026-11-30\",\"Europe/Zurich\",\"8640\",\"8574\",\"36\",\"6\",\"24\""))
        #expect(throws: ValidationError.self) {
            try UptimeReport.compute(
                app.app.database, tenant: people.tenant, parameters: QueryParameters([("from", "2026-11-30"), ("to", "2026-11-01")]),
                now: clock.now)
        }
    }

    @Test func burningTheBudgetFastAlertsOncePerWindow() throws {
        let chat = try target()
        // The last hour: twelve probes, the last four down (the last 5 minutes all down).
        try app.database.connect().query(
            """
            INSERT INTO probe_results (tenant_id, target_id, at, outcome)
            SELECT $1, $2, $3::timestamptz - make_interval(secs => n * 300), CASE WHEN n < 4 THEN 'down' ELSE 'up' END
            FROM generate_series(0, 11) AS n
            """, [people.tenant, chat.id, clock.now])
        #expect(UptimeMath.burnRate(down: 4, counted: 12, objectivePercent: 99.5) > UptimeMath.fastBurn.threshold)
        func stamps() throws -> (Date?, Date?) {
            let row = try app.database.connect().query("SELECT fast_burn_at, slow_burn_at FROM probe_targets WHERE id = $1", [chat.id])[0]
            return (try row.decode(0), try row.decode(1))
        }
        try app.app.database.asStaff { try BurnRateAlerts.check($0, chat, at: clock.now) }
        #expect(try stamps() == (clock.now, clock.now))
        let first = clock.now
        clock.advance(by: 60)
        try app.app.database.asStaff { try BurnRateAlerts.check($0, chat, at: clock.now) }
        #expect(try stamps() == (first, first), "not again within the window")
    }
}
