// Runs a command for a test and returns its exit status and output.
import Foundation
import Postgres

public struct CommandResult: Sendable {
    public let status: Int32
    public let output: String
}

public enum Subprocess {
    /// Runs `program` to completion; `environment` nil passes ours on.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        let (status, output) = try ChildProcess.output([program] + arguments, environment: environment)
        return CommandResult(status: status, output: output)
    }
}
