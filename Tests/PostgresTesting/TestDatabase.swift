// A database of its own for each test, cloned from the migrated template and dropped afterwards.
import Foundation
import Postgres

public final class TestDatabase: Sendable {
    public let name: String
    public let url: String
    /// Nil for a database made elsewhere (`init(existing:)`), which is not dropped here.
    private let adminURL: String?

    /// A fresh database; `migrated: false` gives an empty one (for migration tests).
    public init(migrated: Bool = true) throws {
        let adminURL = try TestEnvironment.adminURL()
        self.adminURL = adminURL
        name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let template = migrated ? try TestEnvironment.templateName() : "template0"
        let admin = try Connection(url: adminURL)
        try admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        url = TestEnvironment.url(adminURL, database: name)
    }

    /// A database a test made on a cluster of its own (a replica pair's primary): used as it is,
    /// left for whoever made it to drop.
    public init(existing url: String, name: String) {
        adminURL = nil
        self.name = name
        self.url = url
    }

    deinit {
        if let adminURL, let admin = try? Connection(url: adminURL) {
            try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    public func connect() throws -> Connection { try Connection(url: url) }

    /// The URL a Purser node uses for its pool: through PgBouncer in a pooled run (TestEnvironment.
    /// poolerAdminURL), else `url`. Creating databases, LISTEN and checks from the test stay on `url`.
    public var pooledURL: String {
        guard let pooler = TestEnvironment.poolerAdminURL, let admin = try? TestEnvironment.adminURL(),
            url == TestEnvironment.url(admin, database: name)
        else { return url }
        return TestEnvironment.url(pooler, database: name)
    }
}
