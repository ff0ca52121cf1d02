// Budgets: a spending limit per tenant, team or gateway key, over the calendar month in the
// tenant's time zone or a custom period, with thresholds (percentages, 70/90/100 by default) that
// each fire once per period. The store validates, writes (transactional, audited) and reads
// budgets, and works out a budget's current period and its spend from the rollups.
import Foundation
import struct HTTPServer.FieldError
import struct HTTPServer.QueryParameters
import Postgres

public struct Budget: Sendable, Equatable {
    public enum Scope: String, CaseIterable, Sendable { case tenant, team, key }
    public enum Period: String, CaseIterable, Sendable { case month, custom }

    public let id: UUID
    public let tenant: UUID
    public var name: String
    public var scope: Scope
    /// The team or key_ref; "" for the whole tenant.
    public var scopeValue: String
    public var amountMicros: Int64
    public var currency: String
    public var period: Period
    /// A custom period's first and last local day (inclusive).
    public var startsOn: LocalDate?
    public var endsOn: LocalDate?
    /// A custom period that starts again the day after it ends, as long each time (migration 0041).
    public var repeats = false
    public var thresholds: [Int]
    public var owners: [UUID]
    public var version: Int

    public var amount: Money { Money(micros: amountMicros, currency: currency) }

    /// The version as an entity tag ("v3"), what the API sends as ETag and takes in If-Match.
    public var etag: String { Self.etag(version: version) }
    public static func etag(version: Int) -> String { "\"v\(version)\"" }

    /// The period holding `today` (a local date of the tenant's zone); nil when a custom period has
    /// not begun or is over.
    public func currentPeriod(today: LocalDate) -> CostPeriod? {
        switch period {
        case .month: return CostPeriod(from: today.firstOfMonth, to: today.lastOfMonth)
        case .custom:
            guard let startsOn, let endsOn, startsOn <= today else { return nil }
            guard repeats else { return today <= endsOn ? CostPeriod(from: startsOn, to: endsOn) : nil }
            // The k-th repetition holds today: whole periods since the anchor, counted in local days.
            let length = startsOn.days(to: endsOn) + 1
            let first = startsOn.adding(days: startsOn.days(to: today) / length * length)
            return CostPeriod(from: first, to: first.adding(days: length - 1))
        }
    }

    /// How long a repeating period is, in days; nil for a month or a one-off period.
    public var repeatDays: Int? {
        guard repeats, let startsOn, let endsOn else { return nil }
        return startsOn.days(to: endsOn) + 1
    }

    /// The thresholds `spend` has reached, lowest first: spend × 100 ≥ amount × level, in 128-bit
    /// integers (an amount of ten billion at 1000 % overflows 64 bits, and the wrapped product read
    /// as reached with nothing spent).
    public func reached(spend: Int64) -> [Int] {
        let spent = spend.multipliedFullWidth(by: 100)
        return thresholds.sorted().filter { level in
            let limit = amountMicros.multipliedFullWidth(by: Int64(level))
            return (spent.high, spent.low) >= (limit.high, limit.low)
        }
    }

    public var scopeLabel: String {
        switch scope {
        case .tenant: "whole tenant"
        case .team: "team \(scopeValue)"
        case .key: "key \(scopeValue)"
        }
    }
}

/// What a budget form or API body gives; validated before it is written.
public struct BudgetInput: Sendable {
    public var name = ""
    public var scope = "tenant"
    public var scopeValue = ""
    /// A decimal amount in the tenant's currency ("2500", "2500.50"): at most six decimals.
    public var amount = ""
    public var period = "month"
    public var startsOn = ""
    public var endsOn = ""
    /// "70, 90, 100"; empty for the default.
    public var thresholds = ""
    public var owners: [UUID] = []
    /// A custom period that repeats.
    public var repeats = false

    public init() {}

    /// From a form or a query-shaped body.
    public init(_ fields: QueryParameters) {
        name = fields["name"] ?? ""
        scope = fields["scope"] ?? "tenant"
        scopeValue = fields["scope_value"] ?? ""
        amount = fields["amount"] ?? ""
        period = fields["period"] ?? "month"
        startsOn = fields["starts_on"] ?? ""
        endsOn = fields["ends_on"] ?? ""
        thresholds = fields["thresholds"] ?? ""
        repeats = ["1", "on", "true"].contains(fields["repeats"] ?? "")
    }

    public static let defaultThresholds = [70, 90, 100]

