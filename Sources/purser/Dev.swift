// `purser dev`: everything on one machine. Without DATABASE_URL it runs a private PostgreSQL
// under ./.purser, migrates, serves, and stops it all on Ctrl-C.
import ArgumentParser
import Foundation
import Logging
import Postgres
import Purser

struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Purser for development, with its own PostgreSQL unless DATABASE_URL is set.")

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
            // Without SMTP_URL, mail is kept for the development mail pages instead of sent; the
            // server and the worker share one World, so the pages show what the worker delivered.
            let world: World
            if configuration.mailServer == nil {
                let clock = LiveClock()
                world = World(clock: clock, mail: MailCatcher(clock: clock, logger: logger))
            } else {
                world = World.live(configuration)
            }
            let app = try PurserApp(configuration: configuration, databaseURL: configuration.databaseURL!, logger: logger, world: world)
            let logins = try DemoData.seed(
                database: app.database, hasher: app.hasher, keyring: configuration.masterKey!,
                clock: app.world.clock)
            // The SSH CA, as `purser admin init-ssh-ca` makes it (once; kept with the database).
            try connection.transaction { tx in
                try SSHCertificateAuthority.initialize(in: tx, keyring: configuration.masterKey!, at: app.world.clock.now)
            }
            try app.start()
            // Background jobs run in the same process.
            let worker = try JobRunner.start(configuration: configuration, world: world, logger: logger)
            worker.register(metrics: app.metrics)
            LogSink.standardOutput.flush()
            let base = "http://\(configuration.listenHost):\(app.server.port)"
            let mail: String
            if let server = configuration.mailServer {
                mail = "sent through \(server.url)"
                logger.info("mail is sent through SMTP_URL", metadata: ["server": .string(server.url)])
            } else {
                mail = "kept here, not sent: \(SitePage.devMail.url.absolute(on: base))"
                logger.info("mail is kept, not sent (no SMTP_URL)", metadata: ["page": .string(SitePage.devMail.url.absolute(on: base))])
            }
            print(
                """

                Purser \(PurserVersion.current) is running at \(SitePage.home.url.absolute(on: base))
                  API document: \(SitePage.apiDocument.url.absolute(on: base))
                  Metrics:      \(configuration.metricsHost.map { "http://\($0):\(configuration.metricsPort)/metrics" } ?? "off")
                  Mail:         \(mail)
                  Database:     \(configuration.databaseURL!)
                  Master key:   \(ProcessInfo.processInfo.environment["PURSER_MASTER_KEY"] == nil ? "\(dataFolder)/master.key (export PURSER_MASTER_KEY=$(cat \(dataFolder)/master.key) for purser admin)" : "from PURSER_MASTER_KEY")

                Sign in at \(SitePage.signIn.url.absolute(on: base)) with password \(DemoData.password):
                \(logins.map { "  " + $0.email.padding(toLength: 24, withPad: " ", startingAt: 0) + $0.role.padding(toLength: 19, withPad: " ", startingAt: 0) + ($0.secondFactor ? "code: \(CommandLine.arguments[0]) dev-code \($0.email)" : "") }.joined(separator: "\n"))

                Press Ctrl-C to stop.

                """)
            fflush(nil)
            _ = Startup.waitForSignal()
            print("Stopping…")
            app.shutdown()
            worker.stop()
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
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data((text + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        return try Keyring(parsing: text)
    }
}

/// `purser dev-code EMAIL`: the current second-factor code of a demo account (development only).
struct DevCode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-code", abstract: "Print the current second-factor code of an account (development only).")

    @Argument(help: "The account's email.")
    var email: String

    @Option(help: "The folder purser dev uses.")
    var dataFolder = ".purser"

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let folder = URL(fileURLWithPath: dataFolder)
        let url = try environment["DATABASE_URL"] ?? LocalCluster(preferred: folder).url()
        let keyring =
            try environment["PURSER_MASTER_KEY"].map { try Keyring(parsing: $0) }
            ?? DevMasterKey.loadOrCreate(in: folder)
        let database = Database(url: url, size: 1)
        defer { database.pool.close() }
        guard let code = try DemoData.currentCode(email: email, database: database, keyring: keyring, at: LiveClock().now) else {
            FileHandle.standardError.write(Data("purser: \(email) has no second factor\n".utf8))
            throw ExitCode(1)
        }
        print(code)
    }
}
