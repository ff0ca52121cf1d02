// Applies migrations/NNNN_name.sql in order, each in its own transaction with its record,
// under an advisory lock so that many nodes starting at once apply each file exactly once.
import Crypto
import Foundation
import Postgres

public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    public let checksum: String

    /// Reads `NNNN_name.sql` files from `folder`, sorted by version; other files are ignored.
    public static func load(from folder: URL) throws -> [MigrationFile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        var files: [MigrationFile] = []
        for fileName in names where fileName.hasSuffix(".sql") {
            let stem = fileName.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError.badFileName(fileName)
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(fileName), encoding: .utf8)
            let checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
            files.append(
                MigrationFile(
                    version: version, name: String(stem[stem.index(after: underscore)...]),
                    sql: sql, checksum: checksum))
        }
        files.sort { $0.version < $1.version }
        for (a, b) in zip(files, files.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        return files
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case badFileName(String)
    case duplicateVersion(Int)
    case checksumChanged(version: Int, file: String)
    case failed(file: String, message: String)

    public var description: String {
        switch self {
        case .badFileName(let name): "migrations/\(name): the name must be NNNN_what.sql"
        case .duplicateVersion(let version): "two migration files share the version \(version)"
        case .checksumChanged(let version, let file):
            "migrations/\(file) (version \(version)) was changed after it was applied; migrations are forward-only, so add a new file instead"
        case .failed(let file, let message): "migrations/\(file) failed: \(message)"
        }
    }
}

public struct MigrationStatus: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let appliedAt: Date?
    public let checksumMatches: Bool
}

public struct Migrator: Sendable {
    /// An arbitrary constant shared by every node: the key of the advisory lock.
    static let lockKey = 7_201_905_518_446_001
    public let files: [MigrationFile]
    /// What each file's record is stamped with.
    let clock: any WallClock

    public init(files: [MigrationFile], clock: any WallClock = LiveClock()) {
        self.files = files
        self.clock = clock
    }

    /// Applies every pending file; returns the versions it applied (empty when up to date).
    /// Refuses to run when an applied file's checksum differs from the one recorded.
    @discardableResult
    public func migrate(_ connection: Connection) throws -> [Int] {
        // The lock comes first: even CREATE TABLE IF NOT EXISTS races when two nodes run it at once.
        try connection.queryOnce("SELECT pg_advisory_lock($1)", [Self.lockKey])
        defer { _ = try? connection.queryOnce("SELECT pg_advisory_unlock($1)", [Self.lockKey]) }
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL)
            """)
        let applied = try appliedChecksums(connection)
        try verify(applied)
        var done: [Int] = []
        for file in files where applied[file.version] == nil {
            do {
                try connection.transaction { tx in
                    try tx.execute(file.sql)
                    try tx.queryOnce(
                        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                        [file.version, file.name, file.checksum, clock.now])
                }
            } catch let error as PostgresError {
                throw MigrationError.failed(file: fileName(file), message: error.description)
            }
            done.append(file.version)
        }
        return done
    }

    /// Every known file with whether and when it was applied.
    public func status(_ connection: Connection) throws -> [MigrationStatus] {
        let exists = try connection.queryOnce("SELECT to_regclass('schema_migrations') IS NOT NULL")
        let hasTable = try exists[0].require(0, as: Bool.self)
        var applied: [Int: (String, Date)] = [:]
        if hasTable {
            for row in try connection.queryOnce("SELECT version, checksum, applied_at FROM schema_migrations") {
                applied[try row.require(0, as: Int.self)] = (try row.require(1), try row.require(2))
            }
        }
        return files.map { file in
            let record = applied[file.version]
            return MigrationStatus(
                version: file.version, name: file.name, appliedAt: record?.1,
                checksumMatches: record.map { $0.0 == file.checksum } ?? true)
        }
    }

    /// True when every file is applied with its recorded checksum: what `/readyz` asks.
    public func isCurrent(_ connection: Connection) throws -> Bool {
        let rows = try connection.query("SELECT version, checksum FROM schema_migrations")
        var applied: [Int: String] = [:]
        for row in rows { applied[try row.require(0, as: Int.self)] = try row.require(1) }
        return files.allSatisfy { applied[$0.version] == $0.checksum }
    }

    private func appliedChecksums(_ connection: Connection) throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try connection.queryOnce("SELECT version, checksum FROM schema_migrations") {
            applied[try row.require(0, as: Int.self)] = try row.require(1)
        }
        return applied
    }

    private func verify(_ applied: [Int: String]) throws {
        for file in files {
            if let recorded = applied[file.version], recorded != file.checksum {
                throw MigrationError.checksumChanged(version: file.version, file: fileName(file))
            }
        }
    }

    private func fileName(_ file: MigrationFile) -> String {
        let digits = String(file.version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + file.name + ".sql"
    }
}
