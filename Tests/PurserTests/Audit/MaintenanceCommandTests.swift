import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The operator's maintenance commands: retention that keeps the rest of a chain verifiable, reset
/// links, and re-sealing secrets under a new master key.
@Suite struct MaintenanceCommandTests {
    let binary = TestEnvironment.purserBinary.path

    func environment(_ database: TestDatabase, key: String = TestEnvironment.masterKeyText) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url,
            "PURSER_MASTER_KEY": key,
        ]
    }

    @Test func purgingOldEventsKeepsTheRestVerifiable() throws {
        let app = try TestApp()
        let people = try People(app)
        let owner = try app.database.connect()
        try app.app.database.inTenant(people.tenant) { tx in
            for n in 1...5 {
                try AuditLog.record(
                    AuditEvent(
                        tenant: people.tenant, actorKind: .system, actorID: nil, action: "request.update",
                        targetID: "ACME-\(n)", at: app.app.world.now), in: tx)
            }
        }
        // The tenant keeps 30 days; the first six events (the tenant, its four members, one update) are older.
        try owner.query("UPDATE tenants SET audit_retention_days = 30")
        try owner.query(
            """
            UPDATE audit_events SET occurred_at = $2::timestamptz - interval '40 days' WHERE tenant_id = $1 AND sequence <= 6
            """, [people.tenant, app.app.world.now])
        // Re-hash the back-dated rows as if they had been written then (the test's own time travel).
        try rehash(owner, chain: people.tenant.postgresText)
        let env = environment(app.database)
        #expect(try Subprocess.run(binary, ["admin", "checkpoint-audit"], environment: env).status == 0)
        let purged = try Subprocess.run(binary, ["admin", "purge-audit", "--tenant", "acme"], environment: env)
        #expect(purged.status == 0, "\(purged.output)")
        #expect(purged.output.contains("acme: kept 30 days, removed 6 events"))
        let verified = try Subprocess.run(binary, ["admin", "verify-audit", "--tenant", "acme"], environment: env)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("acme: intact (5 events"), "four updates left and the purge's own record")
        // Passing off a deletion of recent rows as retention is caught: the purge point is signed.
        try owner.query("DELETE FROM audit_events WHERE tenant_id = $1 AND sequence = 7", [people.tenant])
        try owner.query(
            """
            UPDATE audit_chains SET purged_through = 7, purged_hash = (SELECT previous_hash FROM audit_events
                WHERE tenant_id = $1 AND sequence = 8) WHERE tenant_id = $1
            """, [people.tenant])
        let forged = try Subprocess.run(binary, ["admin", "verify-audit", "--tenant", "acme"], environment: env)
        #expect(forged.status == 1)
        #expect(forged.output.contains("not signed"))
    }

    /// Recomputes the hash links of `chain` from its first row (test set-up only).
    func rehash(_ owner: Connection, chain: String) throws {
        var previous = AuditLog.genesis
        for row in try owner.query("SELECT sequence FROM audit_events WHERE chain = $1 ORDER BY sequence", [chain]) {
            let sequence = try row.require(0, as: Int64.self)
            previous = try owner.query(
                """
                UPDATE audit_events e SET previous_hash = $3, hash = sha256($3::bytea || \(AuditLog.canonical))
                WHERE chain = $1 AND sequence = $2 RETURNING hash
                """, [chain, sequence, previous])[0].require(0, as: Bytea.self)
        }
        try owner.query("UPDATE audit_chains SET last_hash = $2 WHERE chain = $1", [chain, previous])
    }

    @Test func aResetLinkFromTheCommandLineSetsANewPassword() throws {
        let app = try TestApp()
        _ = try People(app)
        let printed = try Subprocess.run(
            binary, ["admin", "reset-link", "--email", "viewer@acme.test"],
            environment: environment(app.database))
        #expect(printed.status == 0, "\(printed.output)")
        let path = try #require(WebVisitor.firstMatch(#"(/links/[A-Za-z0-9_-]{43})"#, in: printed.output))
        let browser = WebVisitor(app)
        #expect(
            try browser.post(
                path, [("new_password", "a brand new passphrase"), ("confirmation", "a brand new passphrase")],
                from: path
            ).status == 303)
        #expect(try WebVisitor(app).signIn("viewer@acme.test", "a brand new passphrase").status == 303)
        #expect(try WebVisitor(app).signIn("viewer@acme.test", People.password).status == 401)
        let unknown = try Subprocess.run(
            binary, ["admin", "reset-link", "--email", "nobody@acme.test"],
            environment: environment(app.database))
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("email: no active account"))
    }

    @Test func rotatingTheMasterKeyReSealsSecrets() throws {
        let app = try TestApp()
        let people = try People(app)
        let totp = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        #expect(try Subprocess.run(binary, ["admin", "checkpoint-audit"], environment: environment(app.database)).status == 0)
        let newKey = Keyring.generateText(id: "k2")
        let rotated = try Subprocess.run(
            binary, ["admin", "rotate-master-key"],
            environment: environment(app.database, key: newKey + "," + TestEnvironment.masterKeyText))
        #expect(rotated.status == 0, "\(rotated.output)")
        // Every checkpoint (the tenant's chain and the provider chain recording the run) and the checkpoint set.
        let signatures = try app.database.connect().query(
            """
            SELECT (SELECT count(*) FROM audit_checkpoints) + (SELECT count(*) FROM audit_checkpoint_sets)
            """)[0].require(0, as: Int.self)
        #expect(signatures == 3)
        #expect(rotated.output.contains("Re-sealed 1 secret(s) and re-signed \(signatures) audit signature(s) under key k2."))
        // The old key can go: every checkpoint verifies under the new one alone.
        let verified = try Subprocess.run(binary, ["admin", "verify-audit"], environment: environment(app.database, key: newKey))
        #expect(verified.status == 0, "\(verified.output)")
        let stored = try app.database.connect().query("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL")[0]
            .require(0, as: String.self)
        #expect(stored.hasPrefix("k2."))
        let user = people.id("tenant_admin@acme.test")
        let opened = try SealedColumn.secondFactor.open(stored, row: user, keyring: Keyring(parsing: newKey))
        #expect(opened == totp.secret)
    }
}
