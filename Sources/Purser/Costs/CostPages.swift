// The cost pages: a tenant's report at /t/{tenant}/costs (chart, table, presets, budgets, unpriced
// models, anomalies, monthly reviews) with its CSV beside it, every tenant's at /staff/costs, and
// the budget forms (tenant.settings.manage). Figures come from CostReport (rollups only), money is
// written from integer micro-units.
import Foundation
import HTTPServer

enum CostPages {
    struct Link: Encodable, Sendable {
        let label: String
        let link: SiteURL
        let selected: Bool
    }

    /// One line of figures, written for people.
    struct FigureCells: Encodable, Sendable {
        let key: String
        let subKey: String?
        /// Whether the table has a second grouping's column.
        let hasSecond: Bool
        let currency: String
        let cost: String
        let requests: String
        let inputTokens: String
        let outputTokens: String
        let cachedTokens: String
        let perRequest: String
        let per1k: String
        let cacheShare: String
        let gpuHours: String
        let gpuCost: String
        let unpriced: Int64
        /// "+ 3 events unpriced": the cost shown leaves them out, so the cell says so.
        let unpricedNote: String?

        init(key: String, subKey: String?, currency: String, _ figures: CostReport.Figures) {
            func money(_ micros: Int64?) -> String { micros.map { Money(micros: $0, currency: currency).display } ?? "—" }
            self.key = key.isEmpty ? "(none)" : key
            self.subKey = subKey.map { $0.isEmpty ? "(none)" : $0 }
            hasSecond = subKey != nil
            self.currency = currency
            cost = money(figures.costMicros)
            requests = CostPages.count(figures.requests)
            inputTokens = CostPages.count(figures.inputTokens)
            outputTokens = CostPages.count(figures.outputTokens)
            cachedTokens = CostPages.count(figures.cachedInputTokens)
            perRequest = money(figures.costPerRequest)
            per1k = money(figures.costPer1kTokens)
            cacheShare = figures.cacheHitShare
            gpuHours = figures.gpuHours
            gpuCost = money(figures.gpuCostMicros)
            unpriced = figures.unpricedEvents
            unpricedNote =
                figures.unpricedEvents == 0
                ? nil : "+ \(CostPages.count(figures.unpricedEvents)) event\(figures.unpricedEvents == 1 ? "" : "s") unpriced"
        }
    }

    struct UnpricedView: Encodable, Sendable {
        let provider: String
        let model: String
        let events: String
    }

    struct BudgetView: Encodable, Sendable {
        let name: String
        let scope: String
        let amount: String
        let spend: String
        let used: String
        let period: String
        let thresholds: String
        let fired: String
        let exceeded: Bool
        let link: SiteURL
        let deleteAction: SiteURL
    }

    struct Page: TemplateModel {
        let heading: String
        let action: SiteURL
        let staff: Bool
        let presets: [Link]
        let from: String
        let to: String
        let zone: String
        let groupings: [RequestPages.Option]
        let secondGroupings: [RequestPages.Option]
        let filters: [FilterView]
        /// Nil when there is no priced spend to draw (an empty text would still count as present).
        let chart: String?
        let groupLabel: String
        let secondLabel: String?
        let rows: [FigureCells]
        let totals: [FigureCells]
        let csvLink: SiteURL
        let unpriced: [UnpricedView]
        let budgets: [BudgetView]
        let canManageBudgets: Bool
        let budgetForm: BudgetForm?
        let anomalies: [AnomalyView]
        let reviewsLink: SiteURL?
        let formToken: String
        var errors: [FieldError] = []
        /// Why the report asked for could not be shown (this month by model is shown instead).
        var queryErrors: [FieldError] = []
        /// The CSV upload, for those who may send usage.
        var uploadLink: SiteURL?
        /// More rows than a report holds: the largest are shown, the totals count all.
        var truncated = false
    }

    struct FilterView: Encodable, Sendable {
        let name: String
        let label: String
        let value: String
    }

    /// The new-budget form (or an existing budget's), with what was typed.
    struct BudgetForm: Encodable, Sendable {
        let action: SiteURL
        let name: String
        let scopes: [RequestPages.Option]
        let scopeValue: String
        let amount: String
        let currency: String
        let periods: [RequestPages.Option]
        let startsOn: String
        let endsOn: String
        let repeats: Bool
        let thresholds: String
        let version: Int?
        let submit: String

