// The rules of just-in-time access as pure functions of values (no database, no clock of their
// own): whether a person may ask under a policy for this long, from this start, with this link;
// how many approvals each side owes; what one more decision makes of an access request; when the
// grant's window opens and closes; whether someone may break glass. The store reads the rows and
// the clock, asks these, and writes what they answer; AccessRulesTests holds each rule to a table.
import Foundation
import struct HTTPServer.FieldError

/// A state of an access request.
public enum AccessRequestState: String, Sendable, Codable, CaseIterable {
    case pending, approved, denied, withdrawn, lapsed
}

/// A state of a grant. An `active` grant past its end is over whatever its row says: the
/// window is what is enforced, the state only records.
public enum AccessGrantState: String, Sendable, Codable, CaseIterable {
    case active, expired, revoked
}

/// Whose approval a decision counts as: the customer's (access.approve in the tenant) or the
/// provider's (access.approve_provider).
public enum ApprovalSide: String, Sendable, Codable, CaseIterable {
    case customer, provider
}

/// Someone asking or deciding, as the rules see them.
public struct AccessPerson: Sendable, Equatable {
    public let user: UUID
    public let customerRole: CustomerRole?
    public let staffRole: StaffRole?
    public let hasSecondFactor: Bool

    public init(user: UUID, customerRole: CustomerRole?, staffRole: StaffRole?, hasSecondFactor: Bool = false) {
        self.user = user
        self.customerRole = customerRole
        self.staffRole = staffRole
        self.hasSecondFactor = hasSecondFactor
    }

    /// Their role names (the tenant's role and any staff role).
    public var roles: Set<String> { Set([customerRole?.rawValue, staffRole?.rawValue].compactMap { $0 }) }
    var isStaff: Bool { staffRole != nil }
    var permissions: Set<Permission> {
        (customerRole?.permissions ?? []).union(staffRole?.permissions ?? [])
    }
}

/// The service request an access request names, as the rules need it.
public struct LinkedRequest: Sendable, Equatable {
    public let type: String
    public let state: String

    public init(type: String, state: String) {
        self.type = type
        self.state = state
    }
}

/// One decision already made on an access request.
public struct AccessDecision: Sendable, Equatable {
    public let approver: UUID
    public let side: ApprovalSide
    public let approve: Bool

    public init(approver: UUID, side: ApprovalSide, approve: Bool) {
        self.approver = approver
        self.side = side
        self.approve = approve
    }
}

/// Approvals owed by each side.
public struct ApprovalNeeds: Sendable, Equatable {
    public let customer: Int
    public let provider: Int

    public init(customer: Int, provider: Int) {
        self.customer = customer
        self.provider = provider
    }
}

/// What an access request is after a decision.
public enum AccessOutcome: Sendable, Equatable {
    /// Still waiting: approvals each side still owes.
    case pending(ApprovalNeeds)
    case approved
    case denied
}

/// A refusal of the access rules: who may not do what, and why, in words for the person.
public struct AccessRefused: DomainError, Equatable {
    public let detail: String?
    public let refusal: Refusal
    /// A short name of the rule, recorded with the audited denial.
    public let rule: String

    public init(_ rule: String, _ detail: String, refusal: Refusal = .forbidden) {
        self.rule = rule
        self.detail = detail
        self.refusal = refusal
    }

    public var headline: String? { "Access refused" }
}

public enum AccessRules {
    /// Staff roles: a customer is never elevated to one.
    static let staffRoles = Set(StaffRole.allCases.map(\.rawValue))
    /// The longest anyone may wait between asking and the start they choose.
    static let longestLeadTime: TimeInterval = 30 * 86400

    /// Checks an ordinary access request (not break-glass) against its policy at `now`, in the
    /// tenant's business `calendar`. Throws AccessRefused (who may not) or ValidationError (a value).
    /// An extension's window runs from its grant's end, so AccessExtension checks its business hours.
    public static func checkAsk(
        policy: AccessPolicy, asker: AccessPerson, durationSeconds: Int, start: Date?, reason: String, link: LinkedRequest?,
        now: Date, calendar: BusinessCalendar, extending: Bool = false
    ) throws {
        try checkAsker(policy: policy, asker: asker, roles: policy.requesterRoles, what: "ask for")
        var errors: [FieldError] = []
        if let problem = reasonProblem(reason) { errors.append(problem) }
        if durationSeconds < 60 || durationSeconds > policy.maxSeconds {
            errors.append(
                FieldError(
                    field: "duration_seconds",
                    detail: "choose 60 seconds to \(policy.maxSeconds) seconds (\(Self.words(policy.maxSeconds)), the policy's maximum)"))
        }
        if let start, start < now.addingTimeInterval(-60) || start > now.addingTimeInterval(longestLeadTime) {
            errors.append(FieldError(field: "start", detail: "choose a start from now to 30 days ahead"))
        }
        // The whole window, not only its start: from the start (or now, when it opens at approval).
        if policy.businessHoursOnly, !extending, durationSeconds >= 60,
            let problem = AccessBusinessHours.problem(start: start ?? now, seconds: durationSeconds, calendar: calendar)
        {
            errors.append(problem)
        }
        if let problem = linkProblem(policy.linkRequired, link) { errors.append(problem) }
        if !errors.isEmpty { throw ValidationError(errors) }
    }

