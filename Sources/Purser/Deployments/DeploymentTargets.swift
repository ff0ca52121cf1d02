// Where deployments go: a tenant's environments (in order) and targets — the simulated sandbox, a
// SageMaker account (region, credentials sealed under the master key and bound to the target, so
// key rotation re-seals them: SealedColumn.deploymentTargetCredentials), or a GPU host pool.
// Targets are made by the provider's staff (providers.manage); customers see them by name.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public enum TargetKind: String, Sendable, CaseIterable, Codable {
    case sandbox
    case sagemaker
    case hostPool = "host_pool"

    public var label: String {
        switch self {
        case .sandbox: "sandbox (simulated)"
        case .sagemaker: "AWS SageMaker"
        case .hostPool: "GPU host pool"
        }
    }

    /// Whether deployments may go there now: a host pool waits for a host driver.
    public var refusal: String? {
        self == .hostPool
            ? "host pools have no deployment driver yet: deploy to a sandbox or SageMaker target"
            : nil
    }
}

public struct Environment: Sendable {
    public let id: UUID
    public let name: String
    public let position: Int
}

public struct DeploymentTarget: Sendable {
    public let id: UUID
    public let tenant: UUID
    public let name: String
    public let kind: TargetKind
    public let region: String?
    public let endpointURL: String?
    public let settings: String
    public let credentialsHint: String?
    public let createdAt: Date
}

/// A provider account's keys, as sealed.
public struct ProviderCredentials: Sendable, Codable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// The bearer key an OpenAI-compatible endpoint of the target answers to (its probes send it).
    public var apiKey: String?

    enum CodingKeys: String, CodingKey {
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
        case sessionToken = "session_token"
        case apiKey = "api_key"
    }

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, apiKey: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.apiKey = apiKey
    }

    /// What may be shown: the access key id's last four characters.
    var hint: String { "…" + String((accessKeyID.isEmpty ? apiKey ?? "" : accessKeyID).suffix(4)) }
}

public struct NewTarget: Sendable {
    public var name: String
    public var kind: String
    public var region: String?
    public var endpointURL: String?
    public var credentials: ProviderCredentials?
    public var settings: String?

    public init(
        name: String, kind: String, region: String? = nil, endpointURL: String? = nil, credentials: ProviderCredentials? = nil,
        settings: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.region = region
        self.endpointURL = endpointURL
        self.credentials = credentials
        self.settings = settings
    }

