// Access requests, their decisions and grants as the pages and the API show them, and how each
// is read from its row.
import Foundation
import Postgres

public struct AccessRequestRecord: Sendable {
    public let id: UUID
    public let policyID: UUID
    public let policyName: String
    public let requesterID: UUID
    public let requesterName: String
    public let kind: AccessKind
    public let role: String?
    public let hostName: String?
    public let principal: String?
    public let reason: String
    public let durationSeconds: Int
    public let requestedStart: Date?
    public let linkedRequestID: UUID?
    public let extendsGrantID: UUID?
    public let breakGlass: Bool
    public let state: AccessRequestState
    public let lapseAt: Date
    public let decidedAt: Date?
    public let createdAt: Date

    /// What is asked for, in a few words.
    public var target: String {
        switch kind {
        case .ssh: "SSH \(principal ?? hostName ?? "")"
        case .role: "role \(role ?? "")"
        }
    }

    static let columns = """
        r.id, r.policy_id, p.name, r.requester_id, u.name, r.kind, r.role, r.host_name, r.principal, r.reason, r.duration_seconds,
        r.requested_start, r.linked_request_id, r.extends_grant_id, r.break_glass, r.state, r.lapse_at, r.decided_at, r.created_at
        """
    static let joins = """
        access_requests r JOIN access_policies p ON p.tenant_id = r.tenant_id AND p.id = r.policy_id JOIN users u ON u.id = r.requester_id
        """

    static func decode(_ row: Row) throws -> AccessRequestRecord {
        AccessRequestRecord(
            id: try row.require(0), policyID: try row.require(1), policyName: try row.require(2), requesterID: try row.require(3),
            requesterName: try row.require(4), kind: AccessKind(rawValue: try row.require(5)) ?? .role, role: try row.decode(6),
            hostName: try row.decode(7), principal: try row.decode(8), reason: try row.require(9), durationSeconds: try row.require(10),
            requestedStart: try row.decode(11), linkedRequestID: try row.decode(12), extendsGrantID: try row.decode(13),
            breakGlass: try row.require(14), state: AccessRequestState(rawValue: try row.require(15)) ?? .pending,
            lapseAt: try row.require(16), decidedAt: try row.decode(17), createdAt: try row.require(18))
    }
}

public struct AccessApprovalRecord: Sendable {
    public let approverID: UUID
    public let approverName: String
    public let side: ApprovalSide
    public let approve: Bool
    public let reason: String
    public let at: Date

    var decision: AccessDecision { AccessDecision(approver: approverID, side: side, approve: approve) }

    static func load(request: UUID, in tx: Connection) throws -> [AccessApprovalRecord] {
        try tx.query(
            """
            SELECT a.approver_id, u.name, a.side, a.decision, a.reason, a.created_at FROM access_approvals a
            JOIN users u ON u.id = a.approver_id WHERE a.request_id = $1 ORDER BY a.created_at
            """, [request]
        ).map { row in
            AccessApprovalRecord(
                approverID: try row.require(0), approverName: try row.require(1),
                side: ApprovalSide(rawValue: try row.require(2)) ?? .customer, approve: try row.require(3) == "approve",
                reason: try row.require(4), at: try row.require(5))
        }
    }
}

public struct AccessGrantRecord: Sendable {
    public let id: UUID
    public let tenant: UUID
    public let requestID: UUID
    public let userID: UUID
    public let userName: String
    public let kind: AccessKind
    public let role: String?
    public let hostName: String?
    public let principal: String?
    public let publicKey: String?
    public let startsAt: Date
    public let endsAt: Date
    /// As recorded; `state(at:)` is what holds.
    public let recordedState: AccessGrantState
    public let revokedAt: Date?
    public let endReason: String?
    public let linkedRequestID: UUID?
    public let breakGlass: Bool
    public let reviewRequestID: UUID?
    public let reviewedAt: Date?
    public let expireJob: Int64?
    /// SSH: what its access request narrowed of the policy's certificate options (nil fields: as the policy).
    public var options = CertificateOptions()

    /// The state at `moment`: an active grant past its end has expired, whether or not the
    /// expiry job has recorded it yet.
    public func state(at moment: Date) -> AccessGrantState {
        recordedState == .active && moment >= endsAt ? .expired : recordedState
    }

    /// Live at `moment`: active, started and not ended.
    public func isLive(at moment: Date) -> Bool { state(at: moment) == .active && startsAt <= moment }

    static let columns = """
        g.id, g.tenant_id, g.request_id, g.user_id, u.name, g.kind, g.role, g.host_name, g.principal, g.public_key, g.starts_at,
        g.ends_at, g.state, g.revoked_at, g.end_reason, g.linked_request_id, g.break_glass, g.review_request_id, g.reviewed_at,
        g.expire_job_id, g.permit_port_forwarding, g.source_addresses, g.force_command
        """
    /// How many columns `columns` names: a query selecting more reads them from here on.
    static let columnCount = columns.split(separator: ",").count
    static let joins = "access_grants g JOIN users u ON u.id = g.user_id"

    static func decode(_ row: Row) throws -> AccessGrantRecord {
        AccessGrantRecord(
            id: try row.require(0), tenant: try row.require(1), requestID: try row.require(2), userID: try row.require(3),
            userName: try row.require(4), kind: AccessKind(rawValue: try row.require(5)) ?? .role, role: try row.decode(6),
            hostName: try row.decode(7), principal: try row.decode(8), publicKey: try row.decode(9), startsAt: try row.require(10),
            endsAt: try row.require(11), recordedState: AccessGrantState(rawValue: try row.require(12)) ?? .active,
            revokedAt: try row.decode(13), endReason: try row.decode(14), linkedRequestID: try row.decode(15),
            breakGlass: try row.require(16), reviewRequestID: try row.decode(17), reviewedAt: try row.decode(18),
            expireJob: try row.decode(19),
            options: CertificateOptions(
                permitPortForwarding: try row.decode(20), sourceAddresses: try row.decode(21, as: [String].self),
                forceCommand: try row.decode(22)))
    }
}

/// One access request with everything its page shows.
public struct AccessRequestDetail: Sendable {
    public let request: AccessRequestRecord
    public let approvals: [AccessApprovalRecord]
    public let grant: AccessGrantRecord?
    public let needs: ApprovalNeeds
    public let policy: AccessPolicy

    public var owed: ApprovalNeeds { AccessRules.owed(needs, after: approvals.map(\.decision)) }
}
