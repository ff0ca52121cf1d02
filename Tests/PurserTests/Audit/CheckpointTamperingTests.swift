import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Someone with database access but not the master key rewrites a chain and then removes what
/// would give it away — the chain's checkpoints, the chain's row, one checkpoint in the middle, or
/// every checkpoint there is. `purser admin verify-audit` (with `--against` an exported copy, for
/// the last) still reports the chain as broken.
@Suite struct CheckpointTamperingTests {
    let database: TestDatabase
    let db: Database
    let owner: Connection
    let acme = UUID.v7()
    let binary = TestEnvironment.purserBinary.path
    var chain: String { AuditLog.chain(for: acme) }

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 2)
        owner = try database.connect()
        try owner.query("INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [acme])
        try record(3)
    }

    var environment: [String: String] {
        [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url,
            "PURSER_MASTER_KEY": TestEnvironment.masterKeyText,
        ]
    }

    func record(_ count: Int) throws {
        for n in 1...count {
            try db.inTenant(acme) { tx in
                try AuditLog.record(
                    AuditEvent(
                        tenant: acme, actorKind: .user, actorID: nil, action: "request.update",
                        targetID: "ACME-\(n)", at: Date()), in: tx)
            }
        }
    }

    func run(_ arguments: [String]) throws -> CommandResult {
        try Subprocess.run(binary, ["admin"] + arguments, environment: environment)
    }

    func checkpoint() throws {
        let signed = try run(["checkpoint-audit"])
        #expect(signed.status == 0, "\(signed.output)")
    }

    @Test func deletingAChainsCheckpointsIsFound() throws {
        try checkpoint()
        #expect(try run(["verify-audit"]).status == 0)
        try AuditTampering.rewrite(owner, chain: chain, sequence: 2)
        try owner.query("DELETE FROM audit_checkpoints WHERE chain = $1", [chain])
        let verified = try run(["verify-audit"])
        #expect(verified.status == 1, "\(verified.output)")
        #expect(verified.output.contains("acme"), "\(verified.output)")
    }

    /// Every set removed, then a chain's checkpoints, and the chain rewritten with recent times (so
    /// the age rule has nothing to say): the other chains' checkpoints, which no set lists now,
    /// give it away.
    @Test func deletingEveryCheckpointSetIsFound() throws {
        try checkpoint()
        try record(1)
        try checkpoint()
        #expect(try run(["verify-audit"]).status == 0)
        try owner.query("DELETE FROM audit_checkpoint_sets")
        try owner.query("DELETE FROM audit_checkpoints WHERE chain = $1", [chain])
        try owner.query("UPDATE audit_events SET occurred_at = now() WHERE chain = $1", [chain])
        try AuditTampering.rewrite(owner, chain: chain, sequence: 2)
        let verified = try run(["verify-audit"])
        #expect(verified.status == 1, "\(verified.output)")
        #expect(
            verified.output.contains("checkpoint sets: BROKEN: there is no checkpoint set, yet 2 checkpoints of format 2 are"),
            "\(verified.output)")
    }

    /// The newest set removed: the checkpoints its run took are listed in no set.
    @Test func aCheckpointNoSetListsIsFound() throws {
        try checkpoint()
        try record(1)
        try checkpoint()
        try owner.query("DELETE FROM audit_checkpoint_sets WHERE number = 2")
        let verified = try run(["verify-audit"])
        #expect(verified.status == 1, "\(verified.output)")
        #expect(verified.output.contains("acme: BROKEN: checkpoint 2 is listed in no checkpoint set"), "\(verified.output)")
    }

    @Test func deletingAChainsRowIsFound() throws {
        try checkpoint()
        try owner.query("DELETE FROM audit_chains WHERE chain = $1", [chain])
        let verified = try run(["verify-audit"])
        #expect(verified.status == 1, "\(verified.output)")
        #expect(verified.output.contains(chain), "the missing chain is named: \(verified.output)")
    }

    @Test func aCheckpointMissingFromTheMiddleIsAGap() throws {
        try checkpoint()
        try record(1)
        try checkpoint()
        try record(1)
        try checkpoint()
        #expect(try run(["verify-audit"]).status == 0)
        try owner.query(
            """
            DELETE FROM audit_checkpoints WHERE chain = $1
              AND sequence = (SELECT sequence FROM audit_checkpoints WHERE chain = $1 ORDER BY sequence OFFSET 1 LIMIT 1)
            """, [chain])
        let verified = try run(["verify-audit", "--tenant", "acme"])
        #expect(verified.status == 1, "\(verified.output)")
        #expect(verified.output.contains("checkpoint 2 is missing"), "\(verified.output)")
    }

    @Test func anExportedCopyCatchesEverythingRemovedFromTheDatabase() throws {
        try checkpoint()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let exported = try run(["export-checkpoints", "--output", file.path])
        #expect(exported.status == 0, "\(exported.output)")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains(#""type":"checkpoint""#) && $0.contains(chain) })
        let untouched = try run(["verify-audit", "--against", file.path])
        #expect(untouched.status == 0, "\(untouched.output)")
        // More events and checkpoints since the export are fine: the file is older, not different.
        try record(2)
        try checkpoint()
        #expect(try run(["verify-audit", "--against", file.path]).status == 0)

        // Everything signed is removed and the chain rewritten under the exported head.
        try AuditTampering.rewrite(owner, chain: chain, sequence: 1)
        try owner.query("DELETE FROM audit_checkpoints")
        try owner.query("DELETE FROM audit_checkpoint_sets")
        let inside = try run(["verify-audit"])
        #expect(inside.status == 0, "with every signature gone, the database alone cannot tell: \(inside.output)")
        let against = try run(["verify-audit", "--against", file.path])
        #expect(against.status == 1, "\(against.output)")
        #expect(against.output.contains("acme"), "\(against.output)")
        #expect(against.output.contains("exported"), "\(against.output)")
    }

    @Test func anExportedCheckpointThatDiffersFromTheDatabaseFails() throws {
        try checkpoint()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let exported = try run(["export-checkpoints"])
        #expect(exported.status == 0)
        // The copy says row 3 had another hash than the database's checkpoint says, and its digest
        // is recomputed over that, so the line holds together: only the database can tell.
        let hash = try owner.query("SELECT hash FROM audit_checkpoints WHERE chain = $1 AND sequence = 3", [chain])[0]
            .require(0, as: Bytea.self)
        let other = Bytea(hash.bytes.map { $0 ^ 0xFF })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var changed = 0
        let lines = try exported.output.split(separator: "\n").map { line -> String in
            var record = try JSONDecoder().decode(AuditCheckpointExport.Record.self, from: Data(line.utf8))
            guard record.chain == chain, record.sequence == 3 else { return String(line) }
            record.hash = hex(other)
            record.digest = hex(try #require(record.checkpoint).digest)
            changed += 1
            return String(decoding: try encoder.encode(record), as: UTF8.self)
        }
        #expect(changed == 1)
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        #expect(try run(["verify-audit"]).status == 0, "the database itself is untouched")
        let against = try run(["verify-audit", "--against", file.path])
        #expect(against.status == 1, "\(against.output)")
        #expect(against.output.contains("acme: BROKEN: checkpoint 1 differs from the exported copy"), "\(against.output)")
        #expect(!against.output.contains("digest matches its fields"), "the line is self-consistent: \(against.output)")
    }

    func hex(_ value: Bytea) -> String { String(value.postgresText.dropFirst(2)) }
}
