// What an incident tells people, through the outbox in the change's own transaction: opened (to
// the tenant's channels subscribed to incident.opened, the first escalation level and the
// commander), escalated (a level's people and channels), acknowledged and resolved. One message per
// incident, never per alert. PagerDuty's dedup key is the incident's id, so its trigger,
// acknowledge and resolve act on one PagerDuty incident.
import Foundation
import Postgres

public struct IncidentNotices: Sendable {
    /// Purser's public address, for the links in messages.
    let publicURL: String

    public init(publicURL: String) { self.publicURL = publicURL }

    func slug(_ tx: Connection, tenant: UUID) throws -> String {
        try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0)
    }

    private func message(
        _ event: String, _ incident: Incident, slug: String, subject: String, text: String, action: NotificationMessage.Action
    ) -> NotificationMessage {
        // Paging messages link to the acknowledgement page (a GET only shows the confirmation).
        let link = action == .trigger ? SiteURL.incidentAcknowledge(slug, id: incident.id) : SiteURL.incident(slug, id: incident.id)
        return NotificationMessage(
            event: event, subject: subject, text: text, url: link.absolute(on: publicURL),
            severity: incident.severity.notificationSeverity, action: action, dedupKey: incident.id.postgresText)
    }

    func opened(_ tx: Connection, _ incident: Incident, tenant: UUID, people: [UUID], channels: [UUID], at now: Date) throws {
        let slug = try slug(tx, tenant: tenant)
        try send(
            tx, tenant: tenant,
            message(
                "incident.opened", incident, slug: slug, subject: "[\(incident.severity.rawValue)] Incident: \(incident.title)",
                text: "\(incident.severity.rawValue) incident \(incident.requestNumber) opened"
                    + (incident.service.isEmpty ? "" : " for \(incident.service)") + ". Acknowledge it to stop escalation.",
                action: .trigger), people: people, channels: channels, at: now)
    }

    /// The channels subscribed to the message's event and the people who want it, and `channels`
    /// (an escalation level's own) whatever they subscribe to — each destination once.
    private func send(
        _ tx: Connection, tenant: UUID, _ note: NotificationMessage, people: [UUID], channels: [UUID], at now: Date
    ) throws {
        var destinations = try Outbox.destinations(tx, tenant: tenant, event: note.event, people: people)
        let subscribed = Set(destinations.compactMap(\.channel))
        if !channels.isEmpty {
            for row in try tx.query(
                "SELECT id, kind, target FROM notification_channels WHERE tenant_id = $1 AND enabled AND id = ANY($2::uuid[])",
                [tenant, channels])
            {
                let id: UUID = try row.require(0)
                if subscribed.contains(id) { continue }
                destinations.append(Outbox.Destination(channel: id, kind: try row.require(1), address: try row.require(2), chosen: false))
            }
        }
        try Outbox.deliver(tx, tenant: tenant, message: note, to: destinations, at: now)
    }

    /// Level `level` of the escalation policy: its people (by e-mail, and subscribed channels) and its own channels.
    func escalated(_ tx: Connection, _ incident: Incident, tenant: UUID, level: Int, people: [UUID], channels: [UUID], at now: Date) throws
    {
        let slug = try slug(tx, tenant: tenant)
        let note = message(
            "incident.escalated", incident, slug: slug,
            subject: "[\(incident.severity.rawValue)] Unacknowledged incident (level \(level)): \(incident.title)",
            text:
                "\(incident.requestNumber) has not been acknowledged since \(RFC3339.string(incident.openedAt)); escalated to level \(level).",
            action: .trigger)
        try send(tx, tenant: tenant, note, people: people, channels: channels, at: now)
    }

    func acknowledged(_ tx: Connection, _ incident: Incident, tenant: UUID, by name: String, people: [UUID], at now: Date) throws {
        try Outbox.notify(
            tx, tenant: tenant,
            message: message(
                "incident.acknowledged", incident, slug: try slug(tx, tenant: tenant),
                subject: "Acknowledged: \(incident.title)", text: "\(name) acknowledged \(incident.requestNumber).", action: .acknowledge),
            people: people, at: now)
    }

    func resolved(_ tx: Connection, _ incident: Incident, tenant: UUID, people: [UUID], at now: Date) throws {
        try Outbox.notify(
            tx, tenant: tenant,
            message: message(
                "incident.resolved", incident, slug: try slug(tx, tenant: tenant), subject: "Resolved: \(incident.title)",
                text: "\(incident.requestNumber) is resolved.", action: .resolve), people: people, at: now)
    }
}
