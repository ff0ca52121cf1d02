// What a deployment tells people, through the outbox in the change's own transaction: the approvers
// the environment's policy counts (not the requester) and the tenant's channels subscribed to
// deployment.approval_needed hear that it waits for them. The mail's link opens the approval page,
// which only shows a confirmation: a GET never decides (mail scanners follow links).
import Foundation
import Postgres

struct DeploymentNotices: Sendable {
    let publicURL: String

    func approvalNeeded(_ tx: Connection, _ deployment: Deployment, policy: ApprovalPolicy, at now: Date) throws {
        let people = try tx.query(
            """
            SELECT user_id FROM memberships
            WHERE tenant_id = $1 AND status = 'active' AND role = ANY($2::text[]) AND user_id <> $3
            """, [deployment.tenant, policy.countedRoles.map(\.rawValue), deployment.requester.id]
        ).map { try $0.require(0, as: UUID.self) }
        try Outbox.notify(
            tx, tenant: deployment.tenant,
            message: NotificationMessage(
                event: "deployment.approval_needed",
                subject: "Approve \(deployment.modelName) \(deployment.version) to \(deployment.environment.name)?",
                text: """
                    \(deployment.requester.name) asks to deploy \(deployment.modelName) \(deployment.version) to \
                    \(deployment.environment.name) on \(deployment.target.name) (\(deployment.strategy), steps \
                    \(deployment.steps.map { "\($0) %" }.joined(separator: " → "))). It needs \(policy.requiredApprovals) \
                    approval\(policy.requiredApprovals == 1 ? "" : "s") from \(policy.countedRoles.map(\.rawValue).joined(separator: " or ")). \
                    Open the link to review it; approving asks for your second factor.
                    """,
                url: SiteURL.deploymentApproval(deployment.tenantSlug, id: deployment.id).absolute(on: publicURL),
                dedupKey: "deployment-approval:" + deployment.id.postgresText),
            people: people, at: now)
    }
}
