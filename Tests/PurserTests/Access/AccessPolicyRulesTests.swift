import Foundation
@testable import Purser
import Testing

/// The pieces of a policy's rules that need no database: address blocks inside blocks, what a
/// grant's narrowed certificate options become under a policy changed later, business hours that
/// run on across midnight, and the provider's approval a pool policy or a staff role always owes.
@Suite struct AccessPolicyRulesTests {
    @Test func blocksLieInsideBlocksOfTheirOwnFamily() {
        let cases: [(String, String, Bool)] = [
            ("10.0.4.0/24", "10.0.0.0/16", true), ("10.0.4.7", "10.0.0.0/16", true), ("10.1.0.0/24", "10.0.0.0/16", false),
            ("10.0.0.0/8", "10.0.0.0/16", false), ("2001:db8:1::/48", "2001:db8::/32", true), ("10.0.0.1", "::/0", false),
            ("192.0.2.7", "192.0.2.7/32", true),
        ]
        for (inner, outer, expected) in cases {
            #expect(CertificateOptions.inside(inner, [outer]) == expected, "\(inner) in \(outer)")
        }
        #expect(CertificateOptions.inside("10.9.9.9", []) && !CertificateOptions.inside("10.0.0.0/33", []))
    }

    @Test func aPolicyNarrowedLaterNarrowsTheGrantsCertificates() throws {
        var policy = AccessPolicy(
            id: UUID(), name: "GPU", kind: .ssh, hostLabel: "group:train", sshLogin: "ops", requesterRoles: ["requester"], maxSeconds: 600,
            permitPortForwarding: true, sourceAddresses: ["10.0.0.0/16"])
        let grant = CertificateOptions(sourceAddresses: ["10.0.4.0/24", "10.0.9.0/24"])
        #expect(try grant.signed(under: policy).sourceAddresses == ["10.0.4.0/24", "10.0.9.0/24"])
        #expect(try grant.signed(under: policy).permitPortForwarding)
        policy.sourceAddresses = ["10.0.4.0/22"]
        policy.forceCommand = "uptime"
        let now = try grant.signed(under: policy)
        #expect(now.sourceAddresses == ["10.0.4.0/24"] && now.forceCommand == "uptime")
        policy.sourceAddresses = ["192.168.0.0/16"]
        #expect(throws: AccessRefused.self) { try grant.signed(under: policy) }
        #expect(CertificateOptions(permitPortForwarding: true).problems(within: policy).isEmpty)
    }

    @Test func businessHoursThatMeetAtMidnightAreOneStretch() throws {
        // Monday around the clock and Tuesday until noon, in Zurich.
        let zone = TimeZone(identifier: "Europe/Zurich")!
        let calendar = BusinessCalendar(
            timeZone: zone, hours: [1: [.init(start: 0, end: 1440)], 2: [.init(start: 0, end: 720)]])
        let monday = RFC3339.date("2026-11-23T09:00:00Z")!  // 10:00 in Zurich
        #expect(AccessBusinessHours.problem(start: monday, seconds: 25 * 3600, calendar: calendar) == nil)
        let tooLong = try #require(AccessBusinessHours.problem(start: monday, seconds: 27 * 3600, calendar: calendar))
        #expect(tooLong.field == "duration_seconds" && tooLong.detail.contains("12:00 Tue 24 Nov 2026 (Europe/Zurich)"), "\(tooLong)")
        #expect(tooLong.detail.contains("at most 1 d 2 h"), "\(tooLong)")
    }

    @Test func aPoolPolicyAlwaysOwesTheProvidersApproval() {
        var pool = AccessPolicy(
            id: UUID(), name: "Pool", kind: .ssh, hostLabel: "pool:h100", hostSource: .pool, sshLogin: "ops", requesterRoles: ["requester"],
            maxSeconds: 600, customerApprovals: 1, providerApprovals: 0)
        #expect(AccessRules.needs(policy: pool, requesterIsStaff: false) == ApprovalNeeds(customer: 1, provider: 1))
        pool.hostSource = .tenant
        #expect(AccessRules.needs(policy: pool, requesterIsStaff: false) == ApprovalNeeds(customer: 1, provider: 0))
    }

    @Test func aLineBreakAfterALabelOrLoginIsNotPartOfIt() {
        var policy = AccessPolicy(
            id: UUID(), name: "GPU", kind: .ssh, hostLabels: ["group:train\n"], sshLogin: "ops", requesterRoles: ["requester"],
            maxSeconds: 600)
        #expect(policy.problems().map(\.field) == ["host_labels"])
        policy.hostLabels = ["group:train"]
        policy.sshLogin = "ops\n"
        #expect(policy.problems().map(\.field) == ["ssh_login"])
        policy.sshLogin = "ops"
        #expect(policy.problems().isEmpty)
    }

    @Test func aStaffRoleAlwaysOwesTheProvidersApproval() {
        var elevation = AccessPolicy(
            id: UUID(), name: "Provider admin here", kind: .role, role: "provider_admin", requesterRoles: ["cse"], maxSeconds: 600,
            customerApprovals: 1, providerApprovals: 0)
        #expect(AccessRules.needs(policy: elevation, requesterIsStaff: true) == ApprovalNeeds(customer: 1, provider: 1))
        elevation.role = "platform_engineer"
        #expect(AccessRules.needs(policy: elevation, requesterIsStaff: true) == ApprovalNeeds(customer: 1, provider: 1))
        elevation.role = "tenant_admin"
        #expect(AccessRules.needs(policy: elevation, requesterIsStaff: true) == ApprovalNeeds(customer: 1, provider: 0))
    }
}
