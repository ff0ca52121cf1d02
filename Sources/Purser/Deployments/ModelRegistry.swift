// The model registry: the provider's catalogue (shared, read without a tenant) and a tenant's
// models and their versions (row-level security). Registering is audited in its transaction.
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct CatalogueModel: Sendable {
    public let id: String
    public let name: String
    public let family: String
    public let publisher: String
    public let openWeights: Bool
    public let licence: String
    public let parameterCount: Int64
    public let contextLength: Int
    public let card: String
}

public struct RegisteredModel: Sendable {
    public let id: UUID
    public let name: String
    public let family: String
    public let source: String
    public let licence: String
    public let owner: (id: UUID, name: String)?
    public let catalogueID: String?
    public let createdAt: Date
}

public struct ModelVersion: Sendable {
    public let id: UUID
    public let modelID: UUID
    public let modelName: String
    public let version: String
    public let artifactURI: String
    public let digest: String
    public let format: String
    public let parameterCount: Int64
    public let contextLength: Int
    public let card: String
    public let defaultGates: String
    public let createdBy: String?
    public let createdAt: Date
}

public struct NewModel: Sendable, Decodable {
    public var name: String
    public var family: String
    public var source: String
    public var licence: String
    public var catalogueID: String?

    enum CodingKeys: String, CodingKey {
        case name, family, source, licence
        case catalogueID = "catalogue_id"
    }

    public init(name: String, family: String, source: String, licence: String, catalogueID: String? = nil) {
        self.name = name
        self.family = family
        self.source = source
        self.licence = licence
        self.catalogueID = catalogueID
    }

    static let sources = ["open_weights", "provider", "own"]

