import Foundation
@testable import Purser
import Testing

@Suite struct PermissionTests {
    @Test func customerRolesNestFromViewerToTenantAdmin() {
        let order: [CustomerRole] = [.viewer, .requester, .approver, .tenantAdmin]
        for (lower, higher) in zip(order, order.dropFirst()) {
            #expect(lower.permissions.isStrictSubset(of: higher.permissions), "\(lower) ⊂ \(higher)")
        }
        #expect(!CustomerRole.viewer.permissions.contains(.requestsCreate))
        #expect(!CustomerRole.requester.permissions.contains(.deploymentsApprove))
        #expect(CustomerRole.approver.permissions.contains(.deploymentsApprove))
    }

    @Test func noCustomerRoleReachesProviderPowers() {
        for role in CustomerRole.allCases {
            #expect(role.permissions.isDisjoint(with: [.tenantsManage, .providersManage, .jobsManage, .requestsManage, .costsManage]))
        }
    }

    @Test func staffNeverApproveForTheCustomer() {
        for role in StaffRole.allCases {
            #expect(!role.permissions.contains(.deploymentsApprove))
            #expect(!role.permissions.contains(.accessApprove))
        }
        #expect(StaffRole.providerAdmin.permissions.contains(.tenantsManage))
        #expect(!StaffRole.cse.permissions.contains(.providersManage))
    }

    @Test func requireThrowsAForbiddenNamingThePermission() throws {
        let viewer = Principal(user: UUID(), tenantRole: .viewer, staffRole: nil)
        try viewer.require(.requestsRead)
        let error = #expect(throws: Forbidden.self) { try viewer.require(.deploymentsApprove) }
        #expect(error?.status.rawValue == 403)
        #expect(error?.detail?.contains("deployments.approve") == true)
    }

    @Test func everyPermissionBelongsToSomeRole() {
        let granted = CustomerRole.allCases.reduce(Set<Permission>()) { $0.union($1.permissions) }
            .union(StaffRole.allCases.reduce(Set<Permission>()) { $0.union($1.permissions) })
        #expect(granted == Set(Permission.allCases))
    }
}
