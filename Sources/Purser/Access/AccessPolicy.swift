// An access policy of a tenant: who may ask for which access (a login on a group of GPU hosts, or
// a portal role in the tenant), for at most how long, with how many approvals from whom, whether a
// linked service request or incident is required, whether only within business hours, and who may
// break glass. Read from `access_policies`; the rules that apply it are in AccessRules.
import Foundation
import Postgres

public enum AccessKind: String, Sendable, Codable, CaseIterable {
    /// A login on GPU hosts, by a short-lived OpenSSH certificate.
    case ssh
    /// A portal role in the tenant, for a while (elevation).
    case role
}

/// What a policy asks of the service request an access request names.
public enum LinkRequirement: String, Sendable, Codable, CaseIterable {
    case none
    /// A service request of type `access` or `incident`, not closed.
    case request
    /// An `incident` request, not closed.
    case incident
}

/// Whose hosts an SSH policy names: the tenant's own, or the provider's shared pool (hosts
/// without a tenant; a pool policy always owes the provider's approval).
public enum HostSource: String, Sendable, Codable, CaseIterable {
    case tenant
    case pool
}

public struct AccessPolicy: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var kind: AccessKind
    /// SSH: the hosts carrying any one of these labels (host groups), whose they are, and the login on them.
    public var hostLabels: [String]
    public var hostSource: HostSource
    public var sshLogin: String?
    /// Role: the role granted in the tenant (a customer role, or for staff a staff role).
    public var role: String?
    /// Roles (customer or staff) whose holders may ask under this policy.
    public var requesterRoles: Set<String>
    public var maxSeconds: Int
    public var customerApprovals: Int
    /// Customer roles whose approvals count (they must also hold access.approve).
    public var approverRoles: Set<String>
    /// Approvals from the provider's side (access.approve_provider), counted apart from the customer's.
    public var providerApprovals: Int
    public var linkRequired: LinkRequirement
    public var businessHoursOnly: Bool
    public var breakGlassRoles: Set<String>
    public var breakGlassMaxSeconds: Int
    /// How long an access request may wait for its approvals before it lapses.
    public var lapseSeconds: Int
    public var enabled: Bool
    /// SSH: what the certificates signed for its grants carry besides permit-pty. Source addresses
    /// are CIDRs (empty: from anywhere); the forced command runs whatever the client asks.
    public var permitPortForwarding: Bool
    public var sourceAddresses: [String]
    public var forceCommand: String?
    /// Archived policies are asked under no more; their access requests and grants keep their name.
    public var archivedAt: Date?
    /// Bumped by every change: the API's ETag ("v<version>").
    public var version: Int

    /// The first of the labels (a policy with one host group).
    public var hostLabel: String? { hostLabels.first }
    public var etag: String { "\"v\(version)\"" }

    public init(
        id: UUID, name: String, kind: AccessKind, hostLabel: String? = nil, hostLabels: [String] = [], hostSource: HostSource = .tenant,
        sshLogin: String? = nil, role: String? = nil,
        requesterRoles: Set<String>, maxSeconds: Int, customerApprovals: Int = 1,
        approverRoles: Set<String> = ["approver", "tenant_admin"], providerApprovals: Int = 0,
        linkRequired: LinkRequirement = .none, businessHoursOnly: Bool = false, breakGlassRoles: Set<String> = [],
        breakGlassMaxSeconds: Int = 3600, lapseSeconds: Int = 86400, enabled: Bool = true,
        permitPortForwarding: Bool = false, sourceAddresses: [String] = [], forceCommand: String? = nil, archivedAt: Date? = nil,
        version: Int = 1
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.hostLabels = hostLabels + (hostLabel.map { hostLabels.contains($0) ? [] : [$0] } ?? [])
        self.hostSource = hostSource
        self.sshLogin = sshLogin
        self.role = role
        self.requesterRoles = requesterRoles
        self.maxSeconds = maxSeconds
        self.customerApprovals = customerApprovals
        self.approverRoles = approverRoles
        self.providerApprovals = providerApprovals
        self.linkRequired = linkRequired
        self.businessHoursOnly = businessHoursOnly
        self.breakGlassRoles = breakGlassRoles
        self.breakGlassMaxSeconds = breakGlassMaxSeconds
        self.lapseSeconds = lapseSeconds
        self.enabled = enabled
        self.permitPortForwarding = permitPortForwarding
        self.sourceAddresses = sourceAddresses
        self.forceCommand = forceCommand
        self.archivedAt = archivedAt
        self.version = version
    }

    /// What it grants, in a few words ("ssh ops@group:train", "role tenant_admin").
    public var target: String {
        switch kind {
        case .ssh:
            "SSH as \(sshLogin ?? "?") on \(hostSource == .pool ? "the provider's pool hosts" : "hosts") labelled "
                + (hostLabels.isEmpty ? "?" : hostLabels.joined(separator: " or "))
        case .role: "the role \(role ?? "?")"
        }
    }

    static let columns = """
        id, name, kind, host_labels, ssh_login, role, requester_roles, max_seconds, customer_approvals, approver_roles,
        provider_approvals, link_required, business_hours_only, break_glass_roles, break_glass_max_seconds, lapse_seconds, enabled,
        permit_port_forwarding, source_addresses, force_command, host_source, archived_at, version
        """

    static func decode(_ row: Row) throws -> AccessPolicy {
        AccessPolicy(
            id: try row.require(0), name: try row.require(1), kind: AccessKind(rawValue: try row.require(2)) ?? .role,
            hostLabels: try row.require(3, as: [String].self),
            hostSource: HostSource(rawValue: try row.require(20)) ?? .tenant, sshLogin: try row.decode(4), role: try row.decode(5),
            requesterRoles: Set(try row.require(6, as: [String].self)), maxSeconds: try row.require(7),
            customerApprovals: try row.require(8), approverRoles: Set(try row.require(9, as: [String].self)),
            providerApprovals: try row.require(10), linkRequired: LinkRequirement(rawValue: try row.require(11)) ?? .request,
            businessHoursOnly: try row.require(12), breakGlassRoles: Set(try row.require(13, as: [String].self)),
            breakGlassMaxSeconds: try row.require(14), lapseSeconds: try row.require(15), enabled: try row.require(16),
            permitPortForwarding: try row.require(17), sourceAddresses: try row.require(18, as: [String].self),
            forceCommand: try row.decode(19), archivedAt: try row.decode(21), version: try row.require(22))
    }

    /// Writes the policy (new, or replacing the one with its id) in `tx` of its tenant.
    static func save(_ policy: AccessPolicy, tenant: UUID, at now: Date, in tx: Connection) throws {
        try tx.query(
            """
            INSERT INTO access_policies (tenant_id, id, name, kind, host_labels, ssh_login, role, requester_roles, max_seconds,
                customer_approvals, approver_roles, provider_approvals, link_required, business_hours_only, break_glass_roles,
                break_glass_max_seconds, lapse_seconds, enabled, created_at, updated_at, permit_port_forwarding, source_addresses,
                force_command, host_source)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21, $22, $23)
            ON CONFLICT (tenant_id, id) DO UPDATE SET name = $3, kind = $4, host_labels = $5, ssh_login = $6, role = $7,
                requester_roles = $8, max_seconds = $9, customer_approvals = $10, approver_roles = $11, provider_approvals = $12,
                link_required = $13, business_hours_only = $14, break_glass_roles = $15, break_glass_max_seconds = $16,
                lapse_seconds = $17, enabled = $18, updated_at = $19, permit_port_forwarding = $20, source_addresses = $21,
                force_command = $22, host_source = $23, version = access_policies.version + 1
            """,
            [
                tenant, policy.id, policy.name, policy.kind.rawValue, policy.hostLabels, policy.sshLogin, policy.role,
                policy.requesterRoles.sorted(), policy.maxSeconds, policy.customerApprovals, policy.approverRoles.sorted(),
                policy.providerApprovals, policy.linkRequired.rawValue, policy.businessHoursOnly, policy.breakGlassRoles.sorted(),
                policy.breakGlassMaxSeconds, policy.lapseSeconds, policy.enabled, now, policy.permitPortForwarding,
                policy.sourceAddresses, policy.forceCommand, policy.hostSource.rawValue,
            ])
    }
}