    /// Micro-units from a decimal text, exactly; nil when it is not a positive amount of digits (no
    /// sign) with at most six decimals.
    public static func micros(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty, wholeText.count <= 12,
            wholeText.utf8.allSatisfy({ (48...57).contains($0) }), let whole = Int64(wholeText)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int64(digits + String(repeating: "0", count: 6 - digits.count))
            else { return nil }
            fraction = value
        }
        let micros = whole * 1_000_000 + fraction
        return micros > 0 ? micros : nil
    }

    /// The checked values, or every mistake by field.
    func validated(currency: String) throws -> (
        name: String, scope: Budget.Scope, scopeValue: String, micros: Int64, period: Budget.Period, startsOn: LocalDate?,
        endsOn: LocalDate?, thresholds: [Int], repeats: Bool
    ) {
        var errors: [FieldError] = []
        let name = self.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 { errors.append(FieldError(field: "name", detail: "give a name of 1–200 characters")) }
        let scope = Budget.Scope(rawValue: self.scope)
        if scope == nil { errors.append(FieldError(field: "scope", detail: "tenant, team or key")) }
        // Composed as ingest stores team and key names (UsageRules.nfc), so either spelling matches.
        let value = scope == .tenant ? "" : UsageRules.nfc(scopeValue.trimmingCharacters(in: .whitespaces))
        if scope != nil && scope != .tenant && (value.isEmpty || value.count > 200) {
            errors.append(FieldError(field: "scope_value", detail: "name the team or key (1–200 characters)"))
        }
        let micros = BudgetInput.micros(amount)
        if micros == nil {
            errors.append(
                FieldError(field: "amount", detail: "a positive amount in \(currency) with at most six decimals, such as 2500.00"))
        }
        let period = Budget.Period(rawValue: self.period)
        if period == nil { errors.append(FieldError(field: "period", detail: "month or custom")) }
        var startsOn: LocalDate?, endsOn: LocalDate?
        if period == .custom {
            startsOn = LocalDate(self.startsOn)
            endsOn = LocalDate(self.endsOn)
            if startsOn == nil { errors.append(FieldError(field: "starts_on", detail: "the first day, as YYYY-MM-DD")) }
            if endsOn == nil { errors.append(FieldError(field: "ends_on", detail: "the last day, as YYYY-MM-DD")) }
            if let startsOn, let endsOn, endsOn < startsOn {
                errors.append(FieldError(field: "ends_on", detail: "the last day must not be before the first"))
            }
        } else if repeats && period != nil {
            errors.append(
                FieldError(
                    field: "repeats", detail: "only a custom period is repeated (a calendar month starts again each month anyway)"))
        }
        var thresholds = BudgetInput.defaultThresholds
        if !self.thresholds.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = self.thresholds.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: "")
            }
            let levels = parts.compactMap { Int($0) }
            if levels.count != parts.count || levels.isEmpty || levels.count > 10 || levels.contains(where: { $0 < 1 || $0 > 1000 }) {
                errors.append(FieldError(field: "thresholds", detail: "1–10 whole percentages from 1 to 1000, such as 70, 90, 100"))
            } else {
                thresholds = Array(Set(levels)).sorted()
            }
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        return (name, scope!, value, micros!, period!, startsOn, endsOn, thresholds, period == .custom && repeats)
    }
}

/// The budget changed since the version the change was based on.
public struct BudgetChanged: DomainError {
    public let current: Int
    public var refusal: Refusal { .changedSince }
    public var detail: String? { "The budget changed since you read it (now version \(current)); read it again and reapply your change." }
}

/// A threshold that fired.
public struct BudgetAlert: Sendable {
    public let periodStart: LocalDate
    public let level: Int
    public let spendMicros: Int64
    public let firedAt: Date
}

public struct BudgetStore: Sendable {
    let database: Database
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    static let columns = """
        id, tenant_id, name, scope, scope_value, amount_micros, currency, period, starts_on::text, (ends_on - 1)::text,
        thresholds, owners, version, repeats
        """

    static func budget(_ row: Row) throws -> Budget {
        let thresholds: [Int] = try row.require(10)
        return Budget(
            id: try row.require(0), tenant: try row.require(1), name: try row.require(2),
            scope: Budget.Scope(rawValue: try row.require(3)) ?? .tenant, scopeValue: try row.require(4),
            amountMicros: try row.require(5), currency: try row.require(6), period: Budget.Period(rawValue: try row.require(7)) ?? .month,
            startsOn: try row.decode(8, as: String.self).flatMap(LocalDate.init),
            endsOn: try row.decode(9, as: String.self).flatMap(LocalDate.init), repeats: try row.require(13),
            thresholds: thresholds, owners: try row.require(11), version: try row.require(12))
    }

