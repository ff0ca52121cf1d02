// `purser dev`: everything on one machine. Without DATABASE_URL it runs a private PostgreSQL
// under ./.purser, migrates, serves, and stops it all on Ctrl-C.
import ArgumentParser
import Foundation
import Logging
import Postgres
import Purser

struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run Purser for development, with its own PostgreSQL unless DATABASE_URL is set.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Folder for the private PostgreSQL cluster.")
    var dataFolder = ".purser"

    func run() throws {
        Startup.blockTerminationSignals()
        var configuration = try Startup.configuration(options, requireDatabase: false)
        let logger = Startup.logger(configuration)
        var cluster: LocalCluster?
        if configuration.databaseURL == nil {
            let local = try LocalCluster(preferred: URL(fileURLWithPath: dataFolder))
            if local.folder.path != URL(fileURLWithPath: dataFolder).standardizedFileURL.path {
                print("The PostgreSQL account cannot reach \(dataFolder), so the cluster lives in \(local.folder.path).")
            }
            print(local.isInitialized ? "Starting PostgreSQL in \(local.folder.path)…" : "Creating PostgreSQL in \(local.folder.path)…")
            try local.start()
            configuration.databaseURL = local.url()
            cluster = local
        }
        if configuration.masterKey == nil {
            configuration.masterKey = try DevMasterKey.loadOrCreate(in: URL(fileURLWithPath: dataFolder))
        }
        do {
            let connection = try Connection(url: configuration.databaseURL!)
            let applied = try Migrator(files: try MigrationFile.load(from: configuration.migrationsFolder)).migrate(connection)
            if !applied.isEmpty { print("Applied \(applied.count) migration(s).") }
            let app = try PurserApp(configuration: configuration, databaseURL: configuration.databaseURL!, logger: logger)
            try app.start()
            LogSink.standardOutput.flush()
            print("""

                Purser \(PurserVersion.current) is running at http://\(configuration.listenHost):\(app.server.port)/
                  API document: http://\(configuration.listenHost):\(app.server.port)/api/openapi.json
                  Metrics:      \(configuration.metricsHost.map { "http://\($0):\(configuration.metricsPort)/metrics" } ?? "off")
                  Database:     \(configuration.databaseURL!)
                  Master key:   \(ProcessInfo.processInfo.environment["PURSER_MASTER_KEY"] == nil ? "\(dataFolder)/master.key (export PURSER_MASTER_KEY=$(cat \(dataFolder)/master.key) for purser admin)" : "from PURSER_MASTER_KEY")
                Press Ctrl-C to stop.

                """)
            fflush(nil)
            _ = Startup.waitForSignal()
            print("Stopping…")
            app.shutdown()
        } catch {
            try? cluster?.stop()
            throw error
        }
        LogSink.standardOutput.flush()
        try cluster?.stop()
        print("Stopped.")
    }
}

/// Without PURSER_MASTER_KEY, `purser dev` keeps a generated key beside its cluster (mode 0600),
/// so sealed secrets and signed audit checkpoints survive restarts.
enum DevMasterKey {
    static func loadOrCreate(in folder: URL) throws -> Keyring {
        let file = folder.appendingPathComponent("master.key")
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            return try Keyring(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = Keyring.generateText()
        guard FileManager.default.createFile(atPath: file.path, contents: Data((text + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        return try Keyring(parsing: text)
    }
}
