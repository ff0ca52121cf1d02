// What `make test` hands every test: the throwaway cluster and its migrated template. TestSupport
// adds what only Purser's tests need (the checkout, tool paths, keys).
import Foundation
import Postgres

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum TestEnvironment {
    /// A variable `make test` sets; an error that says so when it is missing.
    public static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set: run the tests with `make test`, which starts PostgreSQL and sets it")
        }
        return value
    }

    /// libpq URL of the cluster's `postgres` database, for creating and dropping test databases.
    public static func adminURL() throws -> String { try value("PURSER_TEST_DATABASE_URL") }
    public static func templateName() throws -> String { try value("PURSER_TEST_TEMPLATE") }

    /// In the pooled run of `make test-scale` (PURSER_TEST_POOLER=pgbouncer): the cluster's `postgres`
    /// database through PgBouncer in transaction mode (scripts/scale/pgbouncer.sh). Nil otherwise.
    public static var poolerAdminURL: String? {
        ProcessInfo.processInfo.environment["PURSER_TEST_POOLER_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    /// How Purser's pools meet the server in this run: transaction mode behind the pooler.
    public static var poolMode: PoolMode { poolerAdminURL == nil ? .session : .transaction }

    /// Replaces the database name in a libpq URL (`postgresql:///NAME?host=…`).
    public static func url(_ adminURL: String, database: String) -> String {
        guard let range = adminURL.range(of: "/postgres?") else { return adminURL }
        return adminURL.replacingCharacters(in: range, with: "/\(database)?")
    }
}
