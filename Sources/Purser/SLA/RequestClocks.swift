// The SLA clocks of one request and how the request's life moves them. Every rule is here, on
// plain values, so that it can be tested without a database:
// - filing starts first response and resolution (and, for a deployment, the deployment clock);
// - the first public reply by staff stops first response;
// - waiting on the customer pauses every running clock; their answer (back to open) resumes them;
// - resolved stops resolution and deployment (and first response, if nobody replied); closed stops
//   all; reopening restarts resolution and deployment with the time already used still counted;
// - a priority change re-targets first response and resolution: working time already used keeps
//   counting, against the new priority's target in the new target's calendar;
// - a deployment waiting on the customer's own approvers pauses the deployment clock alone (the
//   provider's sign-off does not); reaching live stops it without resolving the request.
// Due and warning times are kept with each clock so that jobs can be scheduled at them.
import Foundation

public enum SLAClockKind: String, Sendable, CaseIterable, Codable {
    case firstResponse = "first_response"
    case resolution
    case deployment

    public var label: String {
        switch self {
        case .firstResponse: "First response"
        case .resolution: "Resolution"
        case .deployment: "Deployment live"
        }
    }
}

public struct RequestClock: Sendable, Equatable {
    public var clock: SLAClock
    /// Counts working time of the policy's calendar (otherwise every second).
    public var isBusiness: Bool
    public var dueAt: Date?
    public var warningAt: Date?
    public var warnedAt: Date?
    /// When the target was passed; stays once set (a breach is a fact, whatever happens next).
    public var breachedAt: Date?

    public var state: SLAClock.State { clock.state }
}

extension RequestClock: Codable {
    // Instants as seconds since 1970, so that SQL (reports) reads them with to_timestamp().
    enum CodingKeys: String, CodingKey {
        case target, used, state, since, business, dueAt = "due_at", warningAt = "warning_at", warnedAt = "warned_at"
        case breachedAt = "breached_at"
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        func date(_ key: CodingKeys) throws -> Date? {
            try values.decodeIfPresent(Double.self, forKey: key).map { Date(timeIntervalSince1970: $0) }
        }
        clock = SLAClock(
            target: try values.decode(Double.self, forKey: .target), used: try values.decode(Double.self, forKey: .used),
            state: try values.decode(SLAClock.State.self, forKey: .state),
            since: try date(.since) ?? Date(timeIntervalSince1970: 0))
        isBusiness = try values.decode(Bool.self, forKey: .business)
        dueAt = try date(.dueAt)
        warningAt = try date(.warningAt)
        warnedAt = try date(.warnedAt)
        breachedAt = try date(.breachedAt)
    }

    public func encode(to encoder: Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(clock.target, forKey: .target)
        try values.encode(clock.used, forKey: .used)
        try values.encode(clock.state, forKey: .state)
        try values.encode(clock.since.timeIntervalSince1970, forKey: .since)
        try values.encode(isBusiness, forKey: .business)
        try values.encodeIfPresent(dueAt?.timeIntervalSince1970, forKey: .dueAt)
        try values.encodeIfPresent(warningAt?.timeIntervalSince1970, forKey: .warningAt)
        try values.encodeIfPresent(warnedAt?.timeIntervalSince1970, forKey: .warnedAt)
        try values.encodeIfPresent(breachedAt?.timeIntervalSince1970, forKey: .breachedAt)
    }
}

public struct RequestClocks: Sendable, Equatable {
    public var clocks: [SLAClockKind: RequestClock] = [:]

    public init(clocks: [SLAClockKind: RequestClock] = [:]) { self.clocks = clocks }

    public subscript(kind: SLAClockKind) -> RequestClock? { clocks[kind] }

    /// The clocks of a request filed at `date`.
    public static func filed(type: String, priority: String, at date: Date, policy: SLAPolicy) -> RequestClocks {
        let targets = policy.targets(for: priority)
        var started = RequestClocks()
        func start(_ kind: SLAClockKind, _ target: SLATarget) {
            let calendar = policy.calendar(for: target)
            started.clocks[kind] = RequestClock(
                clock: SLAClock(target: target.seconds(from: date, calendar: calendar), startedAt: date),
                isBusiness: target.isBusiness)
        }
        start(.firstResponse, targets.firstResponse)
        start(.resolution, targets.resolution)
        if type == RequestType.deployment.rawValue { start(.deployment, policy.deployment) }
        started.refresh(policy: policy)
        return started
    }

    private mutating func each(
        _ kinds: [SLAClockKind] = SLAClockKind.allCases, policy: SLAPolicy,
        _ change: (inout RequestClock, BusinessCalendar) -> Void
    ) {
        for kind in kinds where clocks[kind] != nil {
            let calendar = clocks[kind]!.isBusiness ? policy.calendar : .aroundTheClock
            change(&clocks[kind]!, calendar)
        }
        refresh(policy: policy)
    }