    /// The tenant's budgets, by name.
    public func list(tenant: UUID) throws -> [Budget] {
        try database.inTenant(tenant) { tx in try Self.all(tx, tenant: tenant) }
    }

    /// The most budgets a tenant may have: every check of its spend reads each one, and lists show them all.
    public static let maxPerTenant = 500

    static func all(_ tx: Connection, tenant: UUID) throws -> [Budget] {
        try tx.query("SELECT \(columns) FROM budgets WHERE tenant_id = $1 ORDER BY lower(name), id LIMIT \(maxPerTenant)", [tenant])
            .map(budget)
    }

    public func get(tenant: UUID, id: UUID) throws -> Budget {
        try database.inTenant(tenant) { tx in try Self.get(tx, tenant: tenant, id: id) }
    }

    static func get(_ tx: Connection, tenant: UUID, id: UUID) throws -> Budget {
        guard let row = try tx.query("SELECT \(columns) FROM budgets WHERE tenant_id = $1 AND id = $2", [tenant, id]).first else {
            throw NotFound()
        }
        return try budget(row)
    }

    func after(_ budget: Budget) throws -> JSONText {
        try JSONText(encoding: [
            "name": budget.name, "scope": budget.scope.rawValue, "scope_value": budget.scopeValue,
            "amount": budget.amount.plain, "currency": budget.currency, "period": budget.period.rawValue,
            "thresholds": budget.thresholds.map(String.init).joined(separator: ","),
            "repeats": budget.repeats ? "yes" : "no",
        ])
    }

