// The price catalogue and tenants' markups (migration 0031): what staff read and change on
// /staff/prices. Amounts are typed as decimal currency units and kept as integer micro-units; one
// with a fraction of a micro-unit is refused, never rounded. A new price or markup closes the
// open-ended one it follows; any other overlap is refused by the exclusion constraints. A change
// whose period has begun re-rates the events it touches (costs.rerate), in the same transaction.
import Foundation
import struct HTTPServer.FieldError
import Postgres

/// Decimal currency units as integer micro-units, exactly.
enum MicroUnits {
    /// The largest price (9,999,999.999999 per million tokens or per GPU-hour, enough for a dong or a
    /// rupiah): one event at the largest counts ingest takes, marked up 1000 %, stays inside bigint,
    /// where a larger price would make that event's cost overflow and refuse its whole batch.
    static let maxPrice: Int64 = 9_999_999_999_999

    /// `"2.50"` → 2,500,000; nil for anything but a non-negative decimal of at most six decimals.
    static func parse(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
            parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }), let whole = Int64(parts[0])
        else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard parts.count == 1 || !fraction.isEmpty else { return nil }
        // Zeros past the sixth decimal are no fraction of a micro-unit: "0.1500000" is 0.15.
        while fraction.count > 6 && fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= 6 else { return nil }
        return whole * 1_000_000 + Int64(fraction.padding(toLength: 6, withPad: "0", startingAt: 0))!
    }

    /// 2,500,000 → `"2.50"`: at least two decimals, more only where the amount has them.
    static func format(_ micros: Int64) -> String {
        let whole = micros / 1_000_000
        var fraction = String(format: "%06lld", micros % 1_000_000)
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}

struct PriceEntry: Sendable, Equatable {
    var kind: UsageEvent.Kind
    var provider: String
    var item: String
    var currency: String
    var from: Date
    var to: Date?
    var inputPerMillion: Int64?
    var outputPerMillion: Int64?
    var cachedInputPerMillion: Int64?
    var perGPUHour: Int64?
    var source: String
    /// YYYY-MM-DD: when the source was read.
    var sourceReadOn: String
}

struct MarkupEntry: Sendable, Equatable {
    var tenant: UUID
    var from: Date
    var to: Date?
    var basisPoints: Int
    var note: String
}

struct PriceCatalogue: Sendable {
    let database: Database

    struct Row: Sendable {
        let entry: PriceEntry
        let id: UUID
    }

    struct MarkupRow: Sendable {
        let tenantSlug: String
        let entry: MarkupEntry
        let id: UUID
    }

    /// The columns `entry(_:)` reads, in its order.
    static let priceColumns = """
        id, kind, provider, item, currency, effective_from, effective_to, input_per_million, output_per_million,
        cached_input_per_million, per_gpu_hour, source, source_read_on::text
        """

    static func entry(_ row: Postgres.Row) throws -> Row {
        Row(
            entry: PriceEntry(
                kind: UsageEvent.Kind(rawValue: try row.require(1)) ?? .tokens, provider: try row.require(2), item: try row.require(3),
                currency: try row.require(4), from: try row.require(5), to: try row.decode(6), inputPerMillion: try row.decode(7),
                outputPerMillion: try row.decode(8), cachedInputPerMillion: try row.decode(9), perGPUHour: try row.decode(10),
                source: try row.require(11), sourceReadOn: try row.require(12)),
            id: try row.require(0))
    }

