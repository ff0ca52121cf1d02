// The `audit.checkpoint` job, run hourly by the schedule of the same name: signs every chain whose
// head moved and a checkpoint set, so that verify-audit's age limit has something to hold to.
import Foundation
import Postgres

public enum AuditCheckpointJob {
    public static let kind = "audit.checkpoint"

    /// Registers the job's handler. It needs the master key, so `purser work` registers it with the
    /// keyring from its configuration. Running a job twice only signs one more set.
    public static func register(into handlers: inout JobHandlers, keyring: Keyring) {
        handlers.register(kind) { (context: JobContext) throws -> Void in
            // Staff: the run reads every tenant's chain head.
            let _: AuditCheckpoints.Run = try context.database.asStaff { tx in
                try AuditCheckpoints.take(keyring: keyring, at: context.world.now, in: tx)
            }
        }
    }
}
