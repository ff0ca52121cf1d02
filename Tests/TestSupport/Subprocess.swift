// Runs a command for a test and returns its exit status and output.
import Foundation

public struct CommandResult: Sendable {
    public let status: Int32
    public let output: String
}

public enum Subprocess {
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("purser-test-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: capture.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: capture) }
        let handle = try FileHandle(forWritingTo: capture)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
        return CommandResult(status: process.terminationStatus, output: output)
    }
}
