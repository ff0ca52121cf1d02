// `purser admin add-provider-channel`: a notification channel of the provider's own (a NOC mailbox
// or an on-call webhook) for events that belong to no tenant, such as a shared-pool GPU host going
// down. A webhook's signing secret is printed once; the receiver checks Purser-Signature with it.
import ArgumentParser
import Foundation
import Purser

struct AddProviderChannel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-provider-channel",
        abstract: "Add a provider notification channel (email or webhook) for events of no tenant, e.g. host.down of a pool host.")

    @OptionGroup var options: CommonOptions
    @Option(help: "email or webhook.") var kind: String
    @Option(help: "A name to recognise it by.") var name: String
    @Option(help: "E-mail addresses separated by commas, or the webhook's URL.") var target: String
    @Option(help: "Comma-separated event names, or *.") var events = "host.down"

    func run() throws {
        guard let kind = ProviderChannel.Kind(rawValue: kind) else { throw ArgumentParser.ValidationError("--kind takes email or webhook") }
        let configuration = try Startup.configuration(options, requireDatabase: true)
        guard let keyring = configuration.masterKey else {
            FileHandle.standardError.write(Data("purser: PURSER_MASTER_KEY is not set; a webhook's secret is sealed with it\n".utf8))
            throw ExitCode(2)
        }
        let database = Database(url: configuration.directDatabaseURL!, size: 1)
        let made = try AdminSetup.reporting {
            try database.asStaff { tx in
                try ProviderChannels.create(
                    kind: kind, name: name, target: target, events: events.split(separator: ",").map(String.init), keyring: keyring,
                    actor: .system, at: AdminSetup.clock.now, in: tx)
            }
        }
        print("Added the provider channel \(made.channel.name) (\(made.channel.id.uuidString.lowercased())).")
        if let secret = made.secret { print("Its signing secret (shown only now): \(secret)") }
    }
}
