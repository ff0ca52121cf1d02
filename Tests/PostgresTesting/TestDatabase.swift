// A database of its own for each test, cloned from the migrated template and dropped afterwards.
import Foundation
import Postgres

public final class TestDatabase: Sendable {
    public let name: String
    public let url: String
    private let adminURL: String

    /// A fresh database; `migrated: false` gives an empty one (for migration tests).
    public init(migrated: Bool = true) throws {
        adminURL = try TestEnvironment.adminURL()
        name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let template = migrated ? try TestEnvironment.templateName() : "template0"
        let admin = try Connection(url: adminURL)
        try admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        url = TestEnvironment.url(adminURL, database: name)
    }

    deinit {
        if let admin = try? Connection(url: adminURL) {
            try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    public func connect() throws -> Connection { try Connection(url: url) }
}