        init(action: SiteURL, input: BudgetInput, currency: String, version: Int? = nil, submit: String = "Add budget") {
            self.action = action
            name = input.name
            scopes = Budget.Scope.allCases.map {
                RequestPages.Option(value: $0.rawValue, label: $0.rawValue, selected: $0.rawValue == input.scope)
            }
            scopeValue = input.scopeValue
            amount = input.amount
            self.currency = currency
            periods = [("month", "calendar month"), ("custom", "custom dates")].map {
                RequestPages.Option(value: $0.0, label: $0.1, selected: $0.0 == input.period)
            }
            startsOn = input.startsOn
            endsOn = input.endsOn
            repeats = input.repeats
            thresholds = input.thresholds.isEmpty ? "70, 90, 100" : input.thresholds
            self.version = version
            self.submit = submit
        }

        init(editing budget: Budget, action: SiteURL) {
            var input = BudgetInput()
            input.name = budget.name
            input.scope = budget.scope.rawValue
            input.scopeValue = budget.scopeValue
            input.amount = budget.amount.plain
            input.period = budget.period.rawValue
            input.startsOn = budget.startsOn?.description ?? ""
            input.endsOn = budget.endsOn?.description ?? ""
            input.repeats = budget.repeats
            input.thresholds = budget.thresholds.map(String.init).joined(separator: ", ")
            self.init(action: action, input: input, currency: budget.currency, version: budget.version, submit: "Save budget")
        }
    }

    static func count(_ value: Int64) -> String { (value < 0 ? "-" : "") + Money.grouped(value.magnitude) }

    static func label(_ dimension: CostReport.Dimension) -> String {
        switch dimension {
        case .key: "Gateway key"
        default: dimension.rawValue.capitalized
        }
    }

    /// The report's part of the page.
    static func page(
        _ report: CostReport, heading: String, action: SiteURL, csv: SiteURL, request: Request, zone: String, staff: Bool,
        today: LocalDate, formToken: String
    ) -> Page {
        let query = report.query
        let dimensions = CostReport.Dimension.allCases.filter { $0 != .tenant || staff }
        let presets = CostPeriod.Preset.allCases.map { preset in
            var link = action.adding("preset", preset.rawValue).adding("group_by", query.groupBy.rawValue)
                .adding("then_by", query.thenBy?.rawValue)
            for (dimension, value) in query.filters { link = link.adding(dimension.rawValue, value) }
            return Link(label: preset.label, link: link, selected: query.period == CostPeriod(preset, today: today))
        }
        let series = report.series.enumerated().map { index, name in
            SVGChart.Series(name: name, colour: SVGChart.palette[min(index, SVGChart.palette.count - 1)])
        }
        let currency = report.seriesCurrency
        let chart = SVGChart.stackedBars(
            title: "Spend per day by \(label(query.groupBy).lowercased()) (\(currency))", series: series,
            columns: report.days.map { SVGChart.Column(day: $0.day, values: $0.values) },
            format: { Money.decimal($0) }, id: "costs-chart")
        var page = Page(
            heading: heading, action: action, staff: staff, presets: presets, from: query.period.from.description,
            to: query.period.to.description, zone: zone,
            groupings: dimensions.map { RequestPages.Option(value: $0.rawValue, label: label($0), selected: $0 == query.groupBy) },
            secondGroupings: [RequestPages.Option(value: "", label: "none", selected: query.thenBy == nil)]
                + dimensions.filter { !$0.isSlice }.map {
                    RequestPages.Option(value: $0.rawValue, label: label($0), selected: $0 == query.thenBy)
                },
            filters: (CostReport.Dimension.filters + (query.endpoint == nil ? [] : [.endpoint])).map { dimension in
                FilterView(
                    name: dimension.rawValue, label: label(dimension),
                    value: query.filters.first { $0.0 == dimension }?.1 ?? "")
            },
            // No chart of nothing: a period with no priced spend says so instead.
            chart: report.days.allSatisfy { $0.values.allSatisfy { $0 == 0 } } ? nil : chart, groupLabel: label(query.groupBy),
            secondLabel: query.thenBy.map(label),
            rows: report.rows.map {
                FigureCells(key: $0.key, subKey: query.thenBy == nil ? nil : $0.subKey, currency: $0.currency, $0.figures)
            },
            totals: report.totals.map {
                FigureCells(key: "All", subKey: query.thenBy == nil ? nil : "", currency: $0.currency, $0.figures)
            },
            csvLink: csv.adding(request.query),
            unpriced: report.unpriced.map { UnpricedView(provider: $0.provider, model: $0.model, events: count($0.events)) },
            budgets: [], canManageBudgets: false, budgetForm: nil, anomalies: [], reviewsLink: nil, formToken: formToken)
        page.truncated = report.truncated
        return page
    }

