// /staff/prices: the price catalogue with each price's source and the date it was read, the form
// that adds a price (closing the open-ended one it follows; overlaps and fractions of a micro-unit
// refused by name), and tenants' markups and discounts in basis points. Provider admins only.
import Foundation
import HTTPServer

enum PricePages {
    struct PriceView: Encodable, Sendable {
        let kind: String
        let provider: String
        let item: String
        let currency: String
        let from: String
        let to: String
        let input: String
        let output: String
        let cached: String
        let gpuHour: String
        let source: String
        let sourceReadOn: String
    }

    struct NegotiatedView: Encodable, Sendable {
        let tenant: String
        let price: PriceView
        let note: String
    }

    struct MarkupView: Encodable, Sendable {
        let tenant: String
        let basisPoints: Int
        let percent: String
        let from: String
        let to: String
        let note: String
    }

    struct CataloguePage: TemplateModel {
        let formToken: String
        let pricesLink: SiteURL
        let markupsLink: SiteURL
        let prices: [PriceView]
        let markups: [MarkupView]
        let negotiated: [NegotiatedView]
        var message: String?
        var errors: [FieldError] = []
    }

    static func view(_ e: PriceEntry) -> PriceView {
        PriceView(
            kind: e.kind.rawValue, provider: e.provider, item: e.item, currency: e.currency, from: day(e.from), to: day(e.to),
            input: e.inputPerMillion.map(MicroUnits.format) ?? "", output: e.outputPerMillion.map(MicroUnits.format) ?? "",
            cached: e.cachedInputPerMillion.map(MicroUnits.format) ?? "", gpuHour: e.perGPUHour.map(MicroUnits.format) ?? "",
            source: e.source, sourceReadOn: e.sourceReadOn)
    }

    static func day(_ date: Date?) -> String { date.map { String(RFC3339.string($0).prefix(10)) } ?? "" }

