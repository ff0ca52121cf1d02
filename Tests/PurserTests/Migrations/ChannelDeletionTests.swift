import Foundation
@testable import Purser
import Testing
import TestSupport

/// Deleting a channel keeps its deliveries in the log and forgets only which channel they went to.
/// Migration 0061 made the foreign key a plain one (Citus refuses `ON DELETE SET NULL` on a key that
/// holds the distribution column), so the delete clears the reference itself.
@Suite struct ChannelDeletionTests {
    @Test func deletingAChannelKeepsItsDeliveriesWithoutIt() throws {
        let app = try TestApp()
        let acme = try People(app)
        let other = try People(app, slug: "globex")
        let admin = AuditActor.person(acme.id("tenant_admin@acme.test"), isStaff: false, origin: nil)
        let channels = NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"]),
            world: app.app.world)
        let channel = try channels.create(
            NewChannel(kind: "slack", name: "#ops", target: "http://127.0.0.1:9/slack", events: ["request.created"]),
            tenant: acme.tenant, by: admin)
        let owner = try app.database.connect()
        let delivery = UUID()
        try owner.query(
            """
            INSERT INTO notification_deliveries (id, tenant_id, channel_id, kind, destination, event, subject, message)
            VALUES ($1, $2, $3, 'slack', 'http://127.0.0.1:9', 'request.created', 'ACME-1', '{}')
            """, [delivery, acme.tenant, channel])

        #expect(throws: NotFound.self) { try channels.delete(channel, tenant: other.tenant, by: admin) }
        try channels.delete(channel, tenant: acme.tenant, by: admin)
        let rows = try owner.query("SELECT channel_id FROM notification_deliveries WHERE id = $1", [delivery])
        #expect(rows.count == 1, "the delivery stays in the log")
        #expect(try rows.first?.decode(0, as: UUID.self) == nil, "and forgets the channel")
        #expect(try owner.query("SELECT 1 FROM notification_channels WHERE id = $1", [channel]).isEmpty)
        #expect(throws: NotFound.self) { try channels.delete(channel, tenant: acme.tenant, by: admin) }
    }
}