    static func budgetView(_ status: BudgetStatus, fired: [Int], slug: String) -> BudgetView {
        let budget = status.budget
        return BudgetView(
            name: budget.name, scope: budget.scopeLabel, amount: budget.amount.display,
            spend: Money(micros: status.spendMicros, currency: budget.currency).display, used: status.usedPercent,
            period: (status.period.map { "\($0.from) – \($0.to)" }
                ?? "not running (\(budget.startsOn?.description ?? "") – \(budget.endsOn?.description ?? ""))")
                + (budget.repeatDays.map { ", repeating every \($0) day\($0 == 1 ? "" : "s")" } ?? ""),
            thresholds: budget.thresholds.map { "\($0) %" }.joined(separator: ", "),
            fired: fired.isEmpty ? "none yet" : fired.map { "\($0) %" }.joined(separator: ", "), exceeded: status.exceeded,
            link: .budget(slug, id: budget.id), deleteAction: .budgetDelete(slug, id: budget.id))
    }

    static func csv(_ report: CostReport, filename: String) -> Response {
        var response = Response(status: .ok, contentType: "text/csv; charset=utf-8", body: Array(CostReportCSV.text(report).utf8))
        response.headers.set("Content-Disposition", "attachment; filename=\"\(filename)\"")
        return response
    }

    /// A CSV, or the 422 problem naming the query's fields that cannot run: a file has no form to
    /// show them beside, and the error page would not name them.
    static func csvOrProblem(_ request: Request, _ make: () throws -> Response) throws -> Response {
        do {
            return try make()
        } catch let error as ValidationError {
            return Problem.problemResponse(
                Problem(
                    status: error.status, title: error.title, detail: error.detail, fieldErrors: error.fieldErrors,
                    requestID: request.requestID))
        }
    }

    /// The report a page's query asks for; a query it cannot run gives this month by model
    /// instead, with the reasons to show beside the form (422), rather than an error page without
    /// the form to correct it. `tenant` nil: every tenant (the staff page).
    static func reportOrThisMonth(
        tenant: UUID?, parameters: QueryParameters, today: LocalDate, database: Database
    ) throws -> (CostReport, [FieldError]) {
        do {
            let query = try CostReport.Query(tenant: tenant, parameters: parameters, today: today)
            return (try CostReport.compute(query, database: database), [])
        } catch let error as ValidationError {
            let query = CostReport.Query(tenant: tenant, period: CostPeriod(.thisMonth, today: today))
            return (try CostReport.compute(query, database: database), error.fieldErrors)
        }
    }