    /// `2026-12-01` (midnight UTC) or an RFC 3339 time.
    static func instant(_ text: String?) -> Date? {
        let value = (text ?? "").trimmingCharacters(in: .whitespaces)
        if value.count == 10, let seconds = UsageTime.epochSeconds(value + "T00:00:00Z") {
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        return UsageTime.epochSeconds(value).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The form's effective_from and (optional) effective_to, problems named by field.
    static func period(_ form: QueryParameters, _ errors: inout [FieldError]) -> (from: Date?, to: Date?) {
        let from = instant(form["effective_from"])
        if from == nil { errors.append(FieldError(field: "effective_from", detail: "a date such as 2026-12-01")) }
        guard let text = form["effective_to"], !text.trimmingCharacters(in: .whitespaces).isEmpty else { return (from, nil) }
        let to = instant(text)
        if to == nil || from.map({ to! <= $0 }) == true {
            errors.append(FieldError(field: "effective_to", detail: "a date after the start, or empty for open-ended"))
        }
        return (from, to)
    }

    /// The form's price; a negotiated one (`negotiated`) needs no source, its contract is one.
    static func price(from form: QueryParameters, negotiated: Bool = false) throws -> PriceEntry {
        var errors: [FieldError] = []
        let kindText = (form["kind"] ?? "").trimmingCharacters(in: .whitespaces)
        let kind = UsageEvent.Kind(rawValue: kindText.isEmpty ? "tokens" : kindText) ?? .tokens
        // Another word (a typo of gpu) would add a token price nobody asked for.
        if !kindText.isEmpty && UsageEvent.Kind(rawValue: kindText) == nil {
            errors.append(FieldError(field: "kind", detail: "tokens (per million) or gpu (per GPU-hour)"))
        }
        let provider = (form["provider"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if provider.isEmpty || provider.count > 50
            || !provider.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 || $0 == 95 })
        {
            errors.append(FieldError(field: "provider", detail: "lower-case letters, digits, '.', '-' or '_', as events name it"))
        }
        // Composed (NFC) as ingest stores models and GPU types: a decomposed "é" typed here would
        // otherwise never match an event.
        let item = UsageRules.nfc((form["item"] ?? "").trimmingCharacters(in: .whitespaces))
        if item.isEmpty || item.utf8.count > 200 {
            errors.append(FieldError(field: "item", detail: "the model or GPU type, as events name it"))
        }
        let currency = (form["currency"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        if currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            errors.append(FieldError(field: "currency", detail: "a three-letter code such as USD"))
        }
        let (from, to) = period(form, &errors)
        func amount(_ name: String, required: Bool) -> Int64? {
            let text = (form[name] ?? "").trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                if required { errors.append(FieldError(field: name, detail: "is required")) }
                return nil
            }
            guard let micros = MicroUnits.parse(text) else {
                errors.append(
                    FieldError(
                        field: name,
                        detail: "a decimal amount in the currency with at most six decimals (a fraction of a micro-unit is refused)"))
                return nil
            }
            guard micros <= MicroUnits.maxPrice else {
                errors.append(FieldError(field: name, detail: "at most \(MicroUnits.format(MicroUnits.maxPrice)) in the currency"))
                return nil
            }
            return micros
        }
        let source = (form["source"] ?? "").trimmingCharacters(in: .whitespaces)
        if !negotiated && (source.isEmpty || source.count > 500) {
            errors.append(FieldError(field: "source", detail: "where the price was read (a URL)"))
        }
        let readOn = (form["source_read_on"] ?? "").trimmingCharacters(in: .whitespaces)
        if !negotiated && (readOn.count != 10 || UsageTime.epochSeconds(readOn + "T00:00:00Z") == nil) {
            errors.append(FieldError(field: "source_read_on", detail: "the date the source was read, such as 2026-11-27"))
        }
        let entry = PriceEntry(
            kind: kind, provider: provider, item: item, currency: currency, from: from ?? Date(timeIntervalSince1970: 0), to: to,
            inputPerMillion: kind == .tokens ? amount("input", required: true) : nil,
            outputPerMillion: kind == .tokens ? amount("output", required: true) : nil,
            cachedInputPerMillion: kind == .tokens ? amount("cached", required: false) : nil,
            perGPUHour: kind == .gpu ? amount("gpu_hour", required: true) : nil, source: source, sourceReadOn: readOn)
        if !errors.isEmpty { throw ValidationError(errors) }
        return entry
    }

    /// The form's markup of `tenant` (nil: the tenant was not found, already named in `errors`):
    /// whole basis points in the range the table allows, its period and a note.
    static func markup(from form: QueryParameters, tenant: UUID?, errors: [FieldError] = []) throws -> MarkupEntry {
        var errors = errors
        let points = Int((form["markup_bp"] ?? "").trimmingCharacters(in: .whitespaces))
        if points == nil || !(-10000...100_000).contains(points!) {
            errors.append(FieldError(field: "markup_bp", detail: "whole basis points from -10000 (free) to 100000; 1500 is +15 %"))
        }
        let (from, to) = period(form, &errors)
        let note = String((form["note"] ?? "").trimmingCharacters(in: .whitespaces).prefix(500))
        guard errors.isEmpty, let tenant, let points, let from else { throw ValidationError(errors) }
        return MarkupEntry(tenant: tenant, from: from, to: to, basisPoints: points, note: note)
    }

    static func register(in routes: inout RouteTable, site: Site, catalogue: PriceCatalogue, tenants: TenantStore) {
        @Sendable func render(_ ctx: PageContext, message: String? = nil, errors: [FieldError] = [], status: HTTPStatus = .ok) throws
            -> Response
        {
            let prices = try catalogue.prices().map { view($0.entry) }
            let negotiated = try catalogue.negotiated().map { NegotiatedView(tenant: $0.tenantSlug, price: view($0.entry), note: $0.note) }
            let markups = try catalogue.markups().map { row in
                MarkupView(
                    tenant: row.tenantSlug, basisPoints: row.entry.basisPoints,
                    percent: String(format: "%+.2f %%", Double(row.entry.basisPoints) / 100), from: day(row.entry.from),
                    to: day(row.entry.to), note: row.entry.note)
            }
            return site.page(
                "costs/prices", title: "Prices",
                CataloguePage(
                    formToken: ctx.visitor.formToken, pricesLink: SitePage.staffPrices.url, markupsLink: SitePage.staffPriceMarkups.url,
                    prices: prices, markups: markups, negotiated: negotiated, message: message, errors: errors), status: status,
                visitor: ctx.visitor)
        }

        routes.staff(.get, .staffPrices, permission: .costsManage) { ctx in try render(ctx) }

        routes.staff(.post, .staffPrices, permission: .costsManage, options: .form) { ctx in
            let form = try ctx.form()
            do {
                // A tenant named: that tenant's negotiated price.
                let slug = (form["tenant"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
                if !slug.isEmpty {
                    guard let tenant = try tenants.id(slug: slug) else {
                        throw ValidationError([FieldError(field: "tenant", detail: "no tenant has this slug")])
                    }
                    try catalogue.addNegotiated(
                        try price(from: form, negotiated: true), tenant: tenant,
                        note: String((form["note"] ?? "").trimmingCharacters(in: .whitespaces).prefix(500)), actor: ctx.actor,
                        now: ctx.world.now)
                    return try render(ctx, message: "Negotiated price added.", status: .created)
                }
                let rerated = try catalogue.add(try price(from: form), actor: ctx.actor, now: ctx.world.now).rerated
                return try render(
                    ctx,
                    message: rerated.isEmpty
                        ? "Price added."
                        : "Price added; \(rerated.count) tenant\(rerated.count == 1 ?"'s" : "s'") usage is being re-rated.",
                    status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }

        routes.staff(.post, .staffPriceMarkups, permission: .costsManage, options: .form) { ctx in
            let form = try ctx.form()
            var errors: [FieldError] = []
            let tenant = try tenants.id(slug: (form["tenant"] ?? "").trimmingCharacters(in: .whitespaces).lowercased())
            if tenant == nil { errors.append(FieldError(field: "tenant", detail: "no tenant has this slug")) }
            // The same form sets the tenant's billing currency and retention when it names them.
            if form["billing"] == "1" {
                let currency = (form["currency"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
                let days = Int((form["retention_days"] ?? "").trimmingCharacters(in: .whitespaces))
                if currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
                    errors.append(FieldError(field: "currency", detail: "a three-letter code such as EUR"))
                }
                if days == nil || !(30...3660).contains(days!) {
                    errors.append(FieldError(field: "retention_days", detail: "whole days from 30 to 3660"))
                }
                guard errors.isEmpty, let tenant, let days else { return try render(ctx, errors: errors, status: .unprocessableContent) }
                do {
                    try catalogue.setBilling(tenant: tenant, currency: currency, retentionDays: days, actor: ctx.actor, now: ctx.world.now)
                } catch let error as ValidationError {
                    return try render(ctx, errors: error.fieldErrors, status: error.status)
                }
                return try render(ctx, message: "Billing set.", status: .created)
            }
            do {
                try catalogue.setMarkup(try markup(from: form, tenant: tenant, errors: errors), actor: ctx.actor, now: ctx.world.now)
                return try render(ctx, message: "Markup set.", status: .created)
            } catch let error as ValidationError {
                return try render(ctx, errors: error.fieldErrors, status: error.status)
            }
        }
    }
}
