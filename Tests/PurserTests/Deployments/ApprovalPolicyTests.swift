import Foundation
@testable import Purser
import Testing

/// The approval rules on plain values, one row per case: N of M, roles and their seniors, the
/// requester's own approval, the provider's sign-off counted apart, reset on change, expiry.
@Suite struct ApprovalPolicyTests {
    static let requester = UUID(), ann = UUID(), bob = UUID(), cat = UUID(), pat = UUID()
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func approve(_ who: UUID, _ role: String, _ kind: ApprovalDecision.Kind = .customer, version: Int = 1, at: TimeInterval = 0)
        -> ApprovalDecision
    {
        ApprovalDecision(approver: who, role: role, kind: kind, deploymentVersion: version, at: t0 + at)
    }

    static let two = ApprovalPolicy(
        requiredApprovals: 2, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 3600)
    static let adminsOnly = ApprovalPolicy(
        requiredApprovals: 1, approverRoles: [.tenantAdmin], providerSignoff: false, resetOnChange: true, validity: 3600)
    static let signoff = ApprovalPolicy(
        requiredApprovals: 1, approverRoles: [.approver], providerSignoff: true, resetOnChange: true, validity: 3600)
    static let keep = ApprovalPolicy(
        requiredApprovals: 1, approverRoles: [.approver], providerSignoff: false, resetOnChange: false, validity: 3600)

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let policy: ApprovalPolicy
        let decisions: [ApprovalDecision]
        let version: Int
        let after: TimeInterval
        let missing: Int
        let signoffMissing: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "none yet: 2 of 2 missing", policy: two, decisions: [], version: 1, after: 0, missing: 2, signoffMissing: false),
        Case(
            name: "one of two", policy: two, decisions: [approve(ann, "approver")], version: 1, after: 0, missing: 1, signoffMissing: false),
        Case(
            name: "two of two", policy: two, decisions: [approve(ann, "approver"), approve(bob, "tenant_admin")], version: 1, after: 0,
            missing: 0, signoffMissing: false),
        Case(
            name: "the same person twice counts once", policy: two, decisions: [approve(ann, "approver"), approve(ann, "approver", at: 5)],
            version: 1, after: 10, missing: 1, signoffMissing: false),
        Case(
            name: "the requester's own approval never counts", policy: two,
            decisions: [approve(requester, "approver"), approve(ann, "approver")], version: 1, after: 0, missing: 1, signoffMissing: false),
        Case(
            name: "a junior role does not count", policy: adminsOnly, decisions: [approve(ann, "approver")], version: 1, after: 0,
            missing: 1,
            signoffMissing: false),
        Case(
            name: "a senior role counts for the role named", policy: two,
            decisions: [approve(ann, "tenant_admin"), approve(bob, "tenant_admin")], version: 1, after: 0, missing: 0, signoffMissing: false
        ),
        Case(
            name: "sign-off missing though customers approved", policy: signoff, decisions: [approve(ann, "approver")], version: 1,
            after: 0,
            missing: 0, signoffMissing: true),
        Case(
            name: "sign-off does not stand in for a customer approval", policy: signoff,
            decisions: [approve(pat, "platform_engineer", .providerSignoff)], version: 1, after: 0, missing: 1, signoffMissing: false),
        Case(
            name: "sign-off and approval", policy: signoff,
            decisions: [approve(pat, "platform_engineer", .providerSignoff), approve(ann, "approver")], version: 1, after: 0, missing: 0,
            signoffMissing: false),
        Case(
            name: "a staff role as a customer approval does not count", policy: two,
            decisions: [approve(pat, "platform_engineer"), approve(ann, "approver")], version: 1, after: 0, missing: 1,
            signoffMissing: false),
        Case(
            name: "a change resets approvals", policy: two, decisions: [approve(ann, "approver"), approve(bob, "approver")], version: 2,
            after: 0, missing: 2, signoffMissing: false),
        Case(
            name: "without reset a change keeps them", policy: keep, decisions: [approve(ann, "approver")], version: 3, after: 0,
            missing: 0,
            signoffMissing: false),
        Case(
            name: "an approval expires", policy: two, decisions: [approve(ann, "approver"), approve(bob, "approver", at: 3000)], version: 1,
            after: 3700, missing: 1, signoffMissing: false),
        Case(
            name: "a rejection is no approval", policy: keep,
            decisions: [ApprovalDecision(approver: ann, role: "approver", kind: .customer, verdict: .reject, deploymentVersion: 1, at: t0)],
            version: 1, after: 0, missing: 1, signoffMissing: false),
    ]

    @Test(arguments: cases) func evaluates(_ row: Case) {
        let status = ApprovalRules.evaluate(
            row.decisions, policy: row.policy, requester: Self.requester, currentVersion: row.version, now: Self.t0 + row.after)
        #expect(status.customerApprovalsMissing == row.missing)
        #expect(status.signoffMissing == row.signoffMissing)
        #expect(status.isSatisfied == (row.missing == 0 && !row.signoffMissing))
        #expect(status.awaitsCustomer == (row.missing > 0))
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let policy: ApprovalPolicy
        let candidate: ApprovalDecision
        let existing: [ApprovalDecision]
        let rule: ApprovalRefused.Rule?
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "self-approval", policy: two, candidate: approve(requester, "approver"), existing: [], rule: .selfApproval),
        Refusal(name: "a role not counted", policy: adminsOnly, candidate: approve(ann, "approver"), existing: [], rule: .roleNotCounted),
        Refusal(name: "a senior is taken", policy: two, candidate: approve(ann, "tenant_admin"), existing: [], rule: nil),
        Refusal(
            name: "the same person again on the same version", policy: two, candidate: approve(ann, "approver"),
            existing: [approve(ann, "approver")], rule: .alreadyDecided),
        Refusal(
            name: "again after a change is a fresh decision", policy: two, candidate: approve(ann, "approver", version: 2),
            existing: [approve(ann, "approver")], rule: nil),
        Refusal(
            name: "a sign-off the policy does not ask for", policy: two, candidate: approve(pat, "platform_engineer", .providerSignoff),
            existing: [], rule: .signoffNotNeeded),
        Refusal(
            name: "staff approving for the customer", policy: two, candidate: approve(pat, "platform_engineer"), existing: [],
            rule: .staffForCustomer),
        Refusal(
            name: "the provider signs off", policy: signoff, candidate: approve(pat, "platform_engineer", .providerSignoff), existing: [],
            rule: nil),
    ]

    @Test(arguments: refusals) func refuses(_ row: Refusal) {
        let candidate = row.candidate
        do {
            try ApprovalRules.check(
                candidate, policy: row.policy, requester: Self.requester, existing: row.existing,
                currentVersion: candidate.deploymentVersion, now: Self.t0)
            #expect(row.rule == nil, "expected \(String(describing: row.rule)) refused")
        } catch let refused as ApprovalRefused {
            #expect(refused.rule == row.rule)
            #expect(refused.detail?.isEmpty == false)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func rolesCountTheirSeniors() {
        #expect(Self.two.countedRoles == [.approver, .tenantAdmin])
        #expect(Self.adminsOnly.countedRoles == [.tenantAdmin])
        #expect(StaffRole.platformEngineer.permissions.contains(.deploymentsSignoff))
        #expect(StaffRole.providerAdmin.permissions.contains(.deploymentsSignoff))
        #expect(!StaffRole.cse.permissions.contains(.deploymentsSignoff))
        #expect(!StaffRole.cse.permissions.contains(.deploymentsRequest))
        #expect(CustomerRole.allCases.allSatisfy { !$0.permissions.contains(.deploymentsSignoff) })
    }
}
