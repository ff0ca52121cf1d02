// An incident: its severity, its place in detected → triaged → mitigated → resolved → reviewed,
// and how each maps to the linked service request (docs/incidents.md writes the mapping down).
import Foundation

public enum IncidentState: String, Sendable, Codable, CaseIterable {
    case detected, triaged, mitigated, resolved, reviewed

    /// Where an incident may go from here: forward (skipping is allowed while it is open), a failed
    /// mitigation back to triaged, and a resolved incident reopened as triaged.
    public var next: [IncidentState] {
        switch self {
        case .detected: [.triaged, .mitigated, .resolved]
        case .triaged: [.mitigated, .resolved]
        case .mitigated: [.triaged, .resolved]
        case .resolved: [.triaged, .reviewed]
        case .reviewed: []
        }
    }

    /// Still being worked on: alerts join it, escalation runs, it can be acknowledged.
    public var isOpen: Bool { self == .detected || self == .triaged || self == .mitigated }

    /// The linked request's state: detected is a new request, triaged and mitigated are open (its
    /// resolution clock keeps running until the cause is fixed), resolved is resolved, reviewed closed.
    public var requestState: RequestState {
        switch self {
        case .detected: .new
        case .triaged, .mitigated: .open
        case .resolved: .resolved
        case .reviewed: .closed
        }
    }

    public static let openStates = [IncidentState.detected, .triaged, .mitigated].map(\.rawValue)
}

public enum IncidentSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case sev1 = "SEV1", sev2 = "SEV2", sev3 = "SEV3", sev4 = "SEV4"

    /// The linked request's priority: SEV1 is P1 (15 minutes to first response in the default policy).
    public var priority: RequestPriority {
        switch self {
        case .sev1: .p1
        case .sev2: .p2
        case .sev3: .p3
        case .sev4: .p4
        }
    }

    /// SEV1 and SEV2 need a postmortem before they are reviewed.
    public var needsPostmortem: Bool { self == .sev1 || self == .sev2 }

    /// For PagerDuty and chat: how loud the page is.
    public var notificationSeverity: NotificationMessage.Severity {
        switch self {
        case .sev1: .critical
        case .sev2: .error
        case .sev3: .warning
        case .sev4: .info
        }
    }

    /// Lower is more severe: SEV1 < SEV2.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A severity a person or client typed: SEV1–SEV4 in any case, spaces around ignored ("sev2").
    public static func parse(_ text: String) -> IncidentSeverity? {
        IncidentSeverity(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased())
    }

    /// An alert's `severity` label: SEV1–SEV4 (any case), or Prometheus' usual words — critical
    /// and page are SEV1, error and high SEV2, warning SEV3; anything else (info, none) SEV4.
    public static func fromLabel(_ label: String?) -> IncidentSeverity {
        let word = (label ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if let exact = IncidentSeverity(rawValue: word.uppercased()) { return exact }
        switch word {
        case "critical", "page", "p1", "disaster": return .sev1
        case "error", "high", "major", "p2": return .sev2
        case "warning", "warn", "medium", "minor", "p3": return .sev3
        default: return .sev4
        }
    }
}

public enum IncidentSource: String, Sendable, Codable, CaseIterable {
    case manual, alertmanager, probe, cost
}

public struct Incident: Sendable {
    public let id: UUID
    public let title: String
    public let service: String
    public let severity: IncidentSeverity
    public let state: IncidentState
    public let source: IncidentSource
    public let requestID: UUID
    /// The linked request's number (ACME-42) and state.
    public let requestNumber: String
    public let requestState: String
    public let commander: (id: UUID, name: String)?
    public let responders: [(id: UUID, name: String)]
    public let openedAt: Date
    public let acknowledgedAt: Date?
    public let acknowledgedBy: String?
    public let mitigatedAt: Date?
    public let resolvedAt: Date?
    public let reviewedAt: Date?
    public let escalationLevel: Int
    public let escalationJob: Int64?
    public let updatedAt: Date
    public let version: Int

    public var etag: String { "\"v\(version)\"" }
}