    static var region: Regex<AnyRegexOutput> { Regex(#/^[a-z]{2}(-[a-z]+)+-[0-9]$/#) }

    func validate() throws -> TargetKind {
        var errors: [FieldError] = []
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.count > 100 || trimmed.contains(where: \.isNewline) {
            errors.append(FieldError(field: "name", detail: "1–100 characters on one line"))
        }
        let kind = TargetKind(rawValue: self.kind)
        if kind == nil {
            errors.append(FieldError(field: "kind", detail: "use one of " + TargetKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if let region, !region.isEmpty, region.wholeMatch(of: Self.region) == nil {
            errors.append(FieldError(field: "region", detail: "a region such as eu-west-1"))
        }
        if let url = endpointURL, !url.isEmpty,
            !(url.hasPrefix("https://") || url.hasPrefix("http://")) || url.contains(where: \.isWhitespace)
        {
            errors.append(FieldError(field: "endpoint_url", detail: "an http(s) address, or leave it empty for the provider's own"))
        }
        if kind == .sagemaker {
            if (region ?? "").isEmpty { errors.append(FieldError(field: "region", detail: "a SageMaker target needs its region")) }
            let keys = credentials
            if keys == nil || keys!.accessKeyID.count < 16 || keys!.secretAccessKey.count < 16
                || (keys!.accessKeyID + keys!.secretAccessKey).contains(where: \.isWhitespace)
            {
                errors.append(FieldError(field: "credentials", detail: "a SageMaker target needs an access key id and secret access key"))
            }
        }
        if let settings, !settings.isEmpty, (try? JSONSerialization.jsonObject(with: Data(settings.utf8))) as? [String: Any] == nil {
            errors.append(FieldError(field: "settings", detail: "a JSON object"))
        } else if kind == .sandbox, let settings, !settings.isEmpty {
            // The simulation computes request counts from these: a rate such as 1e300 would trap the reconciler.
            let read = try? JSONDecoder().decode(SandboxSettings.self, from: Data(settings.utf8))
            if let read, !(read.requestsPerMinute >= 0 && read.requestsPerMinute <= 1_000_000) {
                errors.append(FieldError(field: "settings", detail: "requests_per_minute: 0 to 1,000,000"))
            } else if read == nil {
                errors.append(FieldError(field: "settings", detail: "sandbox settings as documented (numbers, outage, fail, serving_url)"))
            }
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        return kind!
    }
}

public struct DeploymentTargets: Sendable {
    let database: Database
    let keyring: Keyring
    let clock: any WallClock

    public init(database: Database, keyring: Keyring, clock: any WallClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    static let columns =
        "id, tenant_id, name, kind, region, endpoint_url, settings::text, credentials_hint, created_at"

    static func target(_ row: Row) throws -> DeploymentTarget {
        DeploymentTarget(
            id: try row.require(0), tenant: try row.require(1), name: try row.require(2),
            kind: TargetKind(rawValue: try row.require(3)) ?? .sandbox, region: try row.decode(4), endpointURL: try row.decode(5),
            settings: try row.require(6), credentialsHint: try row.decode(7), createdAt: try row.require(8))
    }

    /// The tenant's environments, in order.
    public static func environments(_ tx: Connection, tenant: UUID) throws -> [Environment] {
        try tx.query("SELECT id, name, position FROM environments WHERE tenant_id = $1 ORDER BY position", [tenant]).map {
            Environment(id: try $0.require(0), name: try $0.require(1), position: try $0.require(2))
        }
    }

    public func environments(tenant: UUID) throws -> [Environment] {
        try database.inTenant(tenant) { try Self.environments($0, tenant: tenant) }
    }

    public static func targets(_ tx: Connection, tenant: UUID) throws -> [DeploymentTarget] {
        try tx.query("SELECT \(columns) FROM deployment_targets WHERE tenant_id = $1 ORDER BY name", [tenant]).map(target)
    }

    public func targets(tenant: UUID) throws -> [DeploymentTarget] {
        try database.inTenant(tenant) { try Self.targets($0, tenant: tenant) }
    }

    /// Every tenant's targets with the tenant's name (the staff page), by tenant and name.
    public func allTargets() throws -> [(tenant: String, target: DeploymentTarget)] {
        try database.asStaff { tx in
            try tx.query(
                """
                SELECT \(Self.columns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")), t.name
                FROM deployment_targets d JOIN tenants t ON t.id = d.tenant_id ORDER BY t.name, d.name LIMIT 500
                """
            ).map { (try $0.require(9, as: String.self), try Self.target($0)) }
        }
    }

    /// Makes a target of `tenant` (staff), sealing its credentials bound to the new row; audited.
    public func create(_ new: NewTarget, tenant: UUID, by person: UUID, actor: AuditActor) throws -> DeploymentTarget {
        let kind = try new.validate()
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            let id = UUID.v7(at: now)
            if try !tx.query("SELECT 1 FROM deployment_targets WHERE tenant_id = $1 AND name = $2", [tenant, new.name]).isEmpty {
                throw ValidationError(field: "name", "this tenant has a target of that name", refusal: .conflict)
            }
            let sealed = try new.credentials.map {
                try SealedColumn.deploymentTargetCredentials.seal(Array(JSONEncoder().encode($0)), row: id, keyring: keyring)
            }
            try tx.query(
                """
                INSERT INTO deployment_targets (tenant_id, id, name, kind, region, endpoint_url, settings, sealed_credentials,
                                                credentials_hint, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
                """,
                [
                    tenant, id, new.name.trimmingCharacters(in: .whitespaces), kind.rawValue, new.region.flatMap { $0.isEmpty ? nil : $0 },
                    new.endpointURL.flatMap { $0.isEmpty ? nil : $0 }, (new.settings ?? "").isEmpty ? "{}" : new.settings!, sealed,
                    new.credentials?.hint, person, now,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "deployment_target.create", targetType: "deployment_target",
                    targetID: id.postgresText,
                    after: try JSONText(encoding: [
                        "name": new.name, "kind": kind.rawValue, "region": new.region ?? "", "credentials": new.credentials?.hint ?? "",
                    ]), at: now), in: tx)
            return try Self.target(tx.query("SELECT \(Self.columns) FROM deployment_targets WHERE id = $1", [id])[0])
        }
    }

    /// Adds environment `name` at `position` in the tenant's order (staff); audited.
    public func createEnvironment(name: String, position: Int, tenant: UUID, actor: AuditActor) throws -> Environment {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.wholeMatch(of: Self.environmentName) == nil {
            throw ValidationError(field: "environment", "lower-case letters, digits and -, starting with a letter (e.g. staging)")
        }
        if !(1...100).contains(position) { throw ValidationError(field: "position", "its place in the order: 1 to 100") }
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            let taken = try tx.query(
                "SELECT 1 FROM environments WHERE tenant_id = $1 AND (name = $2 OR position = $3)", [tenant, trimmed, position])
            if !taken.isEmpty {
                throw ValidationError(field: "environment", "the tenant has an environment of that name or place", refusal: .conflict)
            }
            let id = UUID.v7(at: now)
            try tx.query(
                "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, $3, $4, $5)",
                [tenant, id, trimmed, position, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "environment.create", targetType: "environment", targetID: id.postgresText,
                    after: try JSONText(encoding: ["name": trimmed, "position": String(position)]), at: now), in: tx)
            return Environment(id: id, name: trimmed, position: position)
        }
    }

    static var environmentName: Regex<AnyRegexOutput> { Regex(#/^[a-z][a-z0-9-]{0,39}$/#) }

    /// The target's provider credentials, opened (drivers call this in their own transaction); nil
    /// for a target without any (the sandbox).
    public static func credentials(_ tx: Connection, target: UUID, keyring: Keyring) throws -> ProviderCredentials? {
        guard
            let stored = try tx.query("SELECT sealed_credentials FROM deployment_targets WHERE id = $1", [target]).first?
                .decode(0, as: String.self)
        else { return nil }
        let opened = try SealedColumn.deploymentTargetCredentials.open(stored, row: target, keyring: keyring)
        return try JSONDecoder().decode(ProviderCredentials.self, from: Data(opened))
    }
}
