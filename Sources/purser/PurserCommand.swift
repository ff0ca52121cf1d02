// `purser`: one executable, one subcommand per file.
import ArgumentParser
import Purser

@main
struct PurserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purser",
        abstract: "The portal a managed-AI-services provider runs for its customers.",
        version: PurserVersion.current,
        subcommands: [Serve.self, Work.self, Migrate.self, Dev.self, DevCode.self, Admin.self])
}
