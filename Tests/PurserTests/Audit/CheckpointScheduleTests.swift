import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Checkpoints are taken by the hourly `audit.checkpoint` schedule, so a chain whose newest
/// checkpoint is older than PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS while events came after it is
/// reported: rows that old should have been signed by now. A quiet chain stays intact however old
/// its checkpoint.
@Suite struct CheckpointScheduleTests {
    let database: TestDatabase
    let db: Database
    let acme = UUID.v7()
    let keyring = TestEnvironment.keyring
    var chain: String { AuditLog.chain(for: acme) }

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 2)
        try database.connect().query(
            "INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')", [acme])
        try record(3)
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

    /// The chain's verdict, the newest checkpoint set read as verify-audit reads it (once, first).
    func verdict(maxAge: TimeInterval, now: Date) throws -> AuditVerdict {
        try db.asStaff { tx in
            let freshness = try CheckpointFreshness(maxAge: maxAge, now: now, keyring: keyring, in: tx)
            return try AuditLog.verify(chain, keyring: keyring, freshness: freshness, in: tx)
        }
    }

    func verifyAudit(_ extra: [String: String] = [:]) throws -> CommandResult {
        var environment = [
            "PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url,
            "PURSER_MASTER_KEY": TestEnvironment.masterKeyText,
        ]
        environment.merge(extra) { $1 }
        return try Subprocess.run(TestEnvironment.purserBinary.path, ["admin", "verify-audit"], environment: environment)
    }

    @Test func aStaleCheckpointFailsOnlyOnceEventsCameAfterIt() throws {
        let now = Date()
        try db.asStaff { try AuditCheckpoints.take(keyring: keyring, at: now.addingTimeInterval(-5 * 3600), in: $0) }
        func verdictNow() throws -> AuditVerdict { try verdict(maxAge: 3 * 3600, now: now) }
        #expect(try verdictNow() == .intact(events: 3, checkpoints: 1), "nothing happened since: nothing to sign")
        #expect(try verifyAudit().status == 0)

        try record(1)
        guard case .broken(let sequence, let reason) = try verdictNow() else {
            Issue.record("row 4 has waited five hours for a checkpoint unnoticed")
            return
        }
        #expect(sequence == 4)
        #expect(reason.contains("3 hours"), "\(reason)")
        let stale = try verifyAudit()
        #expect(stale.status == 1, "\(stale.output)")
        #expect(stale.output.contains("acme: BROKEN at row 4"), "\(stale.output)")
        #expect(try verifyAudit(["PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS": "6"]).status == 0, "the age is a setting")
        #expect(try verifyAudit(["PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS": "soon"]).status == 2)

        try db.asStaff { try AuditCheckpoints.take(keyring: keyring, at: now, in: $0) }
        #expect(try verdictNow() == .intact(events: 4, checkpoints: 2))
    }

    /// A checkpoint written before migration 0015 (format 1) does not sign its `taken_at`: setting
    /// it to the future must not turn the age rule off for the rows after it.
    @Test func anUnsignedCheckpointTimeDoesNotPostponeTheAgeRule() throws {
        let owner = try database.connect()
        let head = try owner.query("SELECT last_sequence, last_hash FROM audit_chains WHERE chain = $1", [chain])[0]
        let sequence = try head.require(0, as: Int64.self)
        let hash = try head.require(1, as: Bytea.self)
        let future = Date().addingTimeInterval(10 * 365 * 86400)
        var legacy = AuditCheckpoint(
            format: 1, chain: chain, number: 1, sequence: sequence, hash: hash, previousDigest: nil,
            takenAtMicros: AuditCheckpoint.micros(future), keyID: "", tag: Bytea([]))
        let (keyID, tag) = keyring.authenticate(legacy.message)
        legacy.keyID = keyID
        legacy.tag = Bytea(tag)
        try legacy.insert(in: owner)
        let later = Date().addingTimeInterval(5 * 3600)
        #expect(try verdict(maxAge: 3 * 3600, now: later) == .intact(events: 3, checkpoints: 1), "nothing after it to sign")

        try record(1)
        guard case .broken(let row, let reason) = try verdict(maxAge: 3 * 3600, now: later) else {
            Issue.record("row 4 waited five hours, yet the checkpoint's unsigned future time hid it")
            return
        }
        #expect(row == 4)
        #expect(reason.contains("3 hours"), "\(reason)")
    }

    @Test func theHourlyScheduleTakesCheckpoints() throws {
        let schedule = try #require(Schedules.standard.first { $0.kind == AuditCheckpointJob.kind })
        #expect(schedule.recurrence == .every(seconds: 3600))
        var configuration = Configuration(root: TestEnvironment.root)
        configuration.databaseURL = database.url
        configuration.masterKey = keyring
        var handlers = JobHandlers.standard
        AuditCheckpointJob.register(into: &handlers, keyring: keyring)
        let clock = SettableClock(Date())
        let worker = try JobRunner.start(
            configuration: configuration, world: World(clock: clock), handlers: handlers,
            logger: quietLogger)
        defer { worker.stop() }
        let owner = try database.connect()
        #expect(try owner.query("SELECT count(*) FROM audit_checkpoints")[0].require(0, as: Int.self) == 0)

        // An hour on: the schedule is due, and the worker fires it and runs its job.
        clock.advance(by: 3601)
        let taken = try waitUntil(5) {
            try owner.query("SELECT count(*) FROM audit_checkpoint_sets")[0].require(0, as: Int.self) == 1
        }
        #expect(taken)
        let signed = try owner.query("SELECT sequence, taken_at FROM audit_checkpoints WHERE chain = $1", [chain])
        #expect(try signed.map { try $0.require(0, as: Int64.self) } == [3])
        let takenAt = try signed[0].require(1, as: Date.self)
        #expect(abs(takenAt.timeIntervalSince(clock.now)) < 0.001, "taken at the worker's time: \(takenAt)")
        #expect(try verdict(maxAge: 3600, now: clock.now) == .intact(events: 3, checkpoints: 1))
        #expect(try verifyAudit().status == 0)
    }
}
