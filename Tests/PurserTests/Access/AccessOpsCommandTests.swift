import Foundation
@testable import Purser
import Testing
import TestSupport

/// The operator's side of the access and host operations, from the shell: `purser admin
/// add-provider-channel` adds a provider channel (a webhook's secret printed once and sealed at rest,
/// refused without the master key or with an event Purser does not send), and `purser admin
/// measure-ssh-signing` signs with the installation's CA and says how fast.
@Suite struct AccessOpsCommandTests {
    @Test func providerChannelsAreAddedAndSigningMeasuredFromTheShell() throws {
        let database = try TestDatabase()
        let binary = TestEnvironment.purserBinary.path
        var environment = ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url]
        let hook = [
            "admin", "add-provider-channel", "--kind", "webhook", "--name", "On call", "--target", "https://oncall.example.net/purser",
        ]
        let withoutKey = try Subprocess.run(binary, hook, environment: environment)
        #expect(withoutKey.status != 0 && withoutKey.output.contains("PURSER_MASTER_KEY"), "\(withoutKey.output)")
        environment["PURSER_MASTER_KEY"] = TestEnvironment.masterKeyText
        let added = try Subprocess.run(binary, hook, environment: environment)
        #expect(added.status == 0 && added.output.contains("Added the provider channel On call"), "\(added.output)")
        let secret = try #require(added.output.split(separator: "\n").first { $0.contains("signing secret") }?.split(separator: " ").last)
        let unknown = try Subprocess.run(
            binary,
            ["admin", "add-provider-channel", "--kind", "email", "--name", "NOC", "--target", "noc@example.net", "--events", "nope"],
            environment: environment)
        #expect(unknown.status == 1 && unknown.output.contains("events"), "\(unknown.output)")
        let stored = try database.connect().query("SELECT kind, target, events, secret FROM provider_channels")
        #expect(stored.count == 1)
        #expect(try stored[0].require(0, as: String.self) == "webhook" && stored[0].require(2, as: [String].self) == ["host.down"])
        #expect(try !stored[0].require(3, as: String.self).contains(String(secret)))
        #expect(try database.connect().query("SELECT 1 FROM audit_events WHERE action = 'provider_channel.create'").count == 1)

        #expect(try Subprocess.run(binary, ["admin", "init-ssh-ca"], environment: environment).status == 0)
        let measured = try Subprocess.run(binary, ["admin", "measure-ssh-signing", "--count", "50"], environment: environment)
        #expect(measured.status == 0 && measured.output.contains("signed 50 certificates"), "\(measured.output)")
    }
}
