import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The second wall between tenants: whatever the application's SQL says, PostgreSQL shows a
/// transaction only the rows of the tenant it named.
@Suite struct RowLevelSecurityTests {
    let database: TestDatabase
    let db: Database
    let acme = UUID.v7()
    let globex = UUID.v7()
    let ada = UUID.v7()
    let grace = UUID.v7()

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 2)
        try db.pool.transaction { tx in
            for (id, slug, key) in [(acme, "acme", "ACME"), (globex, "globex", "GLOBEX")] {
                try tx.query(
                    "INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, $2, $3, $4, 'standard')",
                    [id, slug, key, slug.capitalized])
            }
            for (id, email) in [(ada, "ada@acme.test"), (grace, "grace@globex.test")] {
                try tx.query("INSERT INTO users (id, email, name) VALUES ($1, $2, $3)", [id, email, email])
            }
        }
        try db.inTenant(acme) {
            try $0.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'tenant_admin')", [acme, ada])
        }
        try db.inTenant(globex) {
            try $0.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')", [globex, grace])
        }
        try db.inTenant(globex) {
            try $0.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'requester')", [globex, ada])
        }
    }

    func count(_ tx: Connection) throws -> Int {
        try tx.query("SELECT count(*) FROM memberships")[0].require(0, as: Int.self)
    }

    @Test func pooledConnectionsWorkAsTheApplicationRole() throws {
        #expect(try db.pool.query("SELECT current_user")[0].require(0, as: String.self) == "purser_app")
    }

    @Test func withNoTenantSetTenantTablesAreEmpty() throws {
        #expect(try db.pool.transaction { try count($0) } == 0)
    }

    @Test func aTenantSeesOnlyItsOwnRows() throws {
        #expect(try db.inTenant(acme) { try count($0) } == 1)
        let globexUsers = try db.inTenant(globex) { tx in
            try tx.query("SELECT user_id FROM memberships ORDER BY user_id").map { try $0.require(0, as: UUID.self) }
        }
        #expect(Set(globexUsers) == [ada, grace])
    }

    @Test func writingIntoAnotherTenantIsRefused() throws {
        let error = #expect(throws: PostgresError.self) {
            try db.inTenant(acme) {
                try $0.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')", [globex, ada])
            }
        }
        #expect(error?.sqlState == "42501", "new row violates row-level security policy")
        let moved = try db.inTenant(acme) { try $0.query("UPDATE memberships SET role = 'viewer' WHERE tenant_id = $1", [globex]).affected }
        #expect(moved == 0, "another tenant's rows cannot even be found to update")
    }

    @Test func aPersonSeesTheirOwnMembershipsAcrossTenants() throws {
        let tenants = try db.asUser(ada) { tx in
            try tx.query("SELECT tenant_id FROM memberships").map { try $0.require(0, as: UUID.self) }
        }
        #expect(Set(tenants) == [acme, globex])
    }

    @Test func staffReachAcrossTenantsOnlyWhenTheTransactionSaysSo() throws {
        #expect(try db.asStaff { try count($0) } == 3)
        #expect(try db.pool.transaction { try count($0) } == 0)
    }

    @Test func theTenantSettingDoesNotOutliveItsTransaction() throws {
        _ = try db.inTenant(acme) { try count($0) }
        #expect(try db.pool.withConnection { try count($0) } == 0)
    }

    @Test func theApplicationRoleCannotChangeTheSchemaOrTheRules() throws {
        let ddl = #expect(throws: PostgresError.self) { try db.pool.query("ALTER TABLE memberships DISABLE ROW LEVEL SECURITY") }
        #expect(ddl?.sqlState == "42501")
        let migrations = #expect(throws: PostgresError.self) { try db.pool.query("DELETE FROM schema_migrations") }
        #expect(migrations?.sqlState == "42501")
    }
}
