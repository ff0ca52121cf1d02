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
                try AuditLog.record(AuditEvent(tenant: acme, actorKind: .user, actorID: nil, action: "request.update",
                                               targetID: "ACME-\(n)"), in: tx)
            }
        }
    }

    func verdict(_ freshness: CheckpointFreshness) throws -> AuditVerdict {
        try db.asStaff { try AuditLog.verify(chain, keyring: keyring, freshness: freshness, in: $0) }
    }

    func verifyAudit(_ extra: [String: String] = [:]) throws -> CommandResult {
        var environment = ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url,
                           "PURSER_MASTER_KEY": TestEnvironment.masterKeyText]
        environment.merge(extra) { $1 }
        return try Subprocess.run(TestEnvironment.purserBinary.path, ["admin", "verify-audit"], environment: environment)
    }

    @Test func aStaleCheckpointFailsOnlyOnceEventsCameAfterIt() throws {
        let now = Date()
        try db.asStaff { try AuditCheckpoints.take(keyring: keyring, at: now.addingTimeInterval(-5 * 3600), in: $0) }
        let freshness = CheckpointFreshness(maxAge: 3 * 3600, now: now)
        #expect(try verdict(freshness) == .intact(events: 3, checkpoints: 1), "nothing happened since: nothing to sign")
        #expect(try verifyAudit().status == 0)

        try record(1)
        guard case .broken(let sequence, let reason) = try verdict(freshness) else {
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
        #expect(try verdict(freshness) == .intact(events: 4, checkpoints: 2))
    }

    @Test func theHourlyScheduleTakesCheckpoints() throws {
        let schedule = try #require(Schedules.standard.first { $0.kind == AuditCheckpointJob.kind })
        #expect(schedule.recurrence == .every(seconds: 3600))
        var configuration = Configuration(root: TestEnvironment.root)
        configuration.databaseURL = database.url
        configuration.masterKey = keyring
        var handlers = JobHandlers.standard
        AuditCheckpointJob.register(into: &handlers, keyring: keyring)
        let worker = try JobRunner.start(configuration: configuration, handlers: handlers, logger: quietLogger)
        defer { worker.stop() }
        let owner = try database.connect()
        #expect(try owner.query("SELECT count(*) FROM audit_checkpoints")[0].require(0, as: Int.self) == 0)

        // An hour on: the schedule is due and a worker runs its job.
        let jobs = Database(url: database.url, size: 1, worker: true)
        #expect(try Schedules.fireDue(jobs, now: Date().addingTimeInterval(3601)) >= 1)
        let taken = try waitUntil {
            try owner.query("SELECT count(*) FROM audit_checkpoint_sets")[0].require(0, as: Int.self) == 1
        }
        #expect(taken)
        let signed = try owner.query("SELECT sequence FROM audit_checkpoints WHERE chain = $1", [chain])
        #expect(try signed.map { try $0.require(0, as: Int64.self) } == [3])
        #expect(try verdict(CheckpointFreshness(maxAge: 3600, now: Date())) == .intact(events: 3, checkpoints: 1))
        #expect(try verifyAudit().status == 0)
    }
}
