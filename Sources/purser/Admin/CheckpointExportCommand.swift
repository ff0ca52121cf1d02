// `purser admin export-checkpoints`: every signed audit checkpoint and checkpoint set as JSON
// lines, to keep outside the database (verify-audit --against checks the database against it).
import ArgumentParser
import Foundation
import Postgres
import Purser

struct ExportCheckpoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-checkpoints",
        abstract: "Write every signed audit checkpoint and checkpoint set as JSON lines, to keep outside the database.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Write to this file (replaced whole) instead of standard output.")
    var output: String?

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        let connection = try Connection(url: configuration.directDatabaseURL!)
        // One snapshot: a run that signs meanwhile is in the file whole or not at all.
        let export = try connection.transaction(isolation: .repeatableRead) { try AuditCheckpointExport.lines(in: $0) }
        guard let output else {
            FileHandle.standardOutput.write(Data(export.text.utf8))
            return
        }
        do {
            try export.text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("purser: cannot write \(output): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
        print("Wrote \(export.checkpoints) checkpoints and \(export.sets) checkpoint sets to \(output).")
    }
}
