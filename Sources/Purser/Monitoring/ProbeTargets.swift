// Probe targets as people manage them: staff holding monitoring.manage add a URL to probe (checked
// against the outbound destination policy at once, and again before every probe), set an
// endpoint's objectives and interval, give a probe a bearer token (sealed), or stop probing a URL
// they added. Deployment endpoints' targets are made by the tick; their objectives may be set too.
import Foundation
import Postgres
import struct HTTPServer.FieldError

public struct ProbeTargetInput: Sendable {
    public var name: String?
    public var url: String?
    public var kind: String?
    public var model: String?
    public var credentials: String?
    public var intervalSeconds: Int?
    public var timeoutMs: Int?
    public var availabilityPercent: Double?
    public var p95LatencyMs: Int?
    public var p95TTFTMs: Int?
    public var enabled: Bool?
    /// Objectives to remove (`availability_percent`, `p95_latency_ms`, `p95_ttft_ms`), so the
    /// endpoint follows the tenant's again; a nil value alone leaves an objective as it is.
    public var clearing: Set<String> = []
    public init() {}

    public static let clearable: Set<String> = ["availability_percent", "p95_latency_ms", "p95_ttft_ms"]
}

public struct ProbeTargets: Sendable {
    let database: Database
    let world: World
    let keyring: Keyring
    let policy: DestinationPolicy

    public init(database: Database, world: World, keyring: Keyring, policy: DestinationPolicy) {
        self.database = database
        self.world = world
        self.keyring = keyring
        self.policy = policy
    }

    /// The target changed since the version the caller read (412).
    public struct Changed: DomainError {
        public var refusal: Refusal { .changedSince }
        public var detail: String? { "the endpoint changed since that version; read it again" }
    }

    public func list(tenant: UUID, limit: Int = 500) throws -> [ProbeTarget] {
        try database.inTenant(tenant) { tx in
            Array(try ProbeTarget.list(tx, tenant: tenant).prefix(limit))
        }
    }

    public func find(_ id: UUID, tenant: UUID) throws -> ProbeTarget {
        guard
            let found = try database.inTenant(tenant, { tx in try ProbeTarget.list(tx, tenant: tenant, only: id).first })
        else { throw NotFound(detail: "no such endpoint here") }
        return found
    }

    func problems(_ input: ProbeTargetInput, creating: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        if creating || input.name != nil {
            if (input.name ?? "").range(of: "^[a-z0-9][a-z0-9-]{0,62}\\z", options: .regularExpression) == nil {
                errors.append(FieldError(field: "name", detail: "lower-case letters, digits and dashes, up to 63"))
            }
        }
        if let kind = input.kind, ProbeTarget.Kind(rawValue: kind) == nil || kind == "sagemaker" {
            errors.append(FieldError(field: "kind", detail: "http or openai_chat"))
        }
        if let interval = input.intervalSeconds, !(15...3600).contains(interval) {
            errors.append(FieldError(field: "interval_seconds", detail: "probe every 15–3600 seconds"))
        }
        if let timeout = input.timeoutMs, !(500...20000).contains(timeout) {
            errors.append(FieldError(field: "timeout_ms", detail: "a timeout of 500–20000 ms (a probe and its retry fit in one tick)"))
        }
        // The column keeps three decimals: 99.9999 would be stored as 100 and refused by its check.
        if let percent = input.availabilityPercent, !(percent >= 0.001 && percent <= 99.999) {
            errors.append(FieldError(field: "availability_percent", detail: "an objective from 0.001 to 99.999 %"))
        }
        for (field, value) in [("p95_latency_ms", input.p95LatencyMs), ("p95_ttft_ms", input.p95TTFTMs)] {
            if let value, !(1...600_000).contains(value) { errors.append(FieldError(field: field, detail: "1–600000 ms")) }
        }
        if let model = input.model, model.count > 200 { errors.append(FieldError(field: "model", detail: "at most 200 characters")) }
        if let credentials = input.credentials, credentials.count > 4096 || credentials.contains(where: \.isNewline) {
            errors.append(FieldError(field: "credentials", detail: "one line, at most 4096 characters"))
        }
        return errors
    }

    /// Checks a hand-added URL against the outbound destination policy now (it is checked again,
    /// and pinned, before every probe).
    func checkURL(_ url: String?) -> [FieldError] {
        guard let url, !url.isEmpty else { return [FieldError(field: "url", detail: "give the URL to probe")] }
        guard url.count <= 2000 else { return [FieldError(field: "url", detail: "at most 2000 characters")] }
        // The outbound check's own words name a channel's secret; a probe has its credentials field.
        if let parsed = URL(string: url), parsed.user != nil || parsed.password != nil {
            return [FieldError(field: "url", detail: "credentials in the URL are not allowed; put the token in the probe's credentials")]
        }
        do {
            _ = try Destinations.check(url, policy: policy, resolver: world.resolver)
            return []
        } catch let refused as RefusedDestination {
            return [FieldError(field: "url", detail: refused.description)]
        } catch {
            return [FieldError(field: "url", detail: "the host name does not resolve")]
        }
    }

