// A test peer written in Python (Tests/peers/*.py) run from the project's virtual environment:
// started, asked for the port it printed, stopped with the test.
import Foundation
import Postgres

public final class PythonPeer: @unchecked Sendable {
    public let port: Int
    private let process: ChildProcess
    private let output: URL

    public init(_ script: String, arguments: [String]) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).out")
        let path = TestEnvironment.root.appendingPathComponent("Tests/peers/\(script)").path
        process = try ChildProcess(
            [try TestEnvironment.venvBin("python"), "-u", path] + arguments,
            environment: ["PATH": "/usr/bin:/bin"], output: output.path)
        var port: Int?
        let output = output
        _ = waitUntil(10) {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return port != nil
        }
        guard let port else {
            _ = process.stop(signal: SIGKILL)
            throw TestSetupError("\(script) did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    deinit {
        _ = process.stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: output)
    }
}
