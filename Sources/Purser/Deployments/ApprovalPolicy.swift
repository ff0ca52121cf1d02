// Who must approve a deployment before it rolls out, per tenant and environment, and the pure rules
// that read a deployment's decisions against it (table-tested without a database):
// - N customer approvals, each from a role the policy names exactly, a role counting its seniors
//   (tenant_admin counts where approver is named); each person counts once;
// - the provider's sign-off, when the policy asks for one, is counted apart: staff never approve for
//   the customer, and a customer never signs off for the provider;
// - the requester never approves their own deployment;
// - with reset on change, a decision given for an earlier version of the deployment no longer counts;
// - a decision older than the policy's validity no longer counts.
import Foundation
import struct HTTPServer.FieldError

public struct ApprovalPolicy: Sendable, Equatable {
    public var requiredApprovals: Int
    /// Exact role names; each counts its seniors too.
    public var approverRoles: [CustomerRole]
    public var providerSignoff: Bool
    public var resetOnChange: Bool
    /// How long a decision counts after it was given.
    public var validity: TimeInterval
    /// How long a version must have been live in the previous environment before this one takes it.
    public var promotionGate: TimeInterval

    public init(
        requiredApprovals: Int, approverRoles: [CustomerRole], providerSignoff: Bool, resetOnChange: Bool,
        validity: TimeInterval, promotionGate: TimeInterval = 0
    ) {
        self.requiredApprovals = requiredApprovals
        self.approverRoles = approverRoles
        self.providerSignoff = providerSignoff
        self.resetOnChange = resetOnChange
        self.validity = validity
        self.promotionGate = promotionGate
    }

    /// An environment without a policy of its own: one approval by an approver, valid for a week.
    public static let standard = ApprovalPolicy(
        requiredApprovals: 1, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 7 * 86400)

    /// Customer roles from the most junior; a role counts for every role before it in this list.
    static let seniority: [CustomerRole] = [.viewer, .requester, .approver, .tenantAdmin]

    /// Whether someone holding `role` counts towards this policy's approvals.
    public func counts(_ role: CustomerRole) -> Bool {
        let rank = Self.seniority.firstIndex(of: role) ?? 0
        return approverRoles.contains { (Self.seniority.firstIndex(of: $0) ?? Int.max) <= rank }
    }

    /// The roles that count, as people read them ("approver or tenant_admin").
    public var countedRoles: [CustomerRole] { Self.seniority.filter(counts) }
}

/// One decision on a deployment, as recorded.
public struct ApprovalDecision: Sendable, Equatable {
    public enum Kind: String, Sendable { case customer, providerSignoff = "provider_signoff" }
    public enum Verdict: String, Sendable { case approve, reject }

    public var approver: UUID
    public var name: String
    /// The customer role (customer decisions) or the staff role (sign-offs) held when deciding.
    public var role: String
    public var kind: Kind
    public var verdict: Verdict
    /// The deployment's version the decision was given for.
    public var deploymentVersion: Int
    public var at: Date
    public var reason: String

    public init(
        approver: UUID, name: String = "", role: String, kind: Kind, verdict: Verdict = .approve, deploymentVersion: Int,
        at: Date, reason: String = ""
    ) {
        self.approver = approver
        self.name = name
        self.role = role
        self.kind = kind
        self.verdict = verdict
        self.deploymentVersion = deploymentVersion
        self.at = at
        self.reason = reason
    }
}

/// Where a deployment's approvals stand.
public struct ApprovalStatus: Sendable, Equatable {
    /// Customer approvals that count now.
    public var counted: [ApprovalDecision] = []
    /// The provider's sign-off that counts now, if any.
    public var signoff: ApprovalDecision?
    /// Decisions that no longer count, with why.
    public var discounted: [Discounted] = []
    /// How many more customer approvals are needed.
    public var customerApprovalsMissing = 0
    public var signoffMissing = false

    public struct Discounted: Sendable, Equatable {
        public var decision: ApprovalDecision
        public var why: String
    }

    public var isSatisfied: Bool { customerApprovalsMissing == 0 && !signoffMissing }
    /// Waiting on the customer's own approvers (the deployment clock pauses only for this).
    public var awaitsCustomer: Bool { customerApprovalsMissing > 0 }

    /// Why it cannot roll out yet, in sentences for the page and the API.
    public func blockers(_ policy: ApprovalPolicy) -> [String] {
        var reasons: [String] = []
        if customerApprovalsMissing > 0 {
            let roles = policy.countedRoles.map(\.rawValue).joined(separator: " or ")
            reasons.append(
                "\(customerApprovalsMissing) more approval\(customerApprovalsMissing == 1 ? "" : "s") needed from \(roles) (not the requester)"
            )
        }
        if signoffMissing { reasons.append("the provider's sign-off is needed (platform_engineer or provider_admin)") }
        return reasons
    }
}