    public func create(_ input: ProbeTargetInput, tenant: UUID, actor: AuditActor) throws -> ProbeTarget {
        let errors = problems(input, creating: true) + checkURL(input.url)
        guard errors.isEmpty, let name = input.name, let url = input.url else { throw ValidationError(errors) }
        let now = world.clock.now
        let id = UUID.v7(at: now)
        let sealed = try input.credentials.flatMap { $0.isEmpty ? nil : $0 }.map {
            try SealedColumn.probeCredentials.seal(Array($0.utf8), row: id, keyring: keyring)
        }
        return try database.inTenant(tenant) { tx in
            if try !tx.query("SELECT 1 FROM probe_targets WHERE tenant_id = $1 AND name = $2", [tenant, name]).isEmpty {
                throw ValidationError([FieldError(field: "name", detail: "an endpoint of this name is probed here")], refusal: .conflict)
            }
            try tx.query(
                """
                INSERT INTO probe_targets (tenant_id, id, source, name, url, kind, model, sealed_credentials, credentials_hint,
                    interval_seconds, timeout_ms, availability_objective, latency_objective_ms, ttft_objective_ms, next_due_at,
                    created_by, created_at, updated_at)
                VALUES ($1, $2, 'manual', $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12, $13, $14, $15, $14, $14)
                """,
                [
                    tenant, id, name, url, input.kind ?? "http", input.model ?? "", sealed, input.credentials.map(Self.hint),
                    input.intervalSeconds ?? 60, input.timeoutMs ?? 10000, input.availabilityPercent, input.p95LatencyMs,
                    input.p95TTFTMs, now, actor.personID,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "monitoring.target_create", targetType: "probe_target",
                    targetID: id.postgresText, reason: url, at: now), in: tx)
            return try ProbeTarget.list(tx, tenant: tenant, only: id)[0]
        }
    }

    /// Changes objectives, interval, credentials or (for a URL added by hand) its address; `ifMatch`: the ETag it is based on.
    public func update(_ id: UUID, _ input: ProbeTargetInput, tenant: UUID, ifMatch: String?, actor: AuditActor) throws -> ProbeTarget {
        var errors = problems(input, creating: false)
        if input.url != nil { errors += checkURL(input.url) }
        guard errors.isEmpty else { throw ValidationError(errors) }
        let now = world.clock.now
        return try database.inTenant(tenant) { tx in
            guard
                let current = try ProbeTarget.list(tx, tenant: tenant, only: id, lock: true).first
            else { throw NotFound(detail: "no such endpoint here") }
            if let ifMatch, !IfMatch.admits(ifMatch, current: current.etag) { throw Changed() }
            if current.source == .endpoint && (input.url != nil || input.name != nil || input.kind != nil) {
                throw ValidationError([
                    FieldError(field: "url", detail: "a deployment endpoint's address, name and kind follow the deployment")
                ])
            }
            let sealed = try input.credentials.map {
                $0.isEmpty ? nil : try SealedColumn.probeCredentials.seal(Array($0.utf8), row: id, keyring: keyring)
            }
            try tx.query(
                """
                UPDATE probe_targets SET name = coalesce($3, name), url = coalesce($4, url), kind = coalesce($5, kind),
                    model = coalesce($6, model),
                    sealed_credentials = CASE WHEN $7::boolean THEN $8 ELSE sealed_credentials END,
                    credentials_hint = CASE WHEN $7::boolean THEN $9 ELSE credentials_hint END,
                    interval_seconds = coalesce($10, interval_seconds), timeout_ms = coalesce($11, timeout_ms),
                    availability_objective = CASE WHEN $17 THEN NULL ELSE coalesce($12::numeric, availability_objective) END,
                    latency_objective_ms = CASE WHEN $18 THEN NULL ELSE coalesce($13, latency_objective_ms) END,
                    ttft_objective_ms = CASE WHEN $19 THEN NULL ELSE coalesce($14, ttft_objective_ms) END,
                    enabled = coalesce($15, enabled), updated_at = $16, version = version + 1
                WHERE tenant_id = $1 AND id = $2
                """,
                [
                    tenant, id, input.name, input.url, input.kind, input.model, input.credentials != nil, sealed ?? nil,
                    input.credentials.flatMap { $0.isEmpty ? nil : Self.hint($0) }, input.intervalSeconds, input.timeoutMs,
                    input.availabilityPercent, input.p95LatencyMs, input.p95TTFTMs, input.enabled, now,
                    input.clearing.contains("availability_percent"), input.clearing.contains("p95_latency_ms"),
                    input.clearing.contains("p95_ttft_ms"),
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "monitoring.target_update", targetType: "probe_target",
                    targetID: id.postgresText, at: now), in: tx)
            return try ProbeTarget.list(tx, tenant: tenant, only: id)[0]
        }
    }

    /// The last four characters, so people can tell which token is set without seeing it.
    static func hint(_ secret: String) -> String { secret.count <= 8 ? "…" : "…" + secret.suffix(4) }
}
