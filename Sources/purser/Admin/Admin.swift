// `purser admin …`: operator tasks, one file per task.
import ArgumentParser

struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator tasks.",
        subcommands: [
            CreateTenant.self, CreateUser.self, CreateStaff.self, CreateToken.self, VerifyAudit.self,
            CheckpointAudit.self, ExportCheckpoints.self, PurgeAudit.self, SetAuditRetention.self, ResetLink.self,
            RotateMasterKey.self, InitSSHCA.self, AddProviderChannel.self, MeasureSSHSigning.self, MeasureQueue.self, EnqueueNoop.self,
        ])
}
