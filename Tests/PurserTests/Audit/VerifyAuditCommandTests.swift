import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// `purser admin verify-audit` as an operator runs it: exit 0 while the chain holds, non-zero
/// naming the first broken row after someone edits the database directly.
@Suite struct VerifyAuditCommandTests {
    @Test func verifyPassesThenFailsAfterADirectEdit() throws {
        let database = try TestDatabase()
        let key = Keyring.generateText()
        let db = Database(url: database.url, size: 2)
        let acme = UUID.v7()
        let owner = try database.connect()
        try owner.query("INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [acme])
        for n in 1...3 {
            try db.inTenant(acme) { tx in
                try AuditLog.record(
                    AuditEvent(
                        tenant: acme, actorKind: .user, actorID: nil, action: "request.update",
                        targetID: "ACME-\(n)", at: Date()), in: tx)
            }
        }
        let environment = [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path,
            "DATABASE_URL": database.url, "PURSER_MASTER_KEY": key,
        ]
        let binary = TestEnvironment.purserBinary.path
        let signed = try Subprocess.run(binary, ["admin", "checkpoint-audit"], environment: environment)
        #expect(signed.status == 0, "\(signed.output)")
        #expect(signed.output.contains("acme: signed at row 3"))
        let intact = try Subprocess.run(binary, ["admin", "verify-audit"], environment: environment)
        #expect(intact.status == 0, "\(intact.output)")
        #expect(intact.output.contains("acme: intact (3 events, 1 signed checkpoints)"))

        try owner.query("UPDATE audit_events SET target_id = 'ACME-99' WHERE tenant_id = $1 AND sequence = 2", [acme])
        let broken = try Subprocess.run(binary, ["admin", "verify-audit", "--tenant", "acme"], environment: environment)
        #expect(broken.status == 1)
        #expect(broken.output.contains("acme: BROKEN at row 2"))

        var keyless = environment
        keyless["PURSER_MASTER_KEY"] = nil
        #expect(try Subprocess.run(binary, ["admin", "verify-audit"], environment: keyless).status == 2)
        #expect(try Subprocess.run(binary, ["admin", "verify-audit", "--tenant", "nobody"], environment: environment).status == 2)
    }
}