    /// Creates a budget in the tenant's currency; `owner` (the person creating it) is told when it fires.
    public func create(tenant: UUID, _ input: BudgetInput, owner: UUID?, actor: AuditActor) throws -> Budget {
        let now = clock.now
        return try database.inTenant(tenant) { tx in
            let currency = try CostReport.settings(tx, tenant: tenant).currency
            let valid = try input.validated(currency: currency)
            // Past the cap a budget would be listed nowhere and never checked (lists and checks read
            // maxPerTenant): refused instead. Counted under a lock so two at once cannot pass it.
            try tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["budgets:" + tenant.postgresText])
            let count = try tx.query("SELECT count(*) FROM budgets WHERE tenant_id = $1", [tenant])[0].require(0, as: Int.self)
            guard count < Self.maxPerTenant else {
                throw ValidationError([
                    FieldError(field: "name", detail: "a tenant has at most \(Self.maxPerTenant) budgets; remove one first")
                ])
            }
            let id = UUID.v7(at: now)
            let owners = Array(Set(input.owners + (owner.map { [$0] } ?? [])))
            try tx.query(
                """
                INSERT INTO budgets (tenant_id, id, name, scope, scope_value, amount_micros, currency, period, starts_on, ends_on,
                                     thresholds, owners, created_at, updated_at, repeats)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10::date + 1, $11::smallint[], $12::uuid[], $13, $13, $14)
                """,
                [
                    tenant, id, valid.name, valid.scope.rawValue, valid.scopeValue, valid.micros, currency, valid.period.rawValue,
                    valid.startsOn?.description, valid.endsOn?.description, valid.thresholds, owners, now, valid.repeats,
                ])
            let budget = try Self.get(tx, tenant: tenant, id: id)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "budget.create", targetType: "budget", targetID: id.postgresText,
                    after: try after(budget), at: now), in: tx)
            return budget
        }
    }

    /// Changes a budget if `ifMatch` (an If-Match value; nil: as it is now) admits its current
    /// version; owners stay as they were.
    public func update(tenant: UUID, id: UUID, ifMatch: String?, _ input: BudgetInput, actor: AuditActor) throws -> Budget {
        let now = clock.now
        return try database.inTenant(tenant) { tx in
            let before = try Self.get(tx, tenant: tenant, id: id)
            if let ifMatch, !IfMatch.admits(ifMatch, current: before.etag) { throw BudgetChanged(current: before.version) }
            let valid = try input.validated(currency: before.currency)
            try tx.query(
                """
                UPDATE budgets SET name = $3, scope = $4, scope_value = $5, amount_micros = $6, period = $7, starts_on = $8::date,
                    ends_on = $9::date + 1, thresholds = $10::smallint[], updated_at = $11, version = version + 1, repeats = $12
                WHERE tenant_id = $1 AND id = $2
                """,
                [
                    tenant, id, valid.name, valid.scope.rawValue, valid.scopeValue, valid.micros, valid.period.rawValue,
                    valid.startsOn?.description, valid.endsOn?.description, valid.thresholds, now, valid.repeats,
                ])
            let budget = try Self.get(tx, tenant: tenant, id: id)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "budget.update", targetType: "budget", targetID: id.postgresText,
                    before: try after(before), after: try after(budget), at: now), in: tx)
            return budget
        }
    }

    public func delete(tenant: UUID, id: UUID, actor: AuditActor) throws {
        let now = clock.now
        try database.inTenant(tenant) { tx in
            let before = try Self.get(tx, tenant: tenant, id: id)
            try tx.query("DELETE FROM budgets WHERE tenant_id = $1 AND id = $2", [tenant, id])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "budget.delete", targetType: "budget", targetID: id.postgresText,
                    before: try after(before), at: now), in: tx)
        }
    }

    /// The thresholds fired in `budget`'s periods, newest first.
    public func alerts(tenant: UUID, budget: UUID) throws -> [BudgetAlert] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT period_start::text, level, spend_micros, fired_at FROM budget_alerts
                WHERE tenant_id = $1 AND budget_id = $2 ORDER BY period_start DESC, level DESC LIMIT 100
                """, [tenant, budget]
            ).map {
                BudgetAlert(
                    periodStart: LocalDate(try $0.require(0, as: String.self))!, level: try $0.require(1), spendMicros: try $0.require(2),
                    firedAt: try $0.require(3))
            }
        }
    }
}

/// Where a budget stands now: its period, spend and the share used. What a gateway reads for a hard stop.
public struct BudgetStatus: Sendable {
    public let budget: Budget
    /// Nil when a custom period is not running.
    public let period: CostPeriod?
    public let spendMicros: Int64

    /// Spend as whole and tenth percentages of the amount, exactly.
    public var usedPercent: String { Money.percent(spendMicros, of: budget.amountMicros) }
    public var remainingMicros: Int64 { max(budget.amountMicros - spendMicros, 0) }
    public var exceeded: Bool { period != nil && spendMicros >= budget.amountMicros }
    public var reached: [Int] { period == nil ? [] : budget.reached(spend: spendMicros) }

    /// The budget's spend over `period`, from one indexed read of a rollup: the key slice (a few rows
    /// per day) for the tenant and for a key, the team slice (a few rows per day) for a team.
    static func spend(_ tx: Connection, budget: Budget, period: CostPeriod) throws -> Int64 {
        let values: [(any PostgresEncodable)?] = [budget.tenant, period.from.description, period.to.description]
        let row: Rows
        switch budget.scope {
        case .tenant:
            row = try tx.query(
                "SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_daily_keys WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date",
                values)
        case .key:
            row = try tx.query(
                """
                SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_daily_keys
                WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date AND key_ref = $4
                """, values + [budget.scopeValue])
        case .team:
            row = try tx.query(
                """
                SELECT coalesce(sum(cost_micros), 0)::bigint FROM usage_daily_teams
                WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date AND team = $4
                """, values + [budget.scopeValue])
        }
        return try row[0].require(0)
    }

    /// The status of `budget` at `now`, in `tx` (the tenant's).
    static func load(_ tx: Connection, budget: Budget, zone: TimeZone, now: Date) throws -> BudgetStatus {
        let period = budget.currentPeriod(today: LocalDate(now, in: zone))
        return BudgetStatus(budget: budget, period: period, spendMicros: try period.map { try spend(tx, budget: budget, period: $0) } ?? 0)
    }

    /// One budget's status in one transaction: the budget and the zone in one read, the spend in another.
    public static func load(_ database: Database, tenant: UUID, id: UUID, now: Date) throws -> BudgetStatus {
        try database.inTenant(tenant) { tx in
            guard
                let row = try tx.query(
                    """
                    SELECT \(BudgetStore.columns), (SELECT time_zone FROM tenants WHERE id = $1)
                    FROM budgets WHERE tenant_id = $1 AND id = $2
                    """, [tenant, id]
                ).first
            else { throw NotFound() }
            let zone = TimeZone(identifier: try row.require(14)) ?? TimeZone(identifier: "UTC")!
            return try load(tx, budget: try BudgetStore.budget(row), zone: zone, now: now)
        }
    }
}
