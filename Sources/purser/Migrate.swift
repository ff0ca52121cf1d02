// `purser migrate`: applies migrations/ to DATABASE_URL, or lists them with --status.
import ArgumentParser
import Foundation
import Postgres
import Purser

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations (or list them with --status).")

    @OptionGroup var options: CommonOptions

    @Flag(help: "List every migration and whether it is applied; change nothing.")
    var status = false

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        do {
            let migrator = Migrator(files: try MigrationFile.load(from: configuration.migrationsFolder))
            let connection = try Connection(url: configuration.directDatabaseURL!)
            if status {
                for entry in try migrator.status(connection) {
                    let digits = String(entry.version)
                    let version = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
                    let state = entry.appliedAt.map { "applied \($0.formatted(.iso8601))" } ?? "pending"
                    print(
                        "\(version)  \(entry.name.padding(toLength: 32, withPad: " ", startingAt: 0))  \(state)"
                            + (entry.checksumMatches ? "" : "  CHANGED SINCE APPLIED"))
                }
                return
            }
            let applied = try migrator.migrate(connection)
            print(
                applied.isEmpty
                    ? "Migrations are current."
                    : "Applied \(applied.count) migration(s): \(applied.map(String.init).joined(separator: ", ")).")
        } catch let error as MigrationError {
            FileHandle.standardError.write(Data("purser: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as PostgresError {
            FileHandle.standardError.write(Data("purser: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
