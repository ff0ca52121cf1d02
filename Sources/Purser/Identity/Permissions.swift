// What each role may do: one table, read by every permission check (`try principal.require(.x)`),
// and mirrored in docs/security.md. Least privilege: a role gets what its work needs, no more.
import Foundation

public enum Permission: String, CaseIterable, Sendable {
    case requestsRead = "requests.read"
    case requestsCreate = "requests.create"
    case requestsComment = "requests.comment"
    /// Triage: assign, set priority and state, internal notes.
    case requestsManage = "requests.manage"
    case deploymentsRead = "deployments.read"
    case deploymentsRequest = "deployments.request"
    case deploymentsApprove = "deployments.approve"
    /// The provider's sign-off on a deployment, counted apart from the customer's approvals.
    case deploymentsSignoff = "deployments.signoff"
    case accessRequest = "access.request"
    case accessApprove = "access.approve"
    /// The provider's side of a two-sided access approval (a customer's GPU host needs both sides).
    case accessApproveProvider = "access.approve_provider"
    case costsRead = "costs.read"
    /// Report usage events (a tenant's own gateway, or a provider pipeline naming the tenant).
    case usageWrite = "usage.write"
    /// The price catalogue and tenants' markups, discounts and negotiated prices.
    case costsManage = "costs.manage"
    case reportsRead = "reports.read"
    case auditRead = "audit.read"
    case tenantUsersManage = "tenant.users.manage"
    case tenantSettingsManage = "tenant.settings.manage"
    case tenantsManage = "tenants.manage"
    case providersManage = "providers.manage"
    case jobsManage = "jobs.manage"
    case incidentsRead = "incidents.read"
    /// Open, acknowledge, move and review incidents; postmortems and runbooks.
    case incidentsManage = "incidents.manage"
    /// Probes, SLOs, maintenance windows and status pages.
    case monitoringManage = "monitoring.manage"
}

extension CustomerRole {
    /// Each customer role includes the one below it: viewer ⊂ requester ⊂ approver ⊂ tenant_admin.
    public var permissions: Set<Permission> {
        switch self {
        case .viewer: [.requestsRead, .deploymentsRead, .costsRead, .reportsRead, .incidentsRead]
        case .requester:
            CustomerRole.viewer.permissions.union([
                .requestsCreate, .requestsComment, .deploymentsRequest,
                .accessRequest,
            ])
        case .approver: CustomerRole.requester.permissions.union([.deploymentsApprove, .accessApprove])
        case .tenantAdmin:
            CustomerRole.approver.permissions.union([
                .auditRead, .tenantUsersManage, .tenantSettingsManage, .usageWrite, .incidentsManage,
            ])
        }
    }
}

extension StaffRole {
    /// Staff work across tenants; approving a customer's deployment or access stays with the customer.
    public var permissions: Set<Permission> {
        switch self {
        case .cse:
            [
                .requestsRead, .requestsCreate, .requestsComment, .requestsManage, .deploymentsRead, .costsRead,
                .reportsRead, .auditRead, .accessRequest, .incidentsRead, .incidentsManage, .monitoringManage,
            ]
        case .platformEngineer:
            StaffRole.cse.permissions.union([
                .deploymentsRequest, .deploymentsSignoff, .providersManage, .jobsManage, .usageWrite,
            ])
        case .providerAdmin:
            StaffRole.platformEngineer.permissions.union([
                .tenantsManage, .tenantUsersManage,
                .tenantSettingsManage, .costsManage, .accessApproveProvider,
            ])
        }
    }
}

/// A permission the caller lacks: 403, naming it (the caller may ask for it).
public struct Forbidden: DomainError, Equatable {
    public let permission: Permission
    /// Who was refused, and in which tenant: the denial is audited.
    public var user: UUID?
    public var tenant: UUID?
    public var refusal: Refusal { .forbidden }
    public var detail: String? { "You need the permission \(permission.rawValue) for this." }
}

/// Who is asking, and with which role in the tenant at hand (named so as not to shadow Swift's `Actor`).
public struct Principal: Sendable, Equatable {
    public let user: UUID
    /// The role in the current tenant, for a customer.
    public let tenantRole: CustomerRole?
    public let staffRole: StaffRole?
    /// The tenant at hand, if any.
    public let tenant: UUID?

    /// Roles held for a while through access grants (Access/Elevation.swift), and the World's time
    /// of this request they are judged at: an elevation counts only in its tenant and inside its window.
    public private(set) var elevations: [Elevation] = []
    public private(set) var elevatedAt: Date?

    public init(user: UUID, tenantRole: CustomerRole?, staffRole: StaffRole?, tenant: UUID? = nil) {
        self.user = user
        self.tenantRole = tenantRole
        self.staffRole = staffRole
        self.tenant = tenant
    }

    /// The same principal with `elevations`, judged at `moment` (the World's clock).
    public func elevated(by elevations: [Elevation], at moment: Date) -> Principal {
        var copy = self
        copy.elevations = elevations
        copy.elevatedAt = moment
        return copy
    }

    public var permissions: Set<Permission> {
        var held = (tenantRole?.permissions ?? []).union(staffRole?.permissions ?? [])
        if let tenant, let moment = elevatedAt {
            for elevation in elevations where elevation.tenant == tenant && elevation.holds(at: moment) {
                held.formUnion(elevation.permissions)
            }
        }
        return held
    }

    public func can(_ permission: Permission) -> Bool { permissions.contains(permission) }

    /// Throws `Forbidden` unless the actor holds `permission`; the one way handlers check access.
    public func require(_ permission: Permission) throws {
        guard can(permission) else { throw Forbidden(permission: permission, user: user, tenant: tenant) }
    }

    /// The scopes this principal may give a token: those whose routes check a permission it holds.
    public var usableScopes: [Scope] { Scope.usable(with: permissions) }

    /// Throws `Forbidden`, naming a permission `scope` stands for, unless this principal may give a
    /// token that scope (a token never carries more than its owner).
    public func requireUsable(_ scope: Scope) throws {
        guard scope.isUsable(with: permissions) else {
            let lacking = scope.permissions.min { $0.rawValue < $1.rawValue } ?? .tenantsManage
            throw Forbidden(permission: lacking, user: user, tenant: tenant)
        }
    }
}