    func validate() throws {
        var errors: [FieldError] = []
        func text(_ field: String, _ value: String, _ limit: Int) {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.count > limit || trimmed.contains(where: { $0.isNewline || $0 == "\u{0}" }) {
                errors.append(FieldError(field: field, detail: "1–\(limit) characters on one line"))
            }
        }
        text("name", name, 100)
        text("family", family, 100)
        text("licence", licence, 100)
        if !Self.sources.contains(source) {
            errors.append(FieldError(field: "source", detail: "use one of " + Self.sources.joined(separator: ", ")))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}

public struct NewModelVersion: Sendable, Decodable {
    public var version: String
    public var artifactURI: String
    public var digest: String
    public var format: String
    public var parameterCount: Int64
    public var contextLength: Int
    public var card: String?

    enum CodingKeys: String, CodingKey {
        case version, digest, format, card
        case artifactURI = "artifact_uri"
        case parameterCount = "parameter_count"
        case contextLength = "context_length"
    }

    public init(
        version: String, artifactURI: String, digest: String, format: String, parameterCount: Int64, contextLength: Int,
        card: String? = nil
    ) {
        self.version = version
        self.artifactURI = artifactURI
        self.digest = digest
        self.format = format
        self.parameterCount = parameterCount
        self.contextLength = contextLength
        self.card = card
    }

    static let formats = ["safetensors", "gguf", "onnx", "pytorch", "tensorrt", "container"]
    static var semver: Regex<AnyRegexOutput> {
        Regex(#/^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/#)
    }
    static var sha256: Regex<AnyRegexOutput> { Regex(#/^sha256:[0-9a-f]{64}$/#) }

    func validate() throws {
        var errors: [FieldError] = []
        if version.wholeMatch(of: Self.semver) == nil {
            errors.append(FieldError(field: "version", detail: "a semantic version such as 1.2.0"))
        }
        if artifactURI.isEmpty || artifactURI.count > 2000 || !artifactURI.contains("://") || artifactURI.contains(where: \.isWhitespace) {
            errors.append(FieldError(field: "artifact_uri", detail: "a URI such as s3://bucket/path or hf://org/model"))
        }
        if digest.wholeMatch(of: Self.sha256) == nil {
            errors.append(FieldError(field: "digest", detail: "sha256: and 64 lower-case hex digits"))
        }
        if !Self.formats.contains(format) {
            errors.append(FieldError(field: "format", detail: "use one of " + Self.formats.joined(separator: ", ")))
        }
        if parameterCount <= 0 { errors.append(FieldError(field: "parameter_count", detail: "a positive number of parameters")) }
        if contextLength <= 0 { errors.append(FieldError(field: "context_length", detail: "a positive number of tokens")) }
        if (card ?? "").count > 50000 || (card ?? "").contains("\u{0}") {
            errors.append(FieldError(field: "card", detail: "up to 50,000 characters of Markdown"))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}

public struct ModelRegistry: Sendable {
    let database: Database
    let clock: any WallClock

    public init(database: Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    static let catalogueColumns =
        "id, name, family, publisher, open_weights, licence, parameter_count, context_length, card"

    static func catalogueModel(_ row: Row) throws -> CatalogueModel {
        CatalogueModel(
            id: try row.require(0), name: try row.require(1), family: try row.require(2), publisher: try row.require(3),
            openWeights: try row.require(4), licence: try row.require(5), parameterCount: try row.require(6),
            contextLength: try row.require(7), card: try row.require(8))
    }

    /// The provider's catalogue, by family and size.
    public func catalogue() throws -> [CatalogueModel] {
        try database.pool.transaction { tx in
            try tx.query("SELECT \(Self.catalogueColumns) FROM model_catalogue ORDER BY family, parameter_count, id").map(
                Self.catalogueModel)
        }
    }

    static let modelColumns = "m.id, m.name, m.family, m.source, m.licence, m.owner_id, u.name, m.catalogue_id, m.created_at"
    static let modelJoins = "models m LEFT JOIN users u ON u.id = m.owner_id"

    static func model(_ row: Row) throws -> RegisteredModel {
        let owner: UUID? = try row.decode(5)
        return RegisteredModel(
            id: try row.require(0), name: try row.require(1), family: try row.require(2), source: try row.require(3),
            licence: try row.require(4), owner: try owner.map { ($0, try row.require(6, as: String.self)) },
            catalogueID: try row.decode(7), createdAt: try row.require(8))
    }

    /// A page of the tenant's models, newest first, after `cursor` (a model id).
    public func models(tenant: UUID, after cursor: UUID? = nil, limit: Int = 50) throws -> [RegisteredModel] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT \(Self.modelColumns) FROM \(Self.modelJoins)
                WHERE m.tenant_id = $1 AND ($2::uuid IS NULL OR (m.created_at, m.id) < (
                    SELECT created_at, id FROM models WHERE tenant_id = $1 AND id = $2))
                ORDER BY m.created_at DESC, m.id DESC LIMIT $3
                """, [tenant, cursor, limit]
            ).map(Self.model)
        }
    }

    public func model(_ id: UUID, tenant: UUID) throws -> RegisteredModel? {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT \(Self.modelColumns) FROM \(Self.modelJoins) WHERE m.tenant_id = $1 AND m.id = $2", [tenant, id])
                .first.map(Self.model)
        }
    }

    public func register(_ new: NewModel, tenant: UUID, owner: UUID, actor: AuditActor) throws -> RegisteredModel {
        try new.validate()
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            if let catalogue = new.catalogueID, try tx.query("SELECT 1 FROM model_catalogue WHERE id = $1", [catalogue]).isEmpty {
                throw ValidationError(field: "catalogue_id", "no such model in the catalogue (GET /api/v1/catalogue/models)")
            }
            if try !tx.query("SELECT 1 FROM models WHERE tenant_id = $1 AND name = $2", [tenant, new.name]).isEmpty {
                throw ValidationError(field: "name", "a model with this name exists", refusal: .conflict)
            }
            let id = UUID.v7(at: now)
            try tx.query(
                """
                INSERT INTO models (tenant_id, id, name, family, source, licence, owner_id, catalogue_id, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [
                    tenant, id, new.name.trimmingCharacters(in: .whitespacesAndNewlines), new.family, new.source, new.licence, owner,
                    new.catalogueID, now,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "model.create", targetType: "model", targetID: id.postgresText,
                    after: try JSONText(encoding: ["name": new.name, "source": new.source, "licence": new.licence]), at: now),
                in: tx)
            return try Self.model(
                tx.query("SELECT \(Self.modelColumns) FROM \(Self.modelJoins) WHERE m.tenant_id = $1 AND m.id = $2", [tenant, id])[0])
        }
    }

    static let versionColumns = """
        v.id, v.model_id, m.name, v.version, v.artifact_uri, v.digest, v.format, v.parameter_count, v.context_length, v.card,
        v.default_gates::text, u.name, v.created_at
        """
    static let versionJoins =
        "model_versions v JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id LEFT JOIN users u ON u.id = v.created_by"

    static func version(_ row: Row) throws -> ModelVersion {
        ModelVersion(
            id: try row.require(0), modelID: try row.require(1), modelName: try row.require(2), version: try row.require(3),
            artifactURI: try row.require(4), digest: try row.require(5), format: try row.require(6),
            parameterCount: try row.require(7), contextLength: try row.require(8), card: try row.require(9),
            defaultGates: try row.require(10), createdBy: try row.decode(11), createdAt: try row.require(12))
    }

    /// A model's versions, newest first.
    public func versions(of model: UUID, tenant: UUID, limit: Int = 100) throws -> [ModelVersion] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT \(Self.versionColumns) FROM \(Self.versionJoins)
                WHERE v.tenant_id = $1 AND v.model_id = $2 ORDER BY v.created_at DESC, v.id DESC LIMIT $3
                """, [tenant, model, limit]
            ).map(Self.version)
        }
    }

    /// Every version of every model of the tenant (the deployment form's choices), newest first.
    public func allVersions(tenant: UUID, limit: Int = 200) throws -> [ModelVersion] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT \(Self.versionColumns) FROM \(Self.versionJoins)
                WHERE v.tenant_id = $1 ORDER BY m.name, v.created_at DESC, v.id DESC LIMIT $2
                """, [tenant, limit]
            ).map(Self.version)
        }
    }

    static func version(_ tx: Connection, _ id: UUID, tenant: UUID) throws -> ModelVersion? {
        try tx.query("SELECT \(versionColumns) FROM \(versionJoins) WHERE v.tenant_id = $1 AND v.id = $2", [tenant, id])
            .first.map(version)
    }

    public func addVersion(
        _ new: NewModelVersion, to model: UUID, tenant: UUID, by person: UUID, actor: AuditActor
    ) throws -> ModelVersion {
        try new.validate()
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            guard
                let catalogue = try tx.query(
                    "SELECT catalogue_id FROM models WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [tenant, model]
                )
                .first
            else { throw NotFound() }
            if try !tx.query(
                "SELECT 1 FROM model_versions WHERE tenant_id = $1 AND model_id = $2 AND version = $3", [tenant, model, new.version]
            )
            .isEmpty {
                throw ValidationError(field: "version", "this model already has version \(new.version)", refusal: .conflict)
            }
            let id = UUID.v7(at: now)
            // A version of a catalogue model takes the catalogue's default gates, so a rollout without
            // hand-made alarms still has health gates.
            try tx.query(
                """
                INSERT INTO model_versions (tenant_id, id, model_id, version, artifact_uri, digest, format, parameter_count,
                                            context_length, card, default_gates, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                        coalesce((SELECT default_gates FROM model_catalogue WHERE id = $11), '[]'::jsonb), $12, $13)
                """,
                [
                    tenant, id, model, new.version, new.artifactURI, new.digest, new.format, new.parameterCount, new.contextLength,
                    new.card ?? "", try catalogue.decode(0, as: String.self), person, now,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "model.version_create", targetType: "model_version",
                    targetID: id.postgresText,
                    after: try JSONText(encoding: ["model": model.postgresText, "version": new.version, "digest": new.digest]), at: now),
                in: tx)
            return try Self.version(tx, id, tenant: tenant)!
        }
    }
}
