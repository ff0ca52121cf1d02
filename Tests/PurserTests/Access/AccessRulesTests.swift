import Foundation
import Purser
import Testing

/// The access rules as tables: each row a case and what the rules must answer.
@Suite struct AccessRulesTests {
    static let now = Date(timeIntervalSince1970: 1_789_827_200)
    static let requester = UUID()
    static let ssh = AccessPolicy(
        id: UUID(), name: "GPU ops", kind: .ssh, hostLabel: "group:train", sshLogin: "ops",
        requesterRoles: ["requester", "approver", "cse", "platform_engineer"], maxSeconds: 3600, customerApprovals: 1,
        providerApprovals: 1, breakGlassRoles: ["platform_engineer"], breakGlassMaxSeconds: 1800)

    static func person(_ customer: CustomerRole?, _ staff: StaffRole? = nil, totp: Bool = false, user: UUID = UUID()) -> AccessPerson {
        AccessPerson(user: user, customerRole: customer, staffRole: staff, hasSecondFactor: totp)
    }

    func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as AccessRefused {
            return error.rule
        } catch let error as ValidationError {
            return error.fieldErrors.map(\.field).joined(separator: ",")
        } catch {
            return "\(error)"
        }
    }

    @Test func askingChecksRolesDurationStartAndLink() {
        let office = BusinessCalendar.officeHours(TimeZone(identifier: "UTC")!)
        var hours = Self.ssh
        hours.businessHoursOnly = true
        var linked = Self.ssh
        linked.linkRequired = .incident
        var admin = AccessPolicy(
            id: UUID(), name: "Admin", kind: .role, role: "tenant_admin", requesterRoles: ["approver"], maxSeconds: 600)
        var staffRole = admin
        staffRole.role = "provider_admin"
        staffRole.requesterRoles = ["approver", "cse"]
        // Now is Saturday 2026-09-19 14:13 UTC: outside office hours; Monday 09:00 is inside.
        let cases: [(String, AccessPolicy, AccessPerson, Int, Date?, LinkedRequest?, BusinessCalendar, String?)] = [
            ("a requester within the maximum", Self.ssh, Self.person(.requester), 3600, nil, nil, .aroundTheClock, nil),
            ("a viewer may not ask", Self.ssh, Self.person(.viewer), 60, nil, nil, .aroundTheClock, "no_access_request"),
            ("a role the policy leaves out", Self.ssh, Self.person(.tenantAdmin), 60, nil, nil, .aroundTheClock, "role_not_allowed"),
            ("a cse may ask", Self.ssh, Self.person(nil, .cse), 600, nil, nil, .aroundTheClock, nil),
            ("over the maximum", Self.ssh, Self.person(.requester), 3601, nil, nil, .aroundTheClock, "duration_seconds"),
            ("under a minute", Self.ssh, Self.person(.requester), 59, nil, nil, .aroundTheClock, "duration_seconds"),
            (
                "a start in the past", Self.ssh, Self.person(.requester), 600, Self.now.addingTimeInterval(-3600), nil, .aroundTheClock,
                "start"
            ),
            ("outside business hours", hours, Self.person(.requester), 600, nil, nil, office, "start"),
            (
                "a start on Monday morning", hours, Self.person(.requester), 600, Date(timeIntervalSince1970: 1_789_981_200), nil, office,
                nil
            ),
            ("an incident is required", linked, Self.person(.requester), 600, nil, nil, .aroundTheClock, "linked_request"),
            (
                "an access request is not an incident", linked, Self.person(.requester), 600, nil,
                LinkedRequest(type: "access", state: "open"), .aroundTheClock, "linked_request"
            ),
            (
                "a closed incident", linked, Self.person(.requester), 600, nil, LinkedRequest(type: "incident", state: "closed"),
                .aroundTheClock, "linked_request"
            ),
            (
                "an open incident", linked, Self.person(.requester), 600, nil, LinkedRequest(type: "incident", state: "open"),
                .aroundTheClock, nil
            ),
            ("tenant_admin needs a second factor", admin, Self.person(.approver), 600, nil, nil, .aroundTheClock, "second_factor_required"),
            ("tenant_admin with a second factor", admin, Self.person(.approver, totp: true), 600, nil, nil, .aroundTheClock, nil),
            ("a customer never becomes staff", staffRole, Self.person(.approver), 600, nil, nil, .aroundTheClock, "customer_to_staff"),
            ("staff may, in one tenant", staffRole, Self.person(nil, .cse), 600, nil, nil, .aroundTheClock, nil),
        ]
        admin.enabled = true
        for (name, policy, asker, seconds, start, link, calendar, expected) in cases {
            let got = refusal {
                try AccessRules.checkAsk(
                    policy: policy, asker: asker, durationSeconds: seconds, start: start, reason: "debugging a stuck job", link: link,
                    now: Self.now, calendar: calendar)
            }
            #expect(got == expected, "\(name)")
        }
        #expect(
            refusal {
                try AccessRules.checkAsk(
                    policy: Self.ssh, asker: Self.person(.requester), durationSeconds: 600, start: nil, reason: "  ", link: nil,
                    now: Self.now, calendar: .aroundTheClock)
            } == "reason")
    }

    @Test func approvalsCountEachSideAndRefuseTheirOwnAndLateOnes() throws {
        let approver = Self.person(.approver)
        let admin = Self.person(.tenantAdmin)
        let provider = Self.person(nil, .providerAdmin)
        let engineer = Self.person(nil, .platformEngineer)
        let needs = AccessRules.needs(policy: Self.ssh, requesterIsStaff: false)
        #expect(needs == ApprovalNeeds(customer: 1, provider: 1))
        func decide(
            _ who: AccessPerson, _ approve: Bool = true, state: AccessRequestState = .pending, by requester: UUID = Self.requester,
            after decisions: [AccessDecision] = [], needs: ApprovalNeeds = needs, policy: AccessPolicy = Self.ssh
        ) -> String {
            do {
                let (side, outcome) = try AccessRules.decide(
                    state: state, requester: requester, approver: who, approve: approve, reason: approve ? "" : "not now",
                    policy: policy, needs: needs, decisions: decisions)
                switch outcome {
                case .approved: return "\(side.rawValue):approved"
                case .denied: return "\(side.rawValue):denied"
                case .pending(let owed): return "\(side.rawValue):owes \(owed.customer)/\(owed.provider)"
                }
            } catch let error as AccessRefused {
                return error.rule
            } catch {
                return "\(error)"
            }
        }
        let customerYes = AccessDecision(approver: approver.user, side: .customer, approve: true)
        var archived = Self.ssh
        archived.archivedAt = Date(timeIntervalSince1970: 1_790_000_000)
        var off = Self.ssh
        off.enabled = false
        let cases: [(String, String, String)] = [
            // A policy archived or turned off after the asking grants nothing more; a denial still closes it.
            ("an archived policy approves nothing", decide(approver, policy: archived), "policy_archived"),
            ("a policy turned off approves nothing", decide(approver, policy: off), "policy_disabled"),
            ("under it a denial still ends the request", decide(admin, false, policy: archived), "customer:denied"),
            (
                "the customer's approval alone leaves the provider's owed", decide(approver),
                "customer:owes 0/1"
            ),
            ("then the provider's approves", decide(provider, after: [customerYes]), "provider:approved"),
            ("a second customer approval adds nothing", decide(admin, after: [customerYes]), "side_complete"),
            ("one denial ends it", decide(admin, false), "customer:denied"),
            ("nobody approves their own", decide(approver, by: approver.user), "self_approval"),
            ("nor twice", decide(approver, after: [customerYes]), "already_decided"),
            ("after withdrawal", decide(approver, state: .withdrawn), "withdrawn"),
            ("after lapsing", decide(approver, state: .lapsed), "lapsed"),
            ("after a decision", decide(approver, state: .approved), "decided"),
            ("a platform engineer decides for neither side", decide(engineer), "not_an_approver"),
            ("a requester decides nothing", decide(Self.person(.requester)), "not_an_approver"),
        ]
        for (name, got, expected) in cases { #expect(got == expected, "\(name)") }

        // A provider engineer never reaches a customer's host on the provider's say alone.
        var providerOnly = Self.ssh
        providerOnly.customerApprovals = 0
        let staffNeeds = AccessRules.needs(policy: providerOnly, requesterIsStaff: true)
        #expect(staffNeeds == ApprovalNeeds(customer: 1, provider: 1))
        let (_, outcome) = try AccessRules.decide(
            state: .pending, requester: engineer.user, approver: provider, approve: true, reason: "", policy: providerOnly,
            needs: staffNeeds, decisions: [])
        #expect(outcome == .pending(ApprovalNeeds(customer: 1, provider: 0)))
        #expect(AccessRules.needs(policy: providerOnly, requesterIsStaff: false) == ApprovalNeeds(customer: 0, provider: 1))
    }

    @Test func theWindowOpensAtApprovalOrTheChosenStartNeverAtTheAsking() {
        let approved = Self.now.addingTimeInterval(600)
        #expect(
            AccessRules.window(approvedAt: approved, requestedStart: nil, durationSeconds: 60) == (
                approved, approved.addingTimeInterval(60)
            ))
        let later = approved.addingTimeInterval(3600)
        #expect(AccessRules.window(approvedAt: approved, requestedStart: later, durationSeconds: 60).start == later)
        #expect(AccessRules.window(approvedAt: approved, requestedStart: Self.now, durationSeconds: 60).start == approved)
    }

    @Test func breakGlassIsForDesignatedRolesOnceUntilReviewed() {
        let engineer = Self.person(nil, .platformEngineer)
        func check(_ who: AccessPerson, seconds: Int = 600, reason: String = "prod is down", unreviewed: Bool = false) -> String? {
            refusal {
                try AccessRules.checkBreakGlass(
                    policy: Self.ssh, asker: who, durationSeconds: seconds, reason: reason, hasUnreviewedBreakGlass: unreviewed)
            }
        }
        #expect(check(engineer) == nil)
        #expect(check(Self.person(nil, .cse)) == "role_not_allowed")
        #expect(check(engineer, seconds: 1801) == "duration_seconds")
        #expect(check(engineer, reason: "") == "reason")
        #expect(check(engineer, unreviewed: true) == "break_glass_unreviewed")
    }

    @Test func elevationCountsOnlyInItsTenantAndWindow() {
        let tenant = UUID(), other = UUID()
        let start = Self.now, end = Self.now.addingTimeInterval(600)
        let elevation = Elevation(tenant: tenant, role: "approver", startsAt: start, endsAt: end)
        let base = Principal(user: UUID(), tenantRole: .requester, staffRole: nil, tenant: tenant)
        #expect(!base.elevated(by: [elevation], at: start.addingTimeInterval(-1)).can(.accessApprove))
        #expect(base.elevated(by: [elevation], at: start).can(.accessApprove))
        #expect(base.elevated(by: [elevation], at: end.addingTimeInterval(-0.001)).can(.accessApprove))
        #expect(!base.elevated(by: [elevation], at: end).can(.accessApprove))
        let elsewhere = Principal(user: base.user, tenantRole: .requester, staffRole: nil, tenant: other)
        #expect(!elsewhere.elevated(by: [elevation], at: start).can(.accessApprove))
        // Staff pages have no tenant: an elevation never opens them.
        let staff = Principal(user: UUID(), tenantRole: nil, staffRole: .cse, tenant: nil)
        let raised = Elevation(tenant: tenant, role: "provider_admin", startsAt: start, endsAt: end)
        #expect(!staff.elevated(by: [raised], at: start).can(.tenantsManage))
    }
}
