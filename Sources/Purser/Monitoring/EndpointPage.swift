// One endpoint's page (EndpointPages registers it): figures, charts, windows, and what touched it.
import Foundation
import HTTPServer
import Postgres

enum EndpointPage {
    struct Touch: Encodable, Sendable {
        let what: String
        let when: String
        let link: SiteURL?
    }

    struct Window: Encodable, Sendable {
        let scope: String
        let from: String
        let to: String
        let reason: String
    }

    struct Page: TemplateModel {
        let heading: String
        let name: String
        let url: String
        let kind: String
        let state: String
        let stateSince: String
        let lastProbe: String
        let lastError: String?
        let source: String
        let credentialsHint: String?
        let month: String
        let zone: String
        let uptime: String
        let counted: Int
        let down: Int
        let purserErrors: Int
        let maintenanceProbes: Int
        let objective: String
        let allowed: String
        let used: String
        let remaining: String
        let latency: String
        let latencyObjective: String
        let ttft: String
        let ttftObjective: String
        let errorRate: String
        let percentileNote: String
        let rules: [String]
        let uptimeChart: String
        let latencyChart: String
        let ttftChart: String
        let windows: [Window]
        let incidents: [Touch]
        let deployments: [Touch]
        let grants: [Touch]
        let canManage: Bool
        let formToken: String
        let formLink: SiteURL
        let backLink: SiteURL
        let availabilityValue: String
        let latencyValue: String
        let ttftValue: String
        let intervalValue: String
        var errors: [FieldError] = []
        var message: String?
        var values: [String: String] = [:]
    }

