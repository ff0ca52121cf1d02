// Files on a request (logs, screenshots, configs), kept in PostgreSQL with the request so that
// backups, row-level security and deletion treat them alike. Only listed types are taken, and
// the bytes must look like the type claimed (an "image/png" that is really HTML is refused);
// they are always served as downloads, never rendered in Purser's origin.
import Crypto
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct RequestAttachment: Sendable {
    public let id: UUID
    public let filename: String
    public let contentType: String
    public let size: Int
    public let sha256: String
    public let uploadedBy: String
    public let createdAt: Date
}

/// A stored file's name, type and bytes.
public struct AttachmentFile: Sendable, Equatable {
    public let filename: String
    public let contentType: String
    public let bytes: [UInt8]
}

public struct RequestAttachments: Sendable {
    /// 10 MiB a file.
    public static let sizeLimit = 10 * 1024 * 1024

    /// The types taken, each with how its bytes must begin (nil: text, which must be UTF-8 without NUL).
    static let allowed: [String: [[UInt8]]?] = [
        "text/plain": nil, "text/csv": nil, "application/json": nil, "application/x-yaml": nil, "text/yaml": nil,
        "text/markdown": nil, "application/x-ndjson": nil,
        "image/png": [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]],
        "image/jpeg": [[0xFF, 0xD8, 0xFF]],
        "image/gif": [Array("GIF87a".utf8), Array("GIF89a".utf8)],
        "image/webp": [Array("RIFF".utf8)],
        "application/pdf": [Array("%PDF-".utf8)],
        "application/zip": [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]],
        "application/gzip": [[0x1F, 0x8B]],
    ]

    public static var allowedTypes: [String] { allowed.keys.sorted() }

    let database: Database
    /// The time of day: the new file and the request's change are stamped with one reading of it.
    let clock: any WallClock
    let lists: RequestListCache?

    public init(database: Database, clock: any WallClock, lists: RequestListCache? = nil) {
        self.database = database
        self.clock = clock
        self.lists = lists
    }

    /// Why these bytes may not be stored as `contentType`, or nil when they may.
    static func problem(filename: String, contentType: String, data: [UInt8]) -> FieldError? {
        if data.isEmpty { return FieldError(field: "file", detail: "the file is empty") }
        if data.count > sizeLimit { return FieldError(field: "file", detail: "files are at most 10 MiB") }
        let name = filename.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.unicodeScalars.count > 200
            || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            || name.contains("/") || name.contains("\\")
        {
            return FieldError(field: "filename", detail: "give a file name of 1–200 characters without / or \\")
        }
        guard let signatures = allowed[contentType] else {
            return FieldError(
                field: "file", detail: "\(contentType) files are not taken; send one of " + allowedTypes.joined(separator: ", "))
        }
        if let signatures {
            guard signatures.contains(where: { data.starts(with: $0) }) else {
                return FieldError(field: "file", detail: "the file's content is not \(contentType)")
            }
        } else if data.contains(0) || String(validating: data, as: UTF8.self) == nil {
            return FieldError(field: "file", detail: "a \(contentType) file must be UTF-8 text")
        }
        return nil
    }

    /// Stores a file on the request; audited.
    public func add(
        to request: UUID, tenant: UUID, filename: String, contentType: String, data: [UInt8], principal: Principal,
        actor: AuditActor
    ) throws -> RequestAttachment {
        try principal.require(.requestsComment)
        let type = contentType.lowercased()
        if let problem = Self.problem(filename: filename, contentType: type, data: data) {
            throw ValidationError([problem], refusal: problem.detail.hasPrefix("files are at most") ? .tooLarge : .invalid)
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let name = filename.trimmingCharacters(in: .whitespaces)
        defer { lists?.changed(tenant) }
        return try database.inTenant(tenant) { tx in
            guard !(try tx.query("SELECT 1 FROM requests WHERE tenant_id = $2 AND id = $1 FOR UPDATE", [request, tenant]).isEmpty) else {
                throw NotFound()
            }
            let now = clock.now
            let id = UUID.v7(at: now)
            try tx.query(
                """
                INSERT INTO request_attachments (tenant_id, id, request_id, filename, content_type, size, sha256, content, uploaded_by,
                                                 created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """, [tenant, id, request, name, type, data.count, digest, Bytea(data), principal.user, now])
            try tx.query(
                "UPDATE requests SET updated_at = $2, version = version + 1 WHERE tenant_id = $3 AND id = $1", [request, now, tenant])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "request.attach",
                    targetType: "request", targetID: request.postgresText,
                    after: try JSONText(encoding: [
                        "attachment": id.postgresText, "filename": name,
                        "sha256": digest,
                    ]), at: now), in: tx)
            let uploader = try tx.query("SELECT name FROM users WHERE id = $1", [principal.user])[0].require(0, as: String.self)
            return RequestAttachment(
                id: id, filename: name, contentType: type, size: data.count, sha256: digest, uploadedBy: uploader,
                createdAt: now)
        }
    }

    public func list(request: UUID, tenant: UUID) throws -> [RequestAttachment] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                """
                SELECT a.id, a.filename, a.content_type, a.size, a.sha256, u.name, a.created_at
                FROM request_attachments a JOIN users u ON u.id = a.uploaded_by WHERE a.tenant_id = $2 AND a.request_id = $1
                ORDER BY a.created_at, a.id
                """, [request, tenant]
            ).map {
                RequestAttachment(
                    id: try $0.require(0), filename: try $0.require(1), contentType: try $0.require(2), size: try $0.require(3),
                    sha256: try $0.require(4), uploadedBy: try $0.require(5), createdAt: try $0.require(6))
            }
        }
    }

    /// The file's name, type and bytes, to hand over as a download (`AttachmentDownload`).
    public func file(_ id: UUID, request: UUID, tenant: UUID) throws -> AttachmentFile {
        guard
            let row = try database.inTenant(
                tenant,
                { tx in
                    try tx.query(
                        "SELECT filename, content_type, content FROM request_attachments WHERE tenant_id = $3 AND id = $1 AND request_id = $2",
                        [id, request, tenant]
                    ).first
                })
        else { throw NotFound() }
        let bytes: Bytea = try row.require(2)
        return AttachmentFile(filename: try row.require(0), contentType: try row.require(1), bytes: bytes.bytes)
    }

}