    static func register(in routes: inout RouteTable, site: Site, database: Database) {
        @Sendable func tenantReport(_ ctx: TenantContext) throws -> (CostReport, TimeZone, LocalDate) {
            let zone = try database.inTenant(ctx.tenant.id) { try CostReport.settings($0, tenant: ctx.tenant.id).zone }
            let today = LocalDate(ctx.world.clock.now, in: zone)
            let query = try CostReport.Query(tenant: ctx.tenant.id, parameters: ctx.request.query, today: today)
            // Reports may be read from the replica (ReplicaReads).
            let report = try database.reading(for: ctx.request, at: ctx.world.clock.now) { try CostReport.compute(query, database: $0) }
            return (report, zone, today)
        }

        /// The page's report; a query it cannot run shows this month by model with the reasons
        /// beside the form, rather than an error page without the form to correct it.
        @Sendable func tenantReportOrDefault(_ ctx: TenantContext) throws -> (CostReport, TimeZone, LocalDate, [FieldError]) {
            let zone = try database.inTenant(ctx.tenant.id) { try CostReport.settings($0, tenant: ctx.tenant.id).zone }
            let today = LocalDate(ctx.world.clock.now, in: zone)
            let (report, queryErrors) = try database.reading(for: ctx.request, at: ctx.world.clock.now) {
                try reportOrThisMonth(tenant: ctx.tenant.id, parameters: ctx.request.query, today: today, database: $0)
            }
            return (report, zone, today, queryErrors)
        }

        @Sendable func staffToday(_ ctx: PageContext) -> LocalDate { LocalDate(ctx.world.clock.now, in: TimeZone(identifier: "UTC")!) }

        @Sendable func staffReport(_ ctx: PageContext) throws -> CostReport {
            let query = try CostReport.Query(tenant: nil, parameters: ctx.request.query, today: staffToday(ctx))
            return try database.reading(for: ctx.request, at: ctx.world.clock.now) { try CostReport.compute(query, database: $0) }
        }

        let budgets = BudgetStore(database: database, clock: routes.world.clock)

        /// The tenant's page: the report, its budgets (with a form for those who manage them) and anomalies.
        @Sendable func tenantPage(_ ctx: TenantContext, form: BudgetForm? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok)
            throws -> Response
        {
            let (report, zone, today, queryErrors) = try tenantReportOrDefault(ctx)
            let tenant = ctx.tenant
            var model = page(
                report, heading: "Costs · \(tenant.name)", action: .costs(tenant.slug), csv: .costsCSV(tenant.slug), request: ctx.request,
                zone: zone.identifier, staff: false, today: today, formToken: ctx.visitor.formToken)
            let canManage = ctx.principal.can(.tenantSettingsManage)
            let now = ctx.world.clock.now
            let (statuses, fired, currency, anomalies) = try database.inTenant(tenant.id) { tx in
                let statuses = try BudgetStore.all(tx, tenant: tenant.id).map {
                    try BudgetStatus.load(tx, budget: $0, zone: zone, now: now)
                }
                var fired: [UUID: [Int]] = [:]
                for row in try tx.query(
                    "SELECT budget_id, level, period_start::text FROM budget_alerts WHERE tenant_id = $1 ORDER BY level", [tenant.id])
                {
                    let budget: UUID = try row.require(0)
                    if statuses.first(where: { $0.budget.id == budget })?.period?.from.description == (try row.require(2, as: String.self))
                    {
                        fired[budget, default: []].append(try row.require(1))
                    }
                }
                return (
                    statuses, fired, try CostReport.settings(tx, tenant: tenant.id).currency, try AnomalyScan.recent(tx, tenant: tenant.id)
                )
            }
            model = Page(
                heading: model.heading, action: model.action, staff: false, presets: model.presets, from: model.from, to: model.to,
                zone: model.zone, groupings: model.groupings, secondGroupings: model.secondGroupings, filters: model.filters,
                chart: model.chart, groupLabel: model.groupLabel, secondLabel: model.secondLabel, rows: model.rows, totals: model.totals,
                csvLink: model.csvLink, unpriced: model.unpriced,
                budgets: statuses.map { budgetView($0, fired: fired[$0.budget.id] ?? [], slug: tenant.slug) },
                canManageBudgets: canManage,
                budgetForm: canManage ? (form ?? BudgetForm(action: .budgets(tenant.slug), input: BudgetInput(), currency: currency)) : nil,
                anomalies: anomalies.map { AnomalyView($0) }, reviewsLink: .costReviews(tenant.slug), formToken: ctx.visitor.formToken,
                errors: errors, queryErrors: queryErrors,
                uploadLink: ctx.principal.can(.usageWrite) ? .costsUpload(tenant.slug) : nil, truncated: model.truncated)
            return site.page(
                "costs/report", title: "Costs · \(tenant.name)", model,
                status: queryErrors.isEmpty ? status : .unprocessableContent, visitor: ctx.visitor, tenant: tenant)
        }

        routes.tenant(.get, .costs, permission: .costsRead) { ctx in try tenantPage(ctx) }
        routes.tenant(.get, .costsCSV, permission: .costsRead) { ctx in
            try csvOrProblem(ctx.request) { csv(try tenantReport(ctx).0, filename: "costs-\(ctx.tenant.slug).csv") }
        }
        routes.staff(.get, .staffCosts, permission: .costsRead) { ctx in
            let today = staffToday(ctx)
            let (report, queryErrors) = try database.reading(for: ctx.request, at: ctx.world.clock.now) {
                try reportOrThisMonth(tenant: nil, parameters: ctx.request.query, today: today, database: $0)
            }
            var model = page(
                report, heading: "Costs · every tenant", action: SitePage.staffCosts.url, csv: SitePage.staffCostsCSV.url,
                request: ctx.request, zone: "UTC (each tenant's days are its own)", staff: true, today: today,
                formToken: ctx.visitor.formToken)
            model.queryErrors = queryErrors
            return site.page(
                "costs/report", title: "Costs", model, status: queryErrors.isEmpty ? .ok : .unprocessableContent, visitor: ctx.visitor)
        }
        routes.staff(.get, .staffCostsCSV, permission: .costsRead) { ctx in
            try csvOrProblem(ctx.request) { csv(try staffReport(ctx), filename: "costs.csv") }
        }

        // Budgets: made, changed and removed by those who manage the tenant's settings.
        routes.tenant(.post, .budgets, permission: .tenantSettingsManage, options: .form) { ctx in
            let form = try ctx.form()
            let input = BudgetInput(form)
            do {
                _ = try budgets.create(tenant: ctx.tenant.id, input, owner: ctx.visitor.user, actor: ctx.actor)
                return .redirect(to: SiteURL.costs(ctx.tenant.slug).at("budgets").path)
            } catch let error as ValidationError {
                let currency = try database.inTenant(ctx.tenant.id) { try CostReport.settings($0, tenant: ctx.tenant.id).currency }
                return try tenantPage(
                    ctx, form: BudgetForm(action: .budgets(ctx.tenant.slug), input: input, currency: currency), errors: error.fieldErrors,
                    status: error.status)
            }
        }
        routes.tenant(.get, .budget, permission: .costsRead) { ctx in
            try budgetPage(ctx, budgets: budgets, database: database, site: site)
        }
        routes.tenant(.post, .budget, permission: .tenantSettingsManage, options: .form) { ctx in
            let form = try ctx.form()
            guard let id = try? ctx.request.uuidParameter("id") else { throw HTTPError(.notFound) }
            do {
                _ = try budgets.update(
                    tenant: ctx.tenant.id, id: id, ifMatch: Int(form["version"] ?? "").map { Budget.etag(version: $0) }, BudgetInput(form),
                    actor: ctx.actor)
                return .redirect(to: SiteURL.budget(ctx.tenant.slug, id: id).path)
            } catch let error as ValidationError {
                return try budgetPage(
                    ctx, budgets: budgets, database: database, site: site, input: BudgetInput(form), errors: error.fieldErrors,
                    status: error.status)
            } catch is BudgetChanged {
                // Someone saved it meanwhile: the form again, as it is now, rather than an error page.
                return try budgetPage(
                    ctx, budgets: budgets, database: database, site: site,
                    errors: [
                        FieldError(
                            field: "version",
                            detail: "Someone changed this budget while you had it open; here it is as it is now. Make your change again.")
                    ], status: .conflict)
            }
        }
        routes.tenant(.post, .budgetDelete, permission: .tenantSettingsManage, options: .form) { ctx in
            _ = try ctx.form()
            guard let id = try? ctx.request.uuidParameter("id") else { throw HTTPError(.notFound) }
            try budgets.delete(tenant: ctx.tenant.id, id: id, actor: ctx.actor)
            return .redirect(to: SiteURL.costs(ctx.tenant.slug).at("budgets").path)
        }
    }

