// The roles people hold: customer roles within one tenant, staff roles across tenants.

public enum CustomerRole: String, CaseIterable, Sendable, Codable {
    case tenantAdmin = "tenant_admin"
    case approver
    case requester
    case viewer
}

public enum StaffRole: String, CaseIterable, Sendable, Codable {
    case cse
    case platformEngineer = "platform_engineer"
    case providerAdmin = "provider_admin"
}
