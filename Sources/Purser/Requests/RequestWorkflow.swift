// The life of a service request: new → open → pending customer ↔ open → resolved → closed, and
// back from resolved to open within the reopen window. Any other move is refused, naming the
// moves that are allowed.
import Foundation

public enum RequestState: String, Sendable, Codable, CaseIterable {
    case new
    case open
    case pendingCustomer = "pending_customer"
    case resolved
    case closed

    /// Where a request may go from here.
    public var next: [RequestState] {
        switch self {
        case .new: [.open, .pendingCustomer, .resolved]
        case .open: [.pendingCustomer, .resolved]
        case .pendingCustomer: [.open, .resolved]
        case .resolved: [.open, .closed]
        case .closed: []
        }
    }
}

public enum RequestType: String, Sendable, Codable, CaseIterable {
    case deployment, access, incident, change, question
}

public enum RequestPriority: String, Sendable, Codable, CaseIterable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4"

    /// What each priority means, for the help text beside the form.
    public var meaning: String {
        switch self {
        case .p1: "Production is down or unusable for many people"
        case .p2: "Production is degraded; a workaround may exist"
        case .p3: "A problem with a workaround, or an urgent question"
        case .p4: "A question or a request with no time pressure"
        }
    }
}

public enum RequestWorkflow {
    /// Checks the move from `from` to `to`; a refused move is a 422 on `state` naming what is allowed.
    /// A resolved request may be reopened for `reopenDays` days (the tenant's service levels say how many) after
    /// `resolvedAt`, counted to `now`.
    public static func check(from: RequestState, to: RequestState, resolvedAt: Date?, reopenDays: Int = 14, now: Date) throws {
        guard from != to else { return }
        guard from.next.contains(to) else {
            let allowed = from.next.map(\.rawValue).joined(separator: ", ")
            throw ValidationError.transitionRefused(
                state: from.rawValue, allowed: from.next.map(\.rawValue),
                allowed.isEmpty
                    ? "a \(from.rawValue) request cannot change state"
                    : "\(from == .open ? "an" : "a") \(from.rawValue.replacingOccurrences(of: "_", with: " ")) request can become: \(allowed)"
            )
        }
        if from == .resolved && to == .open, let resolvedAt, now.timeIntervalSince(resolvedAt) > TimeInterval(reopenDays) * 86400 {
            throw ValidationError(field: "state", "the request was resolved more than \(reopenDays) days ago; file a new one")
        }
    }
}