    struct BudgetPage: TemplateModel {
        let heading: String
        let budget: BudgetView
        let alerts: [AlertView]
        let form: BudgetForm?
        let backLink: SiteURL
        let formToken: String
        var errors: [FieldError] = []
    }

    struct AlertView: Encodable, Sendable {
        let period: String
        let level: String
        let spend: String
        let firedAt: String
    }

    /// One budget: where it stands, the thresholds fired in each period, and its form.
    static func budgetPage(
        _ ctx: TenantContext, budgets: BudgetStore, database: Database, site: Site, input: BudgetInput? = nil, errors: [FieldError] = [],
        status: HTTPStatus = .ok
    ) throws -> Response {
        guard let id = try? ctx.request.uuidParameter("id") else { throw HTTPError(.notFound) }
        let budgetStatus = try BudgetStatus.load(database, tenant: ctx.tenant.id, id: id, now: ctx.world.clock.now)
        let budget = budgetStatus.budget
        let alerts = try budgets.alerts(tenant: ctx.tenant.id, budget: id)
        let current = alerts.filter { $0.periodStart == budgetStatus.period?.from }.map(\.level).sorted()
        var form: BudgetForm?
        if ctx.principal.can(.tenantSettingsManage) {
            let action = SiteURL.budget(ctx.tenant.slug, id: id)
            form =
                input.map {
                    BudgetForm(action: action, input: $0, currency: budget.currency, version: budget.version, submit: "Save budget")
                }
                ?? BudgetForm(editing: budget, action: action)
        }
        return site.page(
            "costs/budget", title: "Budget \(budget.name) · \(ctx.tenant.name)",
            BudgetPage(
                heading: "Budget \(budget.name)", budget: budgetView(budgetStatus, fired: current, slug: ctx.tenant.slug),
                alerts: alerts.map {
                    AlertView(
                        period: $0.periodStart.description, level: "\($0.level) %",
                        spend: Money(micros: $0.spendMicros, currency: budget.currency).display, firedAt: DisplayTime.format($0.firedAt))
                }, form: form, backLink: SiteURL.costs(ctx.tenant.slug).at("budgets"), formToken: ctx.visitor.formToken, errors: errors),
            status: status, visitor: ctx.visitor, tenant: ctx.tenant)
    }
}