    /// The request moved from `from` to `to` at `date`.
    public mutating func moved(from: String, to: String, at date: Date, policy: SLAPolicy) {
        switch (RequestState(rawValue: from), RequestState(rawValue: to)) {
        case (_, .pendingCustomer):
            each(policy: policy) { clock, calendar in clock.clock.pause(at: date, calendar: calendar) }
        case (.pendingCustomer, .open), (.pendingCustomer, .new):
            each(policy: policy) { clock, _ in clock.clock.resume(at: date) }
        case (_, .resolved), (_, .closed):
            each(policy: policy) { clock, calendar in clock.clock.stop(at: date, calendar: calendar) }
        case (.resolved, .open), (.closed, .open):
            each([.resolution, .deployment], policy: policy) { clock, _ in clock.clock.restart(at: date) }
        default:
            break
        }
    }

    /// Staff replied publicly: the first response is given.
    public mutating func responded(at date: Date, policy: SLAPolicy) {
        each([.firstResponse], policy: policy) { clock, calendar in
            if clock.clock.state == .paused { clock.clock.resume(at: date) }
            clock.clock.stop(at: date, calendar: calendar)
        }
    }

    /// The linked deployment began (`true`) or stopped (`false`) waiting on the customer's own
    /// approvers: only the deployment clock pauses or resumes, and only from running or paused.
    public mutating func awaitingApprovers(_ waiting: Bool, at date: Date, policy: SLAPolicy) {
        each([.deployment], policy: policy) { clock, calendar in
            if waiting && clock.clock.state == .running { clock.clock.pause(at: date, calendar: calendar) }
            if !waiting && clock.clock.state == .paused { clock.clock.resume(at: date) }
        }
    }

    /// The linked deployment went live: the deployment clock stops (met or missed as it stands);
    /// the request stays open for its conversation and resolution.
    public mutating func deploymentLive(at date: Date, policy: SLAPolicy) {
        each([.deployment], policy: policy) { clock, calendar in
            if clock.clock.state == .paused { clock.clock.resume(at: date) }
            clock.clock.stop(at: date, calendar: calendar)
        }
    }

    /// The priority changed to `priority`; `filedAt` anchors business-day targets.
    public mutating func retarget(priority: String, filedAt: Date, policy: SLAPolicy) {
        let targets = policy.targets(for: priority)
        for (kind, target) in [(SLAClockKind.firstResponse, targets.firstResponse), (.resolution, targets.resolution)]
        where clocks[kind] != nil && clocks[kind]!.state != .stopped {
            clocks[kind]!.clock.retarget(target.seconds(from: filedAt, calendar: policy.calendar(for: target)))
            clocks[kind]!.isBusiness = target.isBusiness
            // A new, later warning point may come again; one already passed is not repeated.
            clocks[kind]!.warnedAt = nil
        }
        refresh(policy: policy)
    }

    /// Recomputes due and warning times of running clocks (nil for paused and stopped ones).
    public mutating func refresh(policy: SLAPolicy) {
        for kind in clocks.keys {
            var clock = clocks[kind]!
            let calendar = clock.isBusiness ? policy.calendar : .aroundTheClock
            clock.dueAt = clock.clock.due(calendar: calendar)
            clock.warningAt = clock.clock.warning(share: policy.warningShare, calendar: calendar)
            clocks[kind] = clock
        }
    }

    /// The warnings and breaches due at `date`, in the order they happened; marks them fired.
    public mutating func fire(at date: Date) -> [(kind: SLAClockKind, event: SLAEvent, dueAt: Date)] {
        var fired: [(kind: SLAClockKind, event: SLAEvent, dueAt: Date)] = []
        for kind in SLAClockKind.allCases {
            guard var clock = clocks[kind], clock.state == .running, let due = clock.dueAt else { continue }
            if clock.breachedAt == nil && due <= date {
                clock.breachedAt = due
                clock.warnedAt = clock.warnedAt ?? date
                fired.append((kind, .breach, due))
            } else if clock.warnedAt == nil, let warning = clock.warningAt, warning <= date {
                clock.warnedAt = date
                fired.append((kind, .warning, due))
            }
            clocks[kind] = clock
        }
        return fired
    }

    /// When the next warning or breach is due; nil when none is pending.
    public var nextEvent: Date? {
        clocks.values.filter { $0.state == .running }.flatMap { clock -> [Date] in
            var times: [Date] = []
            if clock.warnedAt == nil, clock.breachedAt == nil, let warning = clock.warningAt { times.append(warning) }
            if clock.breachedAt == nil, let due = clock.dueAt { times.append(due) }
            return times
        }.min()
    }

    /// The earliest due time of a running clock (overdue ones are earliest): the queue sorts by it.
    public var earliestDue: Date? { clocks.values.compactMap { $0.state == .running ? $0.dueAt : nil }.min() }

    public var isBreached: Bool { clocks.values.contains { $0.breachedAt != nil } }
}

public enum SLAEvent: String, Sendable { case warning, breach }

extension RequestClocks: Codable {
    public init(from decoder: Decoder) throws {
        let stored = try [String: RequestClock](from: decoder)
        clocks = Dictionary(uniqueKeysWithValues: stored.compactMap { key, value in SLAClockKind(rawValue: key).map { ($0, value) } })
    }

    public func encode(to encoder: Encoder) throws {
        try Dictionary(uniqueKeysWithValues: clocks.map { ($0.key.rawValue, $0.value) }).encode(to: encoder)
    }
}
