// What access tells people, through the outbox in the change's own transaction: approvers hear of
// an access request (access.requested), the requester of its decision (access.granted,
// access.denied), the grant's holder of its end (access.revoked, access.expired), and the tenant's
// channels of whatever they subscribe to. Break-glass goes to the subscribed channels and, as mail
// they must get, to every tenant admin.
import Foundation
import Postgres

public struct AccessNotices: Sendable {
    /// Purser's public address, for the links back to the access page.
    let publicURL: String

    public init(publicURL: String) { self.publicURL = publicURL }

    func link(_ tx: Connection, tenant: UUID, request: UUID) throws -> String {
        let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
        return SiteURL.accessRequest(slug, id: request).absolute(on: publicURL)
    }

    /// The people who may decide: the tenant's members in the policy's approver roles, and the
    /// provider's admins when the provider's side owes approvals; never the requester.
    static func approvers(_ tx: Connection, tenant: UUID, policy: AccessPolicy, needs: ApprovalNeeds, requester: UUID) throws -> [UUID] {
        try tx.query(
            """
            SELECT m.user_id FROM memberships m WHERE m.tenant_id = $1 AND m.status = 'active' AND m.role = ANY($2::text[])
              AND m.user_id <> $3 AND $4
            UNION SELECT u.id FROM users u WHERE u.staff_role = 'provider_admin' AND u.status = 'active' AND u.id <> $3 AND $5
            """,
            [
                tenant, policy.approverRoles.filter { CustomerRole(rawValue: $0)?.permissions.contains(.accessApprove) == true }.sorted(),
                requester, needs.customer > 0, needs.provider > 0,
            ]
        ).map { try $0.require(0) }
    }

    func requested(
        _ request: AccessRequestRecord, tenant: UUID, policy: AccessPolicy, needs: ApprovalNeeds, at now: Date, in tx: Connection
    ) throws {
        let people = try Self.approvers(tx, tenant: tenant, policy: policy, needs: needs, requester: request.requesterID)
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: "access.requested", subject: "\(request.requesterName) asks for \(request.target)",
                text: "For \(AccessRules.words(request.durationSeconds)): \(String(request.reason.prefix(1000)))",
                url: try link(tx, tenant: tenant, request: request.id), severity: .warning,
                dedupKey: "access-ask-" + request.id.postgresText),
            people: people, at: now)
    }

    /// A decision or an end, told to the person it concerns and the subscribed channels.
    func told(
        _ event: String, subject: String, text: String, request: UUID, person: UUID, tenant: UUID, at now: Date, in tx: Connection
    ) throws {
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: event, subject: subject, text: text, url: try link(tx, tenant: tenant, request: request),
                dedupKey: event + "-" + request.postgresText),
            people: [person], at: now)
    }

    /// Break-glass: the subscribed channels, and mail every tenant admin gets whatever they chose.
    func brokeGlass(_ request: AccessRequestRecord, tenant: UUID, review: String, at now: Date, in tx: Connection) throws {
        let message = NotificationMessage(
            event: "access.break_glass", subject: "Break-glass: \(request.requesterName) took \(request.target)",
            text: "For \(AccessRules.words(request.durationSeconds)), without approval: \(String(request.reason.prefix(1000))). "
                + "Review it in \(review).",
            url: try link(tx, tenant: tenant, request: request.id), severity: .critical,
            dedupKey: "access-break-glass-" + request.id.postgresText)
        try Outbox.notify(tx, tenant: tenant, message: message, at: now)
        let admins = try tx.query(
            """
            SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.tenant_id = $1 AND m.role = 'tenant_admin' AND m.status = 'active' AND u.status = 'active'
            """, [tenant]
        ).map { try $0.require(0, as: String.self) }
        for address in admins { try Outbox.email(tx, tenant: tenant, to: address, message: message, at: now) }
    }
}
