// What a request tells people, through the outbox in the change's own transaction: a new request
// to the tenant's channels subscribed to request.created and to its group; a public reply to the
// requester and watchers, a state change to the requester (by email, if they want it) and to
// channels subscribed to request.updated; SLA warnings and breaches to the people the check names
// and to channels subscribed to sla.at_risk / sla.breached. Internal notes tell no customer anything.
import Foundation
import Postgres

public struct RequestNotices: Sendable {
    /// Purser's public address, for the links back to the request page.
    let publicURL: String

    public init(publicURL: String) { self.publicURL = publicURL }

    func link(_ tx: Connection, tenant: UUID, number: String) throws -> String {
        link(slug: try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self), number: number)
    }

    func link(slug: String, number: String) -> String { SiteURL.request(slug, number: number).absolute(on: publicURL) }

    /// Who hears of a new request (the tenant's subscribed channels, the group's people): found
    /// before the filing takes its number, so the tenant's counter is held for less.
    func audience(tenant: UUID, group: [UUID], in tx: Connection) throws -> [Outbox.Destination] {
        try Outbox.destinations(tx, tenant: tenant, event: "request.created", people: group)
    }

    func filed(
        _ request: ServiceRequest, tenant: UUID, slug: String, to audience: [Outbox.Destination], at now: Date,
        in tx: Connection
    ) throws {
        try Outbox.deliver(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: "request.created", subject: "\(request.number) filed: \(request.subject)",
                text: "\(request.requester.name) filed a \(request.priority) \(request.type) request.",
                url: link(slug: slug, number: request.number),
                severity: request.priority == "P1" ? .critical : (request.priority == "P2" ? .error : .info),
                dedupKey: request.id.postgresText), to: audience, at: now)
    }

    func replied(request: UUID, tenant: UUID, author: String, body: String, at now: Date, in tx: Connection) throws {
        let row = try tx.query(
            """
            SELECT t.key, r.number, r.subject, r.requester_id,
                   ARRAY(SELECT w.user_id FROM request_watchers w WHERE w.tenant_id = r.tenant_id AND w.request_id = r.id)
            FROM requests r JOIN tenants t ON t.id = r.tenant_id WHERE r.id = $1
            """, [request])[0]
        let number = RequestNumbers.display(key: try row.require(0), number: try row.require(1))
        let watchers: [UUID] = try row.require(4)
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: "request.updated", subject: "\(number): \(author) replied", text: String(body.prefix(2000)),
                url: try link(tx, tenant: tenant, number: number)), people: Array(Set([try row.require(3, as: UUID.self)] + watchers)),
            at: now)
    }

    func stateChanged(_ request: ServiceRequest, tenant: UUID, at now: Date, in tx: Connection) throws {
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: "request.updated", subject: "\(request.number) is now \(request.state.replacingOccurrences(of: "_", with: " "))",
                text: request.subject, url: try link(tx, tenant: tenant, number: request.number)), people: [request.requester.id], at: now)
    }

    func sla(_ notice: SLANotice, tenant: UUID, people: [UUID], at now: Date, in tx: Connection) throws {
        let due = RFC3339.string(notice.dueAt)
        let breach = notice.event == .breach
        try Outbox.notify(
            tx, tenant: tenant,
            message: NotificationMessage(
                event: breach ? "sla.breached" : "sla.at_risk",
                subject: breach
                    ? "\(notice.number) missed its \(notice.clock.label.lowercased()) target"
                    : "\(notice.number): \(notice.clock.label.lowercased()) due soon",
                text: "\(notice.priority) · \(notice.subject)\n\(notice.clock.label) \(breach ? "was due" : "is due") at \(due).",
                url: try link(tx, tenant: tenant, number: notice.number),
                severity: breach ? .error : .warning, dedupKey: "sla:\(notice.request.postgresText):\(notice.clock.rawValue)"),
            people: people, at: now)
    }
}