    /// A `datetime-local` value read in the tenant's time zone.
    static func localTime(_ text: String?, ctx: TenantContext, database: Database) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let zone = try database.inTenant(ctx.tenant.id) { try UptimeObjectives.forTenant($0, tenant: ctx.tenant.id).timeZone }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return RFC3339.date(text)
    }

    static func render(
        _ ctx: TenantContext, site: Site, database: Database, form: QueryParameters? = nil, errors: [FieldError] = [],
        message: String? = nil, status: HTTPStatus = .ok
    ) throws -> Response {
        let id = try ctx.request.uuidParameter("id")
        // A refused objectives form shows what was typed, not the stored values.
        let typed = { (name: String) in form?["action"] == "maintenance" ? nil : form?[name] }
        let now = ctx.world.clock.now
        let slug = ctx.tenant.slug
        let week = now.addingTimeInterval(-7 * 86400)
        let model = try database.inTenant(ctx.tenant.id) { tx -> Page in
            let (zone, statuses) = try EndpointStatus.all(tx, tenant: ctx.tenant.id, now: now, only: id)
            guard let endpoint = statuses.first else { throw NotFound(detail: "no such endpoint here") }
            let target = endpoint.target
            let hours = try EndpointHistory.hours(tx, tenant: ctx.tenant.id, target: id, from: week, to: now, now: now)
            let windows = try MaintenanceWindows.list(
                tx, tenant: ctx.tenant.id, target: id, from: week, to: now.addingTimeInterval(90 * 86400))
            var deployments: [Touch] = []
            if let endpointID = target.endpointID {
                deployments = try tx.query(
                    """
                    SELECT id, state, strategy, coalesce(finished_at, state_changed_at, created_at) FROM deployments
                    WHERE tenant_id = $1 AND endpoint_id = $2 AND coalesce(finished_at, $3) >= $4 ORDER BY created_at DESC LIMIT 20
                    """, [ctx.tenant.id, endpointID, now, week]
                ).map {
                    Touch(
                        what: "Deployment (\(try $0.require(2, as: String.self))) — \(try $0.require(1, as: String.self))",
                        when: DisplayTime.format(try $0.decode(3)), link: .deployment(slug, id: try $0.require(0)))
                }
            }
            // Incidents of the endpoint's service (what its failures open) in the last 7 days or still open.
            let incidents = try tx.query(
                """
                SELECT id, severity, state, title, opened_at FROM incidents
                WHERE tenant_id = $1 AND service = $2 AND (resolved_at IS NULL OR resolved_at >= $3) ORDER BY opened_at DESC LIMIT 20
                """, [ctx.tenant.id, ProbeIncidents.service(target), week]
            ).map {
                Touch(
                    what:
                        "\(try $0.require(1, as: String.self)) incident — \(try $0.require(3, as: String.self)) (\(try $0.require(2, as: String.self)))",
                    when: DisplayTime.format(try $0.decode(4)), link: .incident(slug, id: try $0.require(0)))
            }
            let grants = try tx.query(
                """
                SELECT coalesce(host_name, 'portal role'), state, starts_at, ends_at FROM access_grants
                WHERE tenant_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at DESC LIMIT 20
                """, [ctx.tenant.id, week, now]
            ).map {
                Touch(
                    what: "Access grant to \(try $0.require(0, as: String.self)) — \(try $0.require(1, as: String.self))",
                    when: "\(DisplayTime.format(try $0.decode(2))) → \(DisplayTime.format(try $0.decode(3)))", link: nil)
            }
            let (start, _) = UptimeMath.month(containing: now, in: zone)
            let monthFormatter = DateFormatter()
            (monthFormatter.dateFormat, monthFormatter.timeZone, monthFormatter.locale) = (
                "MMMM yyyy", zone, Locale(identifier: "en_US_POSIX")
            )
            func signal(_ name: LLMSignal) -> String { endpoint.lastDay[name].map(name.display) ?? "—" }
            func points(_ value: (EndpointHistory.Hour) -> Double?) -> [TimeSeriesChart.Point] {
                hours.map { TimeSeriesChart.Point(at: $0.hour, value: value($0)) }
            }
            var page = Page(
                heading: target.name, name: target.name, url: target.url, kind: target.kind.rawValue,
                state: target.enabled ? target.state : "not probed (endpoint not live)", stateSince: DisplayTime.format(target.stateSince),
                lastProbe: DisplayTime.format(target.lastProbeAt), lastError: target.lastError,
                source: target.source == .endpoint ? "a deployment endpoint" : "a URL added by staff",
                credentialsHint: target.credentialsHint, month: monthFormatter.string(from: start), zone: zone.identifier,
                uptime: Figures.percent(endpoint.month.uptimePercent), counted: endpoint.month.counted, down: endpoint.month.down,
                purserErrors: endpoint.month.purserErrors, maintenanceProbes: endpoint.month.maintenance,
                objective: Figures.percent(endpoint.objectives.availabilityPercent, digits: 2),
                allowed: Figures.minutes(endpoint.budget.allowedSeconds), used: Figures.minutes(endpoint.budget.usedSeconds),
                remaining:
                    "\(Figures.minutes(endpoint.budget.remainingSeconds)) (\(Figures.percent(endpoint.budget.remainingShare * 100, digits: 1)))",
                latency: signal(.p95LatencyMs), latencyObjective: Figures.milliseconds(endpoint.objectives.p95LatencyMs),
                ttft: signal(.p95TTFTMs), ttftObjective: Figures.milliseconds(endpoint.objectives.p95TTFTMs),
                errorRate: signal(.errorRate),
                percentileNote:
                    "Latency and time to first token: p95 of the last 24 hours' successful probes; error rate: the last 24 hours' down probes over counted ones.",
                rules: EndpointStatus.rules,
                uptimeChart: TimeSeriesChart.line(
                    title: "Uptime per hour, last 7 days", unit: "%", points: points(\.uptimePercent), from: week, to: now,
                    floor: 0, ceiling: 100, objective: endpoint.objectives.availabilityPercent),
                latencyChart: TimeSeriesChart.line(
                    title: "p95 latency per hour, last 7 days", unit: "ms", points: points { $0.latencyP95Ms.map(Double.init) },
                    from: week, to: now, floor: 0, objective: endpoint.objectives.p95LatencyMs.map(Double.init)),
                ttftChart: TimeSeriesChart.line(
                    title: "p95 time to first token per hour, last 7 days", unit: "ms", points: points { $0.ttftP95Ms.map(Double.init) },
                    from: week, to: now, floor: 0, objective: endpoint.objectives.p95TTFTMs.map(Double.init)),
                windows: windows.map {
                    Window(
                        scope: $0.target == nil ? "every endpoint" : "this endpoint", from: DisplayTime.format($0.startsAt),
                        to: DisplayTime.format($0.endsAt), reason: $0.reason)
                },
                incidents: incidents, deployments: deployments, grants: grants, canManage: ctx.principal.can(.monitoringManage),
                formToken: ctx.visitor.formToken, formLink: .endpoint(slug, id: id), backLink: .endpoints(slug),
                availabilityValue: typed("availability_percent") ?? target.availabilityObjective.map { String($0) } ?? "",
                latencyValue: typed("p95_latency_ms") ?? target.latencyObjectiveMs.map(String.init) ?? "",
                ttftValue: typed("p95_ttft_ms") ?? target.ttftObjectiveMs.map(String.init) ?? "",
                intervalValue: typed("interval_seconds") ?? String(target.intervalSeconds))
            (page.errors, page.message) = (errors, message)
            if let form { for name in ["starts_at", "ends_at", "reason"] { page.values[name] = form[name] ?? "" } }
            return page
        }
        return site.page("monitoring/endpoint", title: model.heading, model, status: status, visitor: ctx.visitor, tenant: ctx.tenant)
    }
}
