// The life of a deployment. People move it until it is approved (file → pending approval →
// approved, or rejected) and by the actions below; the reconciler (`deployment.reconcile`) moves it
// from approved on, one transition per run: approved → provisioning → rolling out step k of n →
// promoting → live, or rolling back → rolled back (aborted when an abort started it), or failed.
import Foundation

public enum DeploymentState: String, Sendable, Codable, CaseIterable {
    case pendingApproval = "pending_approval"
    case approved
    case provisioning
    /// At step `current_step` of the deployment's steps (a traffic percentage), baking.
    case rollingOut = "rolling_out"
    /// All traffic moves to the new version; the old variant is removed.
    case promoting
    case live
    /// Held by a person (or by a provider outage); `paused_from` is where resume returns.
    case paused
    case rollingBack = "rolling_back"
    case rolledBack = "rolled_back"
    case failed
    case aborted
    /// An approver refused it; nothing was provisioned.
    case rejected

    /// No further transition: the deployment's story is over.
    public var isFinished: Bool { [.live, .rolledBack, .failed, .aborted, .rejected].contains(self) }

    /// A rollout holds its endpoint (the partial unique index deployments_one_active_per_endpoint).
    public var isActive: Bool { [.approved, .provisioning, .rollingOut, .promoting, .paused, .rollingBack].contains(self) }

    /// Waiting for people rather than for the provider.
    public var awaitsApproval: Bool { self == .pendingApproval }

    /// What people may do from here (the API's `allowed` member when an action is refused).
    public var actions: [DeploymentAction] {
        switch self {
        case .pendingApproval: [.approve, .reject, .abort]
        case .approved: [.abort]
        case .provisioning: [.pause, .abort, .rollback]
        case .rollingOut: [.pause, .promote, .abort, .rollback]
        case .promoting: [.pause, .abort, .rollback]
        case .paused: [.resume, .promote, .abort, .rollback]
        case .live: [.rollback]
        case .rollingBack, .rolledBack, .failed, .aborted, .rejected: []
        }
    }

    /// The label with its article for messages: "an aborted", "a live".
    public var labelWithArticle: String { (label.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + label }

    /// The words pages use.
    public var label: String {
        switch self {
        case .pendingApproval: "pending approval"
        case .rollingOut: "rolling out"
        case .rollingBack: "rolling back"
        case .rolledBack: "rolled back"
        default: rawValue
        }
    }
}

/// What a person asks of a deployment. Approve and reject are decisions
/// (`POST …/approvals`); the others are `POST /api/v1/deployments/{id}/{action}`.
public enum DeploymentAction: String, Sendable, Codable, CaseIterable {
    case approve, reject, pause, resume, abort, promote, rollback

    /// The actions with a route of their own.
    public static let operations: [DeploymentAction] = [.pause, .resume, .abort, .promote, .rollback]

    /// The state the action sets, from `state` (resume returns to `pausedFrom`); nil when `state` does
    /// not allow it. Approve's result depends on the policy: the caller sets approved only when the
    /// policy is satisfied.
    public func target(from state: DeploymentState, pausedFrom: DeploymentState?) -> DeploymentState? {
        guard state.actions.contains(self) else { return nil }
        switch self {
        case .approve: return .approved
        case .reject: return .rejected
        case .pause: return .paused
        case .resume: return pausedFrom ?? .provisioning
        // Nothing is at the provider before provisioning: an abort ends it there. After, the
        // reconciler rolls back and checks nothing is left, then ends in aborted.
        case .abort: return state == .pendingApproval || state == .approved ? .aborted : .rollingBack
        case .promote: return .promoting
        case .rollback: return .rollingBack
        }
    }

    /// Whether the reconciler has work to do after the action.
    public var wakesReconciler: Bool { [.approve, .resume, .abort, .promote, .rollback].contains(self) }
}
