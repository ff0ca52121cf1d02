import Foundation
import Postgres
@testable import Purser
import TestSupport

/// Rollup rows written by hand, as ingestion would leave them: one call adds a day's usage of one
/// model (and team, feature, key) to the cube and to its slices, so every reader sees the same sums.
struct CostFixture {
    let sql: Connection

    init(_ app: TestApp) throws { sql = try app.database.connect() }

    /// A server on a clock the test moves (from 20 Nov 2026, 12:00 UTC) whose mail reaches a real
    /// SMTP server and links to https://purser.bank.test, with acme working in New York.
    static func mailingApp() throws -> (MailSink, SettableClock, TestApp, People) {
        let mail = try MailSink()
        let clock = SettableClock(RFC3339.date("2026-11-20T12:00:00Z")!)
        let world = World(clock: clock, mail: SMTPSender(server: mail.server))
        let app = try TestApp(world: world) { configuration in
            configuration.mailServer = mail.server
            configuration.publicURL = URL(string: "https://purser.bank.test")
        }
        let people = try People(app)
        try app.database.connect().query("UPDATE tenants SET time_zone = 'America/New_York' WHERE id = $1", [people.tenant])
        return (mail, clock, app, people)
    }

    func spend(
        tenant: UUID, day: String, provider: String = "openai", model: String, team: String = "", feature: String = "",
        key: String = "", requests: Int64 = 1, input: Int64 = 0, output: Int64 = 0, cached: Int64 = 0, cost: Int64,
        gpuSeconds: Int64 = 0, gpuCost: Int64 = 0, unpriced: Int64 = 0
    ) throws {
        let measures: [(any PostgresEncodable)?] = [requests, input, output, cached, gpuSeconds, cost, gpuCost, unpriced]
        let set = """
            events = t.events + 1, requests = t.requests + EXCLUDED.requests, input_tokens = t.input_tokens + EXCLUDED.input_tokens,
            output_tokens = t.output_tokens + EXCLUDED.output_tokens, cached_input_tokens = t.cached_input_tokens + EXCLUDED.cached_input_tokens,
            gpu_seconds = t.gpu_seconds + EXCLUDED.gpu_seconds, cost_micros = t.cost_micros + EXCLUDED.cost_micros,
            gpu_cost_micros = t.gpu_cost_micros + EXCLUDED.gpu_cost_micros, unpriced_events = t.unpriced_events + EXCLUDED.unpriced_events
            """
        let columns =
            "events, requests, input_tokens, output_tokens, cached_input_tokens, gpu_seconds, cost_micros, gpu_cost_micros, unpriced_events"
        try sql.query(
            """
            INSERT INTO usage_daily AS t (tenant_id, day, provider, model, team, feature, \(columns))
            VALUES ($1, $2::date, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (tenant_id, day, provider, model, team, feature) DO UPDATE SET \(set)
            """, [tenant, day, provider, model, team, feature] + measures)
        try sql.query(
            """
            INSERT INTO usage_daily_models AS t (tenant_id, day, provider, model, \(columns))
            VALUES ($1, $2::date, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (tenant_id, day, provider, model) DO UPDATE SET \(set)
            """, [tenant, day, provider, model] + measures)
        try sql.query(
            """
            INSERT INTO usage_daily_keys AS t (tenant_id, day, key_ref, \(columns))
            VALUES ($1, $2::date, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (tenant_id, day, key_ref) DO UPDATE SET \(set)
            """, [tenant, day, key] + measures)
        try sql.query(
            """
            INSERT INTO usage_daily_teams AS t (tenant_id, day, team, \(columns))
            VALUES ($1, $2::date, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (tenant_id, day, team) DO UPDATE SET \(set)
            """, [tenant, day, team] + measures)
        try sql.query(
            """
            INSERT INTO usage_daily_endpoints AS t (tenant_id, day, endpoint, \(columns))
            VALUES ($1, $2::date, '', 1, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (tenant_id, day, endpoint) DO UPDATE SET \(set)
            """, [tenant, day] + measures)
    }

    /// An hour of one model's (and team's) spend.
    func hourly(tenant: UUID, hour: Date, model: String, team: String = "", cost: Int64) throws {
        try sql.query(
            """
            INSERT INTO usage_hourly AS t (tenant_id, hour, provider, model, team, events, requests, cost_micros)
            VALUES ($1, $2, 'openai', $3, $4, 1, 1, $5)
            ON CONFLICT (tenant_id, hour, provider, model, team) DO UPDATE SET cost_micros = t.cost_micros + EXCLUDED.cost_micros
            """, [tenant, hour, model, team, cost])
    }
}
