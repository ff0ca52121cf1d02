// What a notification says, whatever the channel: an event name, a subject, plain text, a link,
// and for PagerDuty a severity, an action and the key that ties trigger, acknowledge and resolve.
import Foundation

public struct NotificationMessage: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable { case info, warning, error, critical }
    public enum Action: String, Codable, Sendable { case trigger, acknowledge, resolve }

    public var event: String
    public var subject: String
    public var text: String
    public var url: String?
    public var severity: Severity
    public var action: Action
    /// Ties PagerDuty's trigger, acknowledge and resolve of one incident; also the webhook's event id.
    public var dedupKey: String
    /// Sent because the person chose this event (so the email offers List-Unsubscribe), rather
    /// than mail they must get (an invitation).
    public var chosen = false

    public init(
        event: String, subject: String, text: String, url: String? = nil, severity: Severity = .info,
        action: Action = .trigger, dedupKey: String? = nil
    ) {
        self.event = event
        self.subject = subject
        self.text = text
        self.url = url
        self.severity = severity
        self.action = action
        // Only unique, never ordered: a random one needs no time of day.
        self.dedupKey = dedupKey ?? UUID().postgresText
    }
}

/// The events people and channels can subscribe to.
public enum NotificationEvents {
    public static let catalogue: [(name: String, description: String)] = [
        ("request.created", "A service request was filed"),
        ("request.updated", "A service request changed state or got a reply"),
        ("sla.at_risk", "An SLA target is about to be missed"),
        ("sla.breached", "An SLA target was missed"),
        ("deployment.approval_needed", "A deployment waits for approval"),
        ("deployment.finished", "A deployment finished or rolled back"),
        ("deployment.rolled_back", "A rollout rolled back by itself, or was aborted, and what decided it"),
        ("access.requested", "Someone asked for access"),
        ("access.granted", "An access request was approved and its grant is active"),
        ("access.denied", "An access request was denied"),
        ("access.revoked", "An access grant was ended early"),
        ("access.expired", "An access grant reached its end"),
        ("access.break_glass", "Someone broke glass: emergency access without approval"),
        ("host.down", "A GPU host stopped answering Purser's health checks"),
        ("cost.budget_exceeded", "A budget was exceeded"),
        ("cost.budget_threshold", "A budget reached one of its thresholds (the level is in the subject)"),
        ("cost.anomaly", "An hour of spend stood well above its usual level"),
        ("cost.monthly_review", "Last month's cost review is ready"),
        ("report.weekly", "Last week's report (usage, performance, incidents, SLA) is ready"),
        ("slo.burn_rate", "An endpoint is using its month's error budget fast (fast or slow burn-rate alert)"),
        ("incident.opened", "An incident was opened (by an alert, a probe, a cost anomaly or a person)"),
        ("incident.escalated", "An incident stayed unacknowledged and went to the next escalation level"),
        ("incident.acknowledged", "Someone acknowledged an incident"),
        ("incident.resolved", "An incident was resolved"),
        ("membership.invited", "Someone was invited"),
        ("test", "A test sent from the notifications page"),
    ]

    public static func isKnown(_ name: String) -> Bool { name == "*" || catalogue.contains { $0.name == name } }
}
