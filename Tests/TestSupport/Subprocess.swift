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
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("purser-test-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: capture) }
        let process = try ChildProcess([program] + arguments, environment: environment, output: capture.path)
        let status = process.wait()
        let output = (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
        return CommandResult(status: status, output: output)
    }
}
