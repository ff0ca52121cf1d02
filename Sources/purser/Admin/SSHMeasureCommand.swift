// `purser admin measure-ssh-signing`: certificates Purser's CA signs per second on this machine, for
// bench/access-sign.sh (the CA must exist: purser admin init-ssh-ca).
import ArgumentParser
import Foundation
import Purser

struct MeasureSSHSigning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-ssh-signing", abstract: "Measure how many SSH user certificates the CA signs per second.")

    @OptionGroup var options: CommonOptions
    @Option(help: "Certificates to sign.") var count = 5000

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        guard let keyring = configuration.masterKey else {
            FileHandle.standardError.write(Data("purser: PURSER_MASTER_KEY is not set; the CA is sealed with it\n".utf8))
            throw ExitCode(2)
        }
        guard count > 0 else { throw ArgumentParser.ValidationError("--count takes a positive number") }
        let result = try SSHSigningMeasurement.run(
            database: Database(url: configuration.directDatabaseURL!, size: 1), keyring: keyring, count: count, at: AdminSetup.clock.now)
        print(String(format: "signed %d certificates in %.3f s: %.0f certificates/s", result.count, result.seconds, result.perSecond))
    }
}
