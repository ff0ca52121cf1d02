// What an API token may do. Every API route names its scope in the OpenAPI document, and each
// scope stands for the permissions its routes check: a token may carry a scope only when its owner's
// role (in the token's tenant, or their staff role) holds one of them, so a token never says more
// than its owner could do on a page. docs/security.md mirrors `permissions`.
import Foundation

public enum Scope: String, CaseIterable, Sendable, Codable {
    case requestsRead = "requests:read"
    case requestsWrite = "requests:write"
    case deploymentsRead = "deployments:read"
    case deploymentsWrite = "deployments:write"
    case approvalsWrite = "approvals:write"
    case accessRequest = "access:request"
    case accessApprove = "access:approve"
    case accessManage = "access:manage"
    case usageWrite = "usage:write"
    case costsRead = "costs:read"
    case budgetsWrite = "budgets:write"
    /// List prices, negotiated prices and tenants' markups.
    case pricesWrite = "prices:write"
    case reportsRead = "reports:read"
    case notificationsRead = "notifications:read"
    case hostsRead = "hosts:read"
    case hostsWrite = "hosts:write"
    case incidentsRead = "incidents:read"
    case incidentsWrite = "incidents:write"
    /// Alertmanager's webhook: alerts become incidents.
    case alertsWrite = "alerts:write"
    /// Probe targets and maintenance windows (staff holding monitoring.manage).
    case monitoringWrite = "monitoring:write"

    /// The permissions the scope's routes check. A role holding none of them could use the scope
    /// for nothing, so it is never offered that scope nor given a token with it.
    public var permissions: Set<Permission> {
        switch self {
        case .requestsRead: [.requestsRead]
        // Filing needs requests.create, commenting requests.comment.
        case .requestsWrite: [.requestsCreate, .requestsComment]
        case .deploymentsRead: [.deploymentsRead]
        case .deploymentsWrite: [.deploymentsRequest]
        // An approval decides a deployment or an access request; the provider's sign-off is one too.
        case .approvalsWrite: [.deploymentsApprove, .deploymentsSignoff, .accessApprove]
        case .accessRequest: [.accessRequest]
        // The customer's side of an access approval, or the provider's.
        case .accessApprove: [.accessApprove, .accessApproveProvider]
        // Access policies are the tenant's settings (a pool policy's hosts also need providers.manage).
        case .accessManage: [.tenantSettingsManage]
        // Usage is reported by a tenant's own gateway or by the provider's pipelines.
        case .usageWrite: [.usageWrite]
        case .costsRead: [.costsRead]
        // Budgets are the tenant's settings.
        case .budgetsWrite: [.tenantSettingsManage]
        case .pricesWrite: [.costsManage]
        case .reportsRead: [.reportsRead]
        // The delivery log names destinations: what the notifications page shows to tenant admins.
        case .notificationsRead: [.tenantSettingsManage]
        // Hosts are managed by the provider; people who may ask for SSH access see the hosts they may ask for.
        case .hostsRead: [.providersManage, .accessRequest]
        case .hostsWrite: [.providersManage]
        case .incidentsRead: [.incidentsRead]
        case .incidentsWrite: [.incidentsManage]
        // An alert opens or joins an incident: what incidents.manage may do by hand.
        case .alertsWrite: [.incidentsManage]
        case .monitoringWrite: [.monitoringManage]
        }
    }

    /// Whether someone holding `held` may give a token this scope.
    public func isUsable(with held: Set<Permission>) -> Bool { !permissions.isDisjoint(with: held) }

    /// The scopes someone holding `held` may give a token, in the order of `allCases`.
    public static func usable(with held: Set<Permission>) -> [Scope] { allCases.filter { $0.isUsable(with: held) } }

    /// Parses `requests:read,requests:write`; nil names the first unknown scope.
    public static func parseList(_ text: String) -> Result<[Scope], UnknownScope> {
        var scopes: [Scope] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let scope = Scope(rawValue: part) else { return .failure(UnknownScope(name: part)) }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return .success(scopes)
    }

    public struct UnknownScope: Error, Equatable {
        public let name: String
    }
}