    /// Checks a break-glass self-grant: a designated role, a reason, the short maximum, and no
    /// earlier break-glass of the same person still unreviewed.
    public static func checkBreakGlass(
        policy: AccessPolicy, asker: AccessPerson, durationSeconds: Int, reason: String, hasUnreviewedBreakGlass: Bool
    ) throws {
        guard !policy.breakGlassRoles.isEmpty else {
            throw AccessRefused("break_glass_not_allowed", "The policy \(policy.name) allows no break-glass.")
        }
        // The provider's pool is never opened on a customer's say alone, not even in an emergency.
        if policy.hostSource == .pool && !asker.isStaff {
            throw AccessRefused("break_glass_pool", "Break-glass on the provider's pool hosts is for the provider's staff only.")
        }
        try checkAsker(policy: policy, asker: asker, roles: policy.breakGlassRoles, what: "break glass for")
        if hasUnreviewedBreakGlass {
            throw AccessRefused(
                "break_glass_unreviewed",
                "Your last break-glass has not been reviewed yet: someone else must resolve its review request first.",
                refusal: .conflict)
        }
        var errors: [FieldError] = []
        if let problem = reasonProblem(reason) { errors.append(problem) }
        if durationSeconds < 60 || durationSeconds > policy.breakGlassMaxSeconds {
            errors.append(
                FieldError(
                    field: "duration_seconds",
                    detail:
                        "break-glass lasts 60 seconds to \(policy.breakGlassMaxSeconds) seconds (\(Self.words(policy.breakGlassMaxSeconds)))"
                ))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
    }

    /// Who may ask: an enabled policy, a role it names, a role (for elevation) they may hold.
    static func checkAsker(policy: AccessPolicy, asker: AccessPerson, roles: Set<String>, what: String) throws {
        guard policy.archivedAt == nil else { throw AccessRefused("policy_archived", "The policy \(policy.name) is archived.") }
        guard policy.enabled else { throw AccessRefused("policy_disabled", "The policy \(policy.name) is turned off.") }
        guard asker.permissions.contains(.accessRequest) else {
            throw AccessRefused("no_access_request", "You need the permission access.request to ask for access.")
        }
        guard !asker.roles.isDisjoint(with: roles) else {
            throw AccessRefused(
                "role_not_allowed",
                "The policy \(policy.name) lets \(roles.sorted().joined(separator: ", ")) \(what) \(policy.target); you are \(asker.roles.sorted().joined(separator: ", "))."
            )
        }
        if policy.kind == .role, let role = policy.role {
            if staffRoles.contains(role) && !asker.isStaff {
                throw AccessRefused("customer_to_staff", "A customer is never elevated to a staff role.")
            }
            if role == CustomerRole.tenantAdmin.rawValue && !asker.hasSecondFactor {
                throw AccessRefused("second_factor_required", "Elevation to tenant_admin needs a second factor: set one up first.")
            }
        }
    }

    static func reasonProblem(_ reason: String) -> FieldError? {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.value == 0 }) else {
            return FieldError(field: "reason", detail: "say why, in 1–2000 characters")
        }
        return nil
    }

    static func linkProblem(_ requirement: LinkRequirement, _ link: LinkedRequest?) -> FieldError? {
        if let link {
            guard link.type == "access" || link.type == "incident" else {
                return FieldError(field: "linked_request", detail: "link a service request of type access or incident")
            }
            guard link.state != "closed" else { return FieldError(field: "linked_request", detail: "the linked request is closed") }
            if requirement == .incident && link.type != "incident" {
                return FieldError(field: "linked_request", detail: "this policy needs an incident")
            }
            return nil
        }
        switch requirement {
        case .none: return nil
        case .request: return FieldError(field: "linked_request", detail: "this policy needs a linked service request (access or incident)")
        case .incident: return FieldError(field: "linked_request", detail: "this policy needs a linked incident")
        }
    }

    /// Approvals owed by each side. When staff ask, the customer's side always owes at least one:
    /// a provider engineer never reaches a customer's host (or role) on the provider's say alone.
    /// The mirror for what is the provider's: the hosts of its shared pool, and its staff roles
    /// (a staff role carries provider permissions such as providers.manage into the tenant), so
    /// the provider's side always owes at least one there, and a tenant never gives either on its
    /// own say.
    public static func needs(policy: AccessPolicy, requesterIsStaff: Bool) -> ApprovalNeeds {
        ApprovalNeeds(
            customer: max(policy.customerApprovals, requesterIsStaff ? 1 : 0),
            provider: max(policy.providerApprovals, grantsWhatIsTheProviders(policy) ? 1 : 0))
    }

    static func grantsWhatIsTheProviders(_ policy: AccessPolicy) -> Bool {
        switch policy.kind {
        case .ssh: policy.hostSource == .pool
        case .role: policy.role.map(staffRoles.contains) ?? false
        }
    }

    /// The side `approver` decides for, or nil when they may decide for neither: the customer's
    /// side needs access.approve in the tenant and a role the policy names; the provider's
    /// access.approve_provider. Someone who could decide for both counts where approvals are owed.
    public static func side(of approver: AccessPerson, policy: AccessPolicy, owed: ApprovalNeeds) -> ApprovalSide? {
        let customer =
            approver.customerRole.map { policy.approverRoles.contains($0.rawValue) && $0.permissions.contains(.accessApprove) } ?? false
        let provider = approver.staffRole?.permissions.contains(.accessApproveProvider) ?? false
        switch (customer, provider) {
        case (true, true): return owed.customer > 0 || owed.provider == 0 ? .customer : .provider
        case (true, false): return .customer
        case (false, true): return .provider
        case (false, false): return nil
        }
    }

    /// Approvals still owed after `decisions`.
    public static func owed(_ needs: ApprovalNeeds, after decisions: [AccessDecision]) -> ApprovalNeeds {
        let approvals = decisions.filter(\.approve)
        return ApprovalNeeds(
            customer: max(0, needs.customer - approvals.filter { $0.side == .customer }.count),
            provider: max(0, needs.provider - approvals.filter { $0.side == .provider }.count))
    }

    /// What one more decision by `approver` makes of an access request of `requester` in `state`,
    /// with `decisions` already made. One denial ends it; the last approval owed approves it.
    public static func decide(
        state: AccessRequestState, requester: UUID, approver: AccessPerson, approve: Bool, reason: String, policy: AccessPolicy,
        needs: ApprovalNeeds, decisions: [AccessDecision]
    ) throws -> (side: ApprovalSide, outcome: AccessOutcome) {
        switch state {
        case .pending: break
        case .withdrawn:
            throw AccessRefused("withdrawn", "The access request was withdrawn; there is nothing to decide.", refusal: .conflict)
        case .lapsed: throw AccessRefused("lapsed", "The access request lapsed unapproved; ask again.", refusal: .conflict)
        case .approved, .denied:
            throw AccessRefused("decided", "The access request was already \(state.rawValue).", refusal: .conflict)
        }
        guard approver.user != requester else {
            throw AccessRefused("self_approval", "Nobody approves their own access request.")
        }
        guard !decisions.contains(where: { $0.approver == approver.user }) else {
            throw AccessRefused("already_decided", "You have already decided on this access request.", refusal: .conflict)
        }
        let before = owed(needs, after: decisions)
        guard let side = side(of: approver, policy: policy, owed: before) else {
            throw AccessRefused(
                "not_an_approver",
                "You cannot decide on this access request: the policy \(policy.name) takes approvals from "
                    + policy.approverRoles.sorted().joined(separator: ", ")
                    + (needs.provider > 0 ? " and the provider's access.approve_provider" : ""))
        }
        if !approve {
            if reasonProblem(reason) != nil { throw ValidationError(field: "reason", "say why you deny it, in 1–2000 characters") }
            return (side, .denied)
        }
        // Archiving or turning off a policy stops what was asked under it too, not only new asks.
        if policy.archivedAt != nil {
            throw AccessRefused(
                "policy_archived", "The policy \(policy.name) was archived after this was asked: it grants nothing more; deny it.",
                refusal: .conflict)
        }
        if !policy.enabled {
            throw AccessRefused(
                "policy_disabled", "The policy \(policy.name) is turned off: turn it on again to approve this, or deny it.",
                refusal: .conflict)
        }
        // An approval from a side that owes nothing more adds nothing: refused, so the approver knows.
        if (side == .customer ? before.customer : before.provider) == 0 {
            throw AccessRefused(
                "side_complete", "The \(side.rawValue)'s approvals are complete; the access request waits for the other side.",
                refusal: .conflict)
        }
        let after = owed(needs, after: decisions + [AccessDecision(approver: approver.user, side: side, approve: true)])
        return (side, after.customer == 0 && after.provider == 0 ? .approved : .pending(after))
    }

    /// The grant's window: from the approval, or the start the requester chose if later — never
    /// from the moment they asked — for the duration asked.
    /// The start is cut to the whole millisecond: stored to the microsecond, it must never read
    /// back later than the moment it was approved at.
    public static func window(approvedAt: Date, requestedStart: Date?, durationSeconds: Int) -> (start: Date, end: Date) {
        let chosen = max(approvedAt, requestedStart ?? approvedAt)
        let start = Date(timeIntervalSince1970: (chosen.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        return (start, start.addingTimeInterval(TimeInterval(durationSeconds)))
    }

    /// "2 h 30 min", "45 min", "30 s".
    public static func words(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        let (days, hours, minutes) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60)
        return [days > 0 ? "\(days) d" : nil, hours > 0 ? "\(hours) h" : nil, minutes > 0 ? "\(minutes) min" : nil]
            .compactMap { $0 }.joined(separator: " ")
    }
}
