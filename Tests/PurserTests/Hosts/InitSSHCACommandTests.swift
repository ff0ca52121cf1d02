import Foundation
@testable import Purser
import Testing
import TestSupport

/// `purser admin init-ssh-ca` as an operator runs it: the CA is made once, sealed with the master
/// key, and its public key printed for TrustedUserCAKeys (the same key on every run).
@Suite struct InitSSHCACommandTests {
    @Test func theCAIsMadeOnceAndItsPublicKeyPrinted() throws {
        let database = try TestDatabase()
        let binary = TestEnvironment.purserBinary.path
        var environment = ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url]
        let withoutKey = try Subprocess.run(binary, ["admin", "init-ssh-ca"], environment: environment)
        #expect(withoutKey.status != 0 && withoutKey.output.contains("PURSER_MASTER_KEY"), "\(withoutKey.output)")
        environment["PURSER_MASTER_KEY"] = TestEnvironment.masterKeyText
        let made = try Subprocess.run(binary, ["admin", "init-ssh-ca"], environment: environment)
        #expect(made.status == 0 && made.output.contains("Made the SSH certificate authority"), "\(made.output)")
        let line = try #require(made.output.split(separator: "\n").first { $0.hasPrefix("ssh-ed25519 ") }).description
        let again = try Subprocess.run(binary, ["admin", "init-ssh-ca"], environment: environment)
        #expect(again.status == 0 && again.output.contains("exists") && again.output.contains(line), "\(again.output)")
        let stored = try database.connect().query("SELECT public_key, sealed_key FROM ssh_certificate_authority")
        #expect(stored.count == 1)
        #expect(try stored[0].require(0, as: String.self) == line)
        #expect(try !stored[0].require(1, as: String.self).contains(line.split(separator: " ")[1]))
        let audited = try database.connect().query("SELECT 1 FROM audit_events WHERE action = 'ssh.ca_created'")
        #expect(audited.count == 1)
    }
}
