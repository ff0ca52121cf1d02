// What `make test` hands the tests: the throwaway cluster, the migrated template and tool paths.
import Foundation
import Purser

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum TestEnvironment {
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set: run the tests with `make test`, which starts PostgreSQL and sets it")
        }
        return value
    }

    /// libpq URL of the cluster's `postgres` database, for creating and dropping test databases.
    public static func adminURL() throws -> String { try value("PURSER_TEST_DATABASE_URL") }
    public static func templateName() throws -> String { try value("PURSER_TEST_TEMPLATE") }

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

    /// Replaces the database name in a libpq URL (`postgresql:///NAME?host=…`).
    public static func url(_ adminURL: String, database: String) -> String {
        guard let range = adminURL.range(of: "/postgres?") else { return adminURL }
        return adminURL.replacingCharacters(in: range, with: "/\(database)?")
    }
}
