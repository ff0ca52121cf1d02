import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct MigratorTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try write("0001_first.sql", "-- Why: a table to migrate.\nCREATE TABLE first (id int PRIMARY KEY);")
        try write("0002_second.sql", "-- Why: a second step.\nALTER TABLE first ADD COLUMN name text;")
    }

    func write(_ name: String, _ sql: String) throws {
        try Data(sql.utf8).write(to: folder.appendingPathComponent(name))
    }

    func migrator() throws -> Migrator { Migrator(files: try MigrationFile.load(from: folder)) }

    @Test func appliesPendingFilesInOrderAndRecordsThem() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        #expect(try migrator().migrate(connection) == [1, 2])
        let recorded = try connection.query("SELECT version, name, length(checksum) FROM schema_migrations ORDER BY version")
            .map { "\(try $0.require(0, as: Int.self)) \(try $0.require(1, as: String.self)) \(try $0.require(2, as: Int.self))" }
        #expect(recorded == ["1 first 64", "2 second 64"])
        #expect(try connection.query("SELECT count(*) FROM first")[0].require(0, as: Int.self) == 0)
    }

    @Test func aSecondRunChangesNothing() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try migrator().migrate(connection)
        #expect(try migrator().migrate(connection).isEmpty)
        #expect(try migrator().isCurrent(connection))
    }

    @Test func aChangedFileIsRefusedByName() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try migrator().migrate(connection)
        try write("0001_first.sql", "CREATE TABLE first (id bigint PRIMARY KEY);")
        try write("0003_third.sql", "CREATE TABLE third (id int);")
        let error = #expect(throws: MigrationError.self) { try migrator().migrate(connection) }
        #expect(error == .checksumChanged(version: 1, file: "0001_first.sql"))
        #expect(error?.description.contains("0001_first.sql") == true)
        #expect(try connection.query("SELECT to_regclass('third') IS NULL")[0].require(0, as: Bool.self), "nothing after the refusal ran")
        #expect(try !migrator().isCurrent(connection))
    }

    @Test func aFailingFileLeavesNoTrace() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        try write("0003_broken.sql", "CREATE TABLE half (id int); SELECT no_such_function();")
        #expect(throws: MigrationError.self) { try migrator().migrate(connection) }
        #expect(try connection.query("SELECT to_regclass('half') IS NULL")[0].require(0, as: Bool.self))
        #expect(try connection.query("SELECT max(version) FROM schema_migrations")[0].require(0, as: Int.self) == 2)
    }

    @Test func concurrentRunsApplyEachFileOnce() throws {
        let database = try TestDatabase(migrated: false)
        let files = try MigrationFile.load(from: folder)
        let group = DispatchGroup()
        let results = Results()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let applied = try Migrator(files: files).migrate(try database.connect())
                    results.add(applied)
                } catch {
                    results.fail("\(error)")
                }
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(results.failures.isEmpty)
        #expect(results.applied.flatMap { $0 }.sorted() == [1, 2], "each version applied by exactly one runner")
    }

    @Test func statusListsAppliedAndPending() throws {
        let database = try TestDatabase(migrated: false)
        let connection = try database.connect()
        #expect(try migrator().status(connection).allSatisfy { $0.appliedAt == nil })
        let noon = try #require(RFC3339.date("2026-11-23T12:00:00Z"))
        try Migrator(files: Array(try MigrationFile.load(from: folder).prefix(1)), clock: SettableClock(noon)).migrate(connection)
        let status = try migrator().status(connection)
        #expect(status.map(\.version) == [1, 2])
        #expect(status[0].appliedAt == noon && status[1].appliedAt == nil, "applied at the migrator's time")
    }

    @Test func badFileNamesAreRefused() throws {
        try write("first.sql", "SELECT 1;")
        #expect(throws: MigrationError.badFileName("first.sql")) { try MigrationFile.load(from: folder) }
    }

    @Test func theShippedMigrationsApplyToAnEmptyDatabase() throws {
        let database = try TestDatabase(migrated: false)
        let shipped = Migrator(files: try MigrationFile.load(from: TestEnvironment.root.appendingPathComponent("migrations")))
        let connection = try database.connect()
        #expect(try !shipped.migrate(connection).isEmpty)
        #expect(try shipped.isCurrent(connection))
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var applied: [[Int]] = []
    private(set) var failures: [String] = []
    func add(_ versions: [Int]) { lock.lock(); applied.append(versions); lock.unlock() }
    func fail(_ message: String) { lock.lock(); failures.append(message); lock.unlock() }
}
