import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct AuditLogTests {
    let database: TestDatabase
    let db: Database
    let owner: Connection
    let keyring: Keyring
    let acme = UUID.v7()
    let clock = SettableClock(Date())

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 4)
        owner = try database.connect()
        keyring = try Keyring(parsing: Keyring.generateText())
        try owner.query("INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [acme])
    }

    func event(_ action: String, _ n: Int = 0) throws -> AuditEvent {
        AuditEvent(
            tenant: acme, actorKind: .user, actorID: UUID.v7(), action: action, targetType: "request",
            targetID: "ACME-\(n)", reason: "line one\nline | two", requestID: "req-\(n)", address: "203.0.113.9",
            userAgent: "test", before: JSONText(#"{"b": 1, "a": [1, 2.50]}"#), after: JSONText(#"{"state":"open"}"#),
            at: clock.now)
    }

    func verdict() throws -> AuditVerdict {
        try AuditLog.verify(AuditLog.chain(for: acme), keyring: keyring, in: owner)
    }

    @Test func aWrittenChainVerifies() throws {
        for n in 1...5 { try db.inTenant(acme) { try AuditLog.record(try event("request.update", n), in: $0) } }
        try db.asStaff { try AuditCheckpoints.take(keyring: keyring, at: clock.now, in: $0) }
        #expect(try verdict() == .intact(events: 5, checkpoints: 1))
    }

    @Test func anEventHappensAtTheTimeItCarries() throws {
        let noon = try #require(RFC3339.date("2026-11-23T12:00:00.123456Z"))
        var stamped = try event("request.update")
        stamped.occurredAt = noon
        try db.inTenant(acme) { try AuditLog.record(stamped, in: $0) }
        let occurredAt = try owner.query("SELECT occurred_at FROM audit_events WHERE chain = $1", [AuditLog.chain(for: acme)])[0]
            .require(0, as: Date.self)
        #expect(abs(occurredAt.timeIntervalSince(noon)) < 0.000_001)
        #expect(try verdict() == .intact(events: 1, checkpoints: 0))
    }

    @Test func eventsRollBackWithTheChangeTheyRecord() throws {
        struct Abort: Error {}
        try? db.inTenant(acme) { tx in
            try AuditLog.record(try event("request.update"), in: tx)
            throw Abort()
        }
        try db.inTenant(acme) { try AuditLog.record(try event("request.update"), in: $0) }
        #expect(try verdict() == .intact(events: 1, checkpoints: 0))
    }

    @Test func concurrentWritersKeepOneUnbrokenChain() throws {
        let group = DispatchGroup()
        for n in 0..<20 {
            group.enter()
            Thread.detachNewThread {
                _ = try? db.inTenant(acme) { try AuditLog.record(try event("request.comment", n), in: $0) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(try verdict() == .intact(events: 20, checkpoints: 0))
    }

    @Test func anEditedRowIsFoundByNumber() throws {
        for n in 1...4 { try db.inTenant(acme) { try AuditLog.record(try event("request.update", n), in: $0) } }
        try owner.query(
            "UPDATE audit_events SET reason = 'nothing to see' WHERE chain = $1 AND sequence = 3",
            [AuditLog.chain(for: acme)])
        #expect(try verdict() == .broken(sequence: 3, reason: "row 3 was changed after it was written"))
    }

    @Test func aRemovedRowIsFound() throws {
        for n in 1...4 { try db.inTenant(acme) { try AuditLog.record(try event("request.update", n), in: $0) } }
        try owner.query("DELETE FROM audit_events WHERE chain = $1 AND sequence = 2", [AuditLog.chain(for: acme)])
        guard case .broken(let sequence, _) = try verdict() else { Issue.record("a deletion went unnoticed"); return }
        #expect(sequence == 2)
    }

    @Test func rewrittenHistoryWithRecomputedHashesFailsTheSignedCheckpoint() throws {
        let chain = AuditLog.chain(for: acme)
        for n in 1...3 { try db.inTenant(acme) { try AuditLog.record(try event("request.update", n), in: $0) } }
        try db.asStaff { try AuditCheckpoints.take(keyring: keyring, at: clock.now, in: $0) }
        // Someone with database access edits row 2 and recomputes every hash after it, head included.
        try owner.query("UPDATE audit_events SET reason = 'rewritten' WHERE chain = $1 AND sequence = 2", [chain])
        for sequence in 2...3 {
            try owner.query(
                """
                UPDATE audit_events e SET
                    previous_hash = coalesce((SELECT hash FROM audit_events p WHERE p.chain = e.chain AND p.sequence = e.sequence - 1), previous_hash)
                WHERE chain = $1 AND sequence = $2
                """, [chain, sequence])
            try owner.query(
                "UPDATE audit_events e SET hash = sha256(e.previous_hash || \(AuditLog.canonical)) WHERE chain = $1 AND sequence = $2",
                [chain, sequence])
        }
        try owner.query(
            "UPDATE audit_chains SET last_hash = (SELECT hash FROM audit_events WHERE chain = $1 AND sequence = 3) WHERE chain = $1",
            [chain])
        #expect(try verdict() == .broken(sequence: 3, reason: "row 3 differs from the signed checkpoint (history was rewritten)"))
    }

    @Test func theApplicationCannotEditOrDeleteEvents() throws {
        try db.inTenant(acme) { try AuditLog.record(try event("request.update"), in: $0) }
        for statement in ["UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"] {
            let error = #expect(throws: PostgresError.self) { try db.inTenant(acme) { try $0.query(statement) } }
            #expect(error?.sqlState == "42501")
        }
    }

    @Test func eventsWithoutATenantFormTheProviderChain() throws {
        try db.pool.transaction { tx in
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actorKind: .system, actorID: nil, action: "session.sign_in_failed",
                    reason: "unknown email", at: clock.now), in: tx)
        }
        #expect(try AuditLog.verify(AuditLog.providerChain, keyring: keyring, in: owner) == .intact(events: 1, checkpoints: 0))
        #expect(try db.inTenant(acme) { try $0.query("SELECT count(*) FROM audit_events")[0].require(0, as: Int.self) } == 0)
    }
}
