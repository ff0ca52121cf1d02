import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Purser behind PgBouncer in transaction mode (`PURSER_POOL_MODE=transaction`): every path a
/// statement can take (pool.query, withConnection, transactions, tenant, staff, person, worker) runs
/// as purser_app with its settings and under row-level security, and nothing is left on the server
/// session between transactions: no named prepared statement, no role, no setting. The pooler gets
/// one server connection per database, so the session the checks inspect is the one all work ran on.
@Suite(.enabled(if: TestEnvironment.scaleRun)) struct PoolerScaleTests {
    let pooler: PgBouncerPeer
    let database: TestDatabase
    let acme = UUID.v7()
    let globex = UUID.v7()
    let ada = UUID.v7()

    init() throws {
        pooler = try PgBouncerPeer(poolSize: 1)
        database = try TestDatabase()
    }

    func pooled(size: Int = 3, worker: Bool = false) -> Database {
        Database(url: pooler.url(for: database), size: size, worker: worker, mode: .transaction)
    }

    /// What the server session behind the pooler holds when nothing of Purser's sets it up.
    func leftOnTheSession() throws -> (user: String, notices: String, prepared: Int) {
        let bare = try Connection(url: pooler.url(for: database), mode: .transaction)
        let row = try bare.query(
            "SELECT current_user::text, coalesce(current_setting('purser.local_notices', true), ''), (SELECT count(*) FROM pg_prepared_statements)"
        )[0]
        return (try row.require(0), try row.require(1), try row.require(2))
    }

    @Test func everyPathRunsAsTheApplicationRoleUnderRowLevelSecurity() throws {
        let db = pooled()
        try db.pool.transaction { tx in
            for (id, slug) in [(acme, "acme"), (globex, "globex")] {
                try tx.query(
                    "INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, $2, $3, $2, 'standard')", [id, slug, slug.uppercased()])
            }
            try tx.query("INSERT INTO users (id, email, name) VALUES ($1, 'ada@acme.test', 'Ada')", [ada])
        }
        for tenant in [acme, globex] {
            try db.inTenant(tenant) {
                try $0.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')", [tenant, ada])
            }
        }
        let probe = """
            SELECT current_user::text, current_setting('purser.local_notices', true), current_setting('IntervalStyle'),
                   current_setting('TimeZone'), (SELECT count(*) FROM memberships)
            """
        func seen(_ rows: Rows) throws -> [String] {
            let row = rows[0]
            return [
                try row.require(0), try row.require(1), try row.require(2), try row.require(3), String(try row.require(4, as: Int.self)),
            ]
        }
        // The login role (a superuser) would see both memberships: each path sees what its role and tenant allow.
        #expect(try seen(db.pool.query(probe)) == ["purser_app", "on", "iso_8601", "UTC", "0"])
        #expect(try seen(db.pool.withConnection { try $0.query(probe) }) == ["purser_app", "on", "iso_8601", "UTC", "0"])
        #expect(try seen(db.pool.transaction { try $0.query(probe) }) == ["purser_app", "on", "iso_8601", "UTC", "0"])
        #expect(try seen(db.inTenant(acme) { try $0.query(probe) }) == ["purser_app", "on", "iso_8601", "UTC", "1"])
        #expect(try seen(db.asUser(ada) { try $0.query(probe) }) == ["purser_app", "on", "iso_8601", "UTC", "2"])
        #expect(try seen(db.asStaff { try $0.query(probe) }) == ["purser_staff", "on", "iso_8601", "UTC", "2"])
        let worker = pooled(size: 1, worker: true)
        #expect(
            try worker.pool.query("SELECT current_user::text, current_setting('purser.worker', true)")[0].require(1, as: String.self)
                == "on")
        // A write outside a tenant is refused as it is directly (the policy, not the pooler, decides).
        #expect(throws: PostgresError.self) {
            try db.pool.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')", [acme, ada])
        }

        let left = try leftOnTheSession()
        #expect(left.user == "purser", "the role was set per transaction, not on the server session")
        #expect(left.notices == "", "settings were set per transaction")
        #expect(left.prepared == 0, "no named prepared statement was made on the server session")
        let sessions = try database.connect().query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")[0].require(
                0, as: Int.self)
        #expect(sessions == 1, "all of the above ran on the one server session checked")
    }

    @Test func theAppServesThroughThePoolerWithNothingLeftOnTheSession() throws {
        let app = try TestApp(database: database, databaseURL: pooler.url(for: database)) { configuration in
            configuration.poolMode = .transaction
            configuration.databaseDirectURL = database.url
        }
        let people = try People(app)
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t", scopes: [.requestsRead, .requestsWrite],
            lifetime: 3600, actor: .system
        ).token
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        let filed = try app.send(
            "POST", "/api/v1/requests", headers: headers,
            body: Array(#"{"subject": "Pooled", "description": "through PgBouncer", "type": "question", "priority": "P3"}"#.utf8))
        #expect(filed.status == 201)
        let listed = try app.get("/api/v1/requests", headers: headers)
        #expect(listed.status == 200)
        #expect(String(decoding: listed.body, as: UTF8.self).contains("Pooled"))
        let visitor = try people.signedIn("requester@acme.test", in: app)
        #expect(try visitor.get("/t/acme/requests").status == 200)
        #expect(try app.get("/readyz").status == 200)

        let left = try leftOnTheSession()
        #expect(left.user == "purser")
        #expect(left.notices == "")
        #expect(left.prepared == 0)
    }

    @Test func theCheckSeesANamedStatementWhenOneIsMade() throws {
        // Session mode through the same pooler prepares by name: the check above would catch it.
        let session = try Connection(url: pooler.url(for: database), mode: .session)
        try session.query("SELECT 1")
        #expect(try leftOnTheSession().prepared == 1)
    }
}
