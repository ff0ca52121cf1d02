// `purser admin init-ssh-ca`: makes Purser's SSH certificate authority once, sealed with the master
// key, and prints its public key for the hosts' TrustedUserCAKeys. Running it again prints the same key.
import ArgumentParser
import Purser

struct InitSSHCA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-ssh-ca",
        abstract: "Make the SSH certificate authority (once) and print its public key for TrustedUserCAKeys.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        let (line, created) = try connection.transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: keyring, at: AdminSetup.clock.now)
        }
        print(created ? "Made the SSH certificate authority. Its public key:" : "The SSH certificate authority exists. Its public key:")
        print(line)
    }
}
