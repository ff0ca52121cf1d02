// What `make test` hands Purser's tests beyond the cluster (PostgresTesting): the checkout, tool
// paths and keys.
import Foundation
import PostgresTesting
import Purser

extension TestEnvironment {
    /// The checkout: Templates/, Public/, migrations/.
    public static var root: URL {
        if let root = ProcessInfo.processInfo.environment["PURSER_TEST_ROOT"] { return URL(fileURLWithPath: root) }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    public static func venvBin(_ tool: String) throws -> String {
        let path = try value("PURSER_TEST_VENV") + "/bin/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("\(path) is missing: `make test` installs it (scripts/python-tools.sh)")
        }
        return path
    }

    /// Where tests leave files worth looking at (screenshots).
    public static var artifacts: URL {
        let path = ProcessInfo.processInfo.environment["PURSER_TEST_ARTIFACTS"] ?? NSTemporaryDirectory()
        return URL(fileURLWithPath: path)
    }

    /// The `purser` executable built for the tests.
    public static var purserBinary: URL {
        root.appendingPathComponent(".build/debug/purser")
    }

    /// A fixed master key for the tests (never used outside them).
    public static let masterKeyText = "test:" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
    public static let keyring: Keyring = try! Keyring(parsing: masterKeyText)
}