/// A decision the rules refuse, naming the rule; audited as a denial.
public struct ApprovalRefused: DomainError, Equatable {
    public enum Rule: String, Sendable {
        case selfApproval = "self_approval"
        case roleNotCounted = "role_not_counted"
        case alreadyDecided = "already_decided"
        case signoffNotNeeded = "signoff_not_needed"
        case staffForCustomer = "staff_never_approve_for_the_customer"
        case secondFactorMissing = "second_factor_required"
    }

    public let rule: Rule
    public let message: String
    public var refusal: Refusal {
        switch rule {
        case .alreadyDecided: .conflict
        case .secondFactorMissing: .forbidden
        default: .invalid
        }
    }
    public var detail: String? { message }
    public var fieldErrors: [FieldError] { [FieldError(field: "decision", detail: "\(rule.rawValue): \(message)")] }
}

public enum ApprovalRules {
    /// Whether `decision` counts now, or why not.
    static func discount(
        _ decision: ApprovalDecision, policy: ApprovalPolicy, requester: UUID, currentVersion: Int, now: Date
    ) -> String? {
        if decision.approver == requester { return "the requester cannot approve their own deployment" }
        if policy.resetOnChange && decision.deploymentVersion != currentVersion {
            return "given for version \(decision.deploymentVersion); the deployment changed since (now \(currentVersion))"
        }
        if now.timeIntervalSince(decision.at) > policy.validity {
            return "expired: approvals count for \(DisplayTime.duration(policy.validity))"
        }
        if decision.kind == .customer, !(CustomerRole(rawValue: decision.role).map(policy.counts) ?? false) {
            return "the role \(decision.role) does not count under this environment's policy"
        }
        if decision.kind == .providerSignoff, StaffRole(rawValue: decision.role) == nil {
            return "a sign-off comes from the provider's staff"
        }
        return nil
    }

    /// Reads every decision (oldest first) against `policy`.
    public static func evaluate(
        _ decisions: [ApprovalDecision], policy: ApprovalPolicy, requester: UUID, currentVersion: Int, now: Date
    ) -> ApprovalStatus {
        var status = ApprovalStatus()
        var seen = Set<UUID>()
        for decision in decisions where decision.verdict == .approve {
            if let why = discount(decision, policy: policy, requester: requester, currentVersion: currentVersion, now: now) {
                status.discounted.append(.init(decision: decision, why: why))
                continue
            }
            switch decision.kind {
            case .customer:
                // One person, one approval, however often they approve.
                if seen.insert(decision.approver).inserted { status.counted.append(decision) }
            case .providerSignoff:
                if policy.providerSignoff, status.signoff == nil { status.signoff = decision }
            }
        }
        status.customerApprovalsMissing = max(0, policy.requiredApprovals - status.counted.count)
        status.signoffMissing = policy.providerSignoff && status.signoff == nil
        return status
    }

    /// Refuses a decision the rules do not take, before it is recorded: the requester's own, a
    /// customer role the policy does not count, a second one by the same person on the same
    /// version, a sign-off the policy does not ask for, or a staff member deciding for the customer.
    public static func check(
        _ candidate: ApprovalDecision, policy: ApprovalPolicy, requester: UUID, existing: [ApprovalDecision],
        currentVersion: Int, now: Date
    ) throws {
        if candidate.approver == requester {
            throw ApprovalRefused(rule: .selfApproval, message: "the requester cannot approve or reject their own deployment")
        }
        switch candidate.kind {
        case .customer:
            guard let role = CustomerRole(rawValue: candidate.role) else {
                throw ApprovalRefused(
                    rule: .staffForCustomer, message: "staff never approve for the customer; the provider signs off instead")
            }
            if candidate.verdict == .approve && !policy.counts(role) {
                throw ApprovalRefused(
                    rule: .roleNotCounted,
                    message: "this environment's policy counts approvals from "
                        + policy.countedRoles.map(\.rawValue).joined(separator: " or ") + ", not \(role.rawValue)")
            }
        case .providerSignoff:
            if !policy.providerSignoff && candidate.verdict == .approve {
                throw ApprovalRefused(rule: .signoffNotNeeded, message: "this environment's policy asks for no provider sign-off")
            }
        }
        let still = existing.filter {
            $0.approver == candidate.approver && $0.kind == candidate.kind
                && discount($0, policy: policy, requester: requester, currentVersion: currentVersion, now: now) == nil
        }
        if !still.isEmpty {
            throw ApprovalRefused(rule: .alreadyDecided, message: "you already decided on this version of the deployment")
        }
    }
}
