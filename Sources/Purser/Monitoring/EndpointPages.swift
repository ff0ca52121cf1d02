// /t/{tenant}/endpoints: every probed endpoint of the tenant with its state, this month's uptime
// and error budget (the rules beside them); staff holding monitoring.manage add URLs to probe.
// /t/{tenant}/endpoints/{id}: one endpoint — uptime, latency and TTFT charts over the last 7 days,
// its objectives and error budget, maintenance windows (planned there), and the deployments and
// access grants that touched it in that time.
import Foundation
import HTTPServer
import Postgres

enum EndpointPages {
    struct Row: Encodable, Sendable {
        let name: String
        let link: SiteURL
        let kind: String
        let url: String
        let state: String
        let uptime: String
        let objective: String
        let budgetRemaining: String
        let lastProbe: String
        let lastError: String?
    }

    struct ListPage: TemplateModel {
        let heading: String
        let rows: [Row]
        let rules: [String]
        let canManage: Bool
        let formToken: String
        let formLink: SiteURL
        let reportLink: SiteURL
        let statusLink: SiteURL
        var values: [String: String] = [:]
        var errors: [FieldError] = []
        var message: String?
    }

    static func row(_ status: EndpointStatus, slug: String) -> Row {
        let target = status.target
        return Row(
            name: target.name, link: .endpoint(slug, id: target.id), kind: target.kind.rawValue, url: target.url,
            state: target.enabled ? target.state : "not probed (endpoint not live)",
            uptime: Figures.percent(status.month.uptimePercent),
            objective: Figures.percent(status.objectives.availabilityPercent, digits: 2),
            budgetRemaining: status.month.counted == 0
                ? "—"
                : "\(Figures.percent(status.budget.remainingShare * 100, digits: 1)) (\(Figures.minutes(status.budget.remainingSeconds)))",
            lastProbe: DisplayTime.format(target.lastProbeAt), lastError: target.lastError)
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database, targets: ProbeTargets) {
        @Sendable func list(
            _ ctx: TenantContext, form: QueryParameters? = nil, errors: [FieldError] = [], message: String? = nil, status: HTTPStatus = .ok
        ) throws -> Response {
            let (_, statuses) = try database.inTenant(ctx.tenant.id) { tx in
                try EndpointStatus.all(tx, tenant: ctx.tenant.id, now: ctx.world.clock.now)
            }
            var model = ListPage(
                heading: "Endpoints · \(ctx.tenant.name)", rows: statuses.map { row($0, slug: ctx.tenant.slug) },
                rules: EndpointStatus.rules,
                canManage: ctx.principal.can(.monitoringManage), formToken: ctx.visitor.formToken, formLink: .endpoints(ctx.tenant.slug),
                reportLink: .uptimeReport(ctx.tenant.slug), statusLink: .tenantStatus(ctx.tenant.slug))
            (model.errors, model.message) = (errors, message)
            if let form { for name in ["name", "url", "kind", "model", "interval_seconds"] { model.values[name] = form[name] ?? "" } }
            return site.page("monitoring/endpoints", title: model.heading, model, status: status, visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.get, .endpoints, permission: .deploymentsRead) { ctx in try list(ctx) }
        routes.tenant(.post, .endpoints, permission: .monitoringManage, options: .form) { ctx in
            let form = try ctx.form()
            var input = ProbeTargetInput()
            (input.name, input.url, input.kind) = (form["name"] ?? "", form["url"] ?? "", form["kind"] ?? "http")
            input.model = form["model"].flatMap { $0.isEmpty ? nil : $0 }
            input.credentials = form["credentials"].flatMap { $0.isEmpty ? nil : $0 }
            input.intervalSeconds = form["interval_seconds"].flatMap { $0.isEmpty ? nil : (Int($0) ?? -1) }
            do {
                let made = try targets.create(input, tenant: ctx.tenant.id, actor: ctx.actor)
                return try list(ctx, message: "\(made.name) is probed from now on.")
            } catch let error as ValidationError {
                return try list(ctx, form: form, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.tenant(.get, .endpoint, permission: .deploymentsRead) { ctx in
            try EndpointPage.render(ctx, site: site, database: database)
        }
        routes.tenant(.post, .endpoint, permission: .monitoringManage, options: .form) { ctx in
            let id = try ctx.request.uuidParameter("id")
            let form = try ctx.form()
            do {
                let message: String
                if form["action"] == "maintenance" {
                    let window = try MaintenanceWindows.create(
                        database, tenant: ctx.tenant.id, target: form["scope"] == "tenant" ? nil : id,
                        startsAt: EndpointPage.localTime(form["starts_at"], ctx: ctx, database: database),
                        endsAt: EndpointPage.localTime(form["ends_at"], ctx: ctx, database: database), reason: form["reason"] ?? "",
                        actor: ctx.actor, at: ctx.world.clock.now)
                    message = "Maintenance planned from \(DisplayTime.format(window.startsAt)) to \(DisplayTime.format(window.endsAt))."
                } else {
                    var input = ProbeTargetInput()
                    func number(_ name: String) -> Int? { form[name].flatMap { $0.isEmpty ? nil : (Int($0) ?? -1) } }
                    input.availabilityPercent = form["availability_percent"].flatMap { $0.isEmpty ? nil : (Double($0) ?? -1) }
                    (input.p95LatencyMs, input.p95TTFTMs, input.intervalSeconds) = (
                        number("p95_latency_ms"), number("p95_ttft_ms"), number("interval_seconds")
                    )
                    input.credentials = form["credentials"].flatMap { $0.isEmpty ? nil : $0 }
                    // The form shows the endpoint's own objectives: one emptied is removed.
                    input.clearing = ProbeTargetInput.clearable.filter { form[$0]?.trimmingCharacters(in: .whitespaces) == "" }
                    _ = try targets.update(id, input, tenant: ctx.tenant.id, ifMatch: nil, actor: ctx.actor)
                    message = "Saved."
                }
                return try EndpointPage.render(ctx, site: site, database: database, message: message)
            } catch let error as ValidationError {
                return try EndpointPage.render(
                    ctx, site: site, database: database, form: form, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