    func prices() throws -> [Row] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT \(Self.priceColumns)
                FROM prices ORDER BY kind DESC, provider, item, currency, effective_from DESC LIMIT 1000
                """
            ).map(Self.entry)
        }
    }

    /// A page of the catalogue in the order prices were added (their ids), after `cursor`, for the
    /// API; optionally one provider's or one item's.
    func prices(after cursor: UUID?, limit: Int, provider: String?, item: String?) throws -> [Row] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT \(Self.priceColumns) FROM prices
                WHERE ($1::uuid IS NULL OR id > $1) AND ($2::text IS NULL OR provider = $2) AND ($3::text IS NULL OR item = $3)
                ORDER BY id LIMIT $4
                """, [cursor, provider, item, limit]
            ).map(Self.entry)
        }
    }

    func markups() throws -> [MarkupRow] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT t.slug, m.tenant_id, m.effective_from, m.effective_to, m.markup_bp, m.note, m.id
                FROM tenant_markups m JOIN tenants t ON t.id = m.tenant_id ORDER BY t.slug, m.effective_from DESC LIMIT 1000
                """
            ).map(Self.markup)
        }
    }

    /// A page of one tenant's markups in the order they were set, after `cursor` (in the tenant's transaction).
    func markups(tenant: UUID, after cursor: UUID?, limit: Int) throws -> [MarkupRow] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT t.slug, m.tenant_id, m.effective_from, m.effective_to, m.markup_bp, m.note, m.id
                FROM tenant_markups m JOIN tenants t ON t.id = m.tenant_id
                WHERE m.tenant_id = $1 AND ($2::uuid IS NULL OR m.id > $2) ORDER BY m.id LIMIT $3
                """, [tenant, cursor, limit]
            ).map(Self.markup)
        }
    }

    static func markup(_ row: Postgres.Row) throws -> MarkupRow {
        MarkupRow(
            tenantSlug: try row.require(0),
            entry: MarkupEntry(
                tenant: try row.require(1), from: try row.require(2), to: try row.decode(3), basisPoints: try row.require(4),
                note: try row.require(5)), id: try row.require(6))
    }

    /// Refuses a period [$1, $2) that overlaps one in `table` matching `key` (a fixed text, never
    /// input), naming the period it meets so the person can move one of them. The exclusion
    /// constraint still holds the line for a writer that comes in between.
    static func refuseOverlap(
        _ tx: Connection, table: String, key: String, _ values: [(any PostgresEncodable)?], field: String, _ detail: String
    ) throws {
        guard
            let met = try tx.query(
                """
                SELECT effective_from, effective_to FROM \(table)
                WHERE \(key) AND tstzrange(effective_from, effective_to) && tstzrange($1::timestamptz, $2::timestamptz)
                ORDER BY effective_from LIMIT 1
                """, values
            ).first
        else { return }
        let from = String(RFC3339.string(try met.require(0, as: Date.self)).prefix(10))
        let to = try met.decode(1, as: Date.self).map { "to " + String(RFC3339.string($0).prefix(10)) } ?? "with no end"
        throw ValidationError([
            FieldError(field: field, detail: "\(detail) (the one from \(from) \(to)); start after it or end before it")
        ])
    }

    /// Adds a list price; returns its id and the tenants whose events it re-rates.
    @discardableResult
    func add(_ price: PriceEntry, actor: AuditActor, now: Date) throws -> (id: UUID, rerated: [UUID]) {
        try database.asStaff { tx in
            try tx.query(
                """
                UPDATE prices SET effective_to = $5
                WHERE kind = $1 AND provider = $2 AND item = $3 AND currency = $4 AND effective_to IS NULL AND effective_from < $5
                """, [price.kind.rawValue, price.provider, price.item, price.currency, price.from])
            try Self.refuseOverlap(
                tx, table: "prices", key: "kind = $3 AND provider = $4 AND item = $5 AND currency = $6",
                [price.from, price.to, price.kind.rawValue, price.provider, price.item, price.currency],
                field: "effective_from", "overlaps a price of \(price.provider) \(price.item) in \(price.currency)")
            let id = UUID.v7(at: now)
            do {
                try tx.query(
                    """
                    INSERT INTO prices (id, kind, provider, item, currency, effective_from, effective_to, input_per_million,
                                        output_per_million, cached_input_per_million, per_gpu_hour, source, source_read_on,
                                        created_at, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::date, $14, $15)
                    """,
                    [
                        id, price.kind.rawValue, price.provider, price.item, price.currency, price.from, price.to, price.inputPerMillion,
                        price.outputPerMillion, price.cachedInputPerMillion, price.perGPUHour, price.source, price.sourceReadOn, now,
                        actor.kind == .token ? nil : actor.id,
                    ])
            } catch let error as PostgresError where error.sqlState == "23P01" {
                throw ValidationError([
                    FieldError(field: "effective_from", detail: "overlaps a price of \(price.provider) \(price.item) in \(price.currency)")
                ])
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "price.create", targetType: "price", targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "kind": price.kind.rawValue, "provider": price.provider, "item": price.item, "currency": price.currency,
                        "from": RFC3339.string(price.from), "input_per_million": price.inputPerMillion.map(String.init) ?? "",
                        "output_per_million": price.outputPerMillion.map(String.init) ?? "",
                        "per_gpu_hour": price.perGPUHour.map(String.init) ?? "", "source": price.source,
                    ]), at: now), in: tx)
            guard price.from < now else { return (id, []) }
            // Tenants with usage of this item in the period (a day's margin: rollup days are local).
            let table = price.kind == .gpu ? "usage_daily_gpu" : "usage_daily"
            let column = price.kind == .gpu ? "gpu_type" : "model"
            let tenants = try tx.query(
                """
                SELECT DISTINCT tenant_id FROM \(table)
                WHERE provider = $1 AND \(column) = $2 AND day >= ($3::timestamptz AT TIME ZONE 'UTC')::date - 1
                  AND ($4::timestamptz IS NULL OR day <= ($4::timestamptz AT TIME ZONE 'UTC')::date + 1)
                """, [price.provider, price.item, price.from, price.to]
            ).map { try $0.require(0, as: UUID.self) }
            for tenant in tenants {
                try RerateJob.enqueue(
                    tx, tenant: tenant, from: price.from, to: price.to,
                    reason: "price of \(price.provider) \(price.item) from \(RFC3339.string(price.from))", at: now)
            }
            return (id, tenants)
        }
    }

    /// A negotiated price: `tenant`'s own for an item, replacing the list and taking no markup.
    /// The source fields of `price` are not kept (the contract is the source); `note` says which.
    @discardableResult
    func addNegotiated(_ price: PriceEntry, tenant: UUID, note: String, actor: AuditActor, now: Date) throws -> UUID {
        try database.asStaff { tx in
            try tx.query(
                """
                UPDATE tenant_prices SET effective_to = $6
                WHERE tenant_id = $1 AND kind = $2 AND provider = $3 AND item = $4 AND currency = $5 AND effective_to IS NULL
                  AND effective_from < $6
                """, [tenant, price.kind.rawValue, price.provider, price.item, price.currency, price.from])
            try Self.refuseOverlap(
                tx, table: "tenant_prices",
                key: "tenant_id = $3 AND kind = $4 AND provider = $5 AND item = $6 AND currency = $7",
                [price.from, price.to, tenant, price.kind.rawValue, price.provider, price.item, price.currency],
                field: "effective_from", "overlaps a negotiated price of \(price.provider) \(price.item) for this tenant")
            let id = UUID.v7(at: now)
            do {
                try tx.query(
                    """
                    INSERT INTO tenant_prices (tenant_id, id, kind, provider, item, currency, effective_from, effective_to,
                                               input_per_million, output_per_million, cached_input_per_million, per_gpu_hour, note,
                                               created_at, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                    """,
                    [
                        tenant, id, price.kind.rawValue, price.provider, price.item, price.currency, price.from, price.to,
                        price.inputPerMillion, price.outputPerMillion, price.cachedInputPerMillion, price.perGPUHour, note, now,
                        actor.kind == .token ? nil : actor.id,
                    ])
            } catch let error as PostgresError where error.sqlState == "23P01" {
                throw ValidationError([
                    FieldError(
                        field: "effective_from", detail: "overlaps a negotiated price of \(price.provider) \(price.item) for this tenant")
                ])
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "price.negotiated", targetType: "price", targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "provider": price.provider, "item": price.item, "currency": price.currency, "from": RFC3339.string(price.from),
                        "input_per_million": price.inputPerMillion.map(String.init) ?? "",
                        "output_per_million": price.outputPerMillion.map(String.init) ?? "",
                        "per_gpu_hour": price.perGPUHour.map(String.init) ?? "", "note": note,
                    ]), at: now), in: tx)
            if price.from < now {
                try RerateJob.enqueue(
                    tx, tenant: tenant, from: price.from, to: price.to,
                    reason: "negotiated price of \(price.provider) \(price.item) from \(RFC3339.string(price.from))", at: now)
            }
            return id
        }
    }

    struct NegotiatedRow: Sendable {
        let tenantSlug: String
        let entry: PriceEntry
        let note: String
        let id: UUID
    }

    static let negotiatedColumns = """
        t.slug, p.kind, p.provider, p.item, p.currency, p.effective_from, p.effective_to, p.input_per_million,
        p.output_per_million, p.cached_input_per_million, p.per_gpu_hour, p.note, p.id
        """

    static func negotiated(_ row: Postgres.Row) throws -> NegotiatedRow {
        NegotiatedRow(
            tenantSlug: try row.require(0),
            entry: PriceEntry(
                kind: UsageEvent.Kind(rawValue: try row.require(1)) ?? .tokens, provider: try row.require(2), item: try row.require(3),
                currency: try row.require(4), from: try row.require(5), to: try row.decode(6), inputPerMillion: try row.decode(7),
                outputPerMillion: try row.decode(8), cachedInputPerMillion: try row.decode(9), perGPUHour: try row.decode(10), source: "",
                sourceReadOn: ""),
            note: try row.require(11), id: try row.require(12))
    }

    func negotiated() throws -> [NegotiatedRow] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT \(Self.negotiatedColumns)
                FROM tenant_prices p JOIN tenants t ON t.id = p.tenant_id ORDER BY t.slug, p.provider, p.item, p.effective_from DESC
                LIMIT 1000
                """
            ).map(Self.negotiated)
        }
    }

    /// A page of one tenant's negotiated prices in the order they were added, after `cursor`.
    func negotiated(tenant: UUID, after cursor: UUID?, limit: Int) throws -> [NegotiatedRow] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT \(Self.negotiatedColumns)
                FROM tenant_prices p JOIN tenants t ON t.id = p.tenant_id
                WHERE p.tenant_id = $1 AND ($2::uuid IS NULL OR p.id > $2) ORDER BY p.id LIMIT $3
                """, [tenant, cursor, limit]
            ).map(Self.negotiated)
        }
    }

    /// Sets the currency `tenant` is billed in (and how long its raw usage is kept). A new currency
    /// re-rates all of the tenant's usage: events priced only in the old one become unpriced until
    /// prices in the new one exist (there are no exchange rates).
    func setBilling(tenant: UUID, currency: String, retentionDays: Int, actor: AuditActor, now: Date) throws {
        try database.asStaff { tx in
            let before = try tx.query(
                "SELECT currency, retention_days FROM tenant_cost_settings WHERE tenant_id = $1", [tenant]
            ).first
            let oldCurrency = try before?.require(0, as: String.self) ?? "USD"
            // A budget is an amount in the currency it was made in, and spend is re-rated into the new
            // one (no exchange rates): compared, they would give a wrong figure and a wrong hard stop.
            let budgets = try tx.query(
                "SELECT name FROM budgets WHERE tenant_id = $1 AND currency <> $2 ORDER BY name LIMIT 4", [tenant, currency]
            ).map { try $0.require(0, as: String.self) }
            if !budgets.isEmpty {
                throw ValidationError([
                    FieldError(
                        field: "currency",
                        detail:
                            "the tenant has budgets in \(oldCurrency) (\(budgets.prefix(3).joined(separator: ", "))\(budgets.count > 3 ? ", …" : "")); "
                            + "they cannot be compared with spend in \(currency): they must be removed first")
                ])
            }
            try tx.query(
                """
                INSERT INTO tenant_cost_settings (tenant_id, currency, retention_days, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id) DO UPDATE SET currency = EXCLUDED.currency, retention_days = EXCLUDED.retention_days,
                    updated_at = EXCLUDED.updated_at
                """, [tenant, currency, retentionDays, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "price.billing", targetType: "tenant", targetID: tenant.postgresText,
                    before: try JSONText(encoding: ["currency": oldCurrency]),
                    after: try JSONText(encoding: ["currency": currency, "retention_days": String(retentionDays)]), at: now), in: tx)
            if currency != oldCurrency {
                let created = try tx.query("SELECT created_at FROM tenants WHERE id = $1", [tenant])[0].require(0, as: Date.self)
                try RerateJob.enqueue(tx, tenant: tenant, from: created, to: nil, reason: "billed in \(currency)", at: now)
            }
        }
    }

    /// Sets a tenant's markup from `from`; re-rates the tenant when the period has begun.
    @discardableResult
    func setMarkup(_ markup: MarkupEntry, actor: AuditActor, now: Date) throws -> UUID {
        try database.asStaff { tx in
            try tx.query(
                "UPDATE tenant_markups SET effective_to = $2 WHERE tenant_id = $1 AND effective_to IS NULL AND effective_from < $2",
                [markup.tenant, markup.from])
            try Self.refuseOverlap(
                tx, table: "tenant_markups", key: "tenant_id = $3", [markup.from, markup.to, markup.tenant], field: "effective_from",
                "overlaps another markup of this tenant")
            let id = UUID.v7(at: now)
            do {
                try tx.query(
                    """
                    INSERT INTO tenant_markups (tenant_id, id, effective_from, effective_to, markup_bp, note, created_at, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    [
                        markup.tenant, id, markup.from, markup.to, markup.basisPoints, markup.note, now,
                        actor.kind == .token ? nil : actor.id,
                    ])
            } catch let error as PostgresError where error.sqlState == "23P01" {
                throw ValidationError([FieldError(field: "effective_from", detail: "overlaps another markup of this tenant")])
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: markup.tenant, actor: actor, action: "price.markup", targetType: "markup", targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "markup_bp": String(markup.basisPoints), "from": RFC3339.string(markup.from),
                        "to": markup.to.map(RFC3339.string) ?? "",
                    ]), at: now), in: tx)
            if markup.from < now {
                try RerateJob.enqueue(
                    tx, tenant: markup.tenant, from: markup.from, to: markup.to,
                    reason: "markup of \(markup.basisPoints) bp from \(RFC3339.string(markup.from))", at: now)
            }
            return id
        }
    }
}
