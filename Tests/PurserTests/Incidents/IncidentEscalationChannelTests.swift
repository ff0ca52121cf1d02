import Foundation
@testable import Purser
import Testing
import TestSupport

/// Escalation reaches chat: a Slack channel named by level 1 and a Teams channel named by level 2
/// of the escalation policy are told, each when its level is reached, in its own format, by the
/// worker posting to a receiver on loopback — though neither channel subscribes to incident events.
@Suite(.serialized) struct IncidentEscalationChannelTests {
    @Test func escalationLevelsReachTheirSlackAndTeamsChannels() throws {
        let clock = SettableClock(Date())
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("incident-hooks-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: log) }
        let receiver = try PythonPeer("webhook_receiver.py", arguments: [log.path, "whsec-unused-0123456789"])
        let app = try TestApp(world: World(clock: clock)) { configuration in
            configuration.publicURL = URL(string: "https://purser.bank.test")
            configuration.allowHTTPDestinations = true
            configuration.allowedDestinations = ["127.0.0.1/32"]
        }
        let acme = try People(app)
        let adminID = acme.id("tenant_admin@acme.test")
        let admin = AuditActor.person(adminID, isStaff: false, origin: nil)
        let channels = NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"]), world: app.app.world)
        let base = "http://127.0.0.1:\(receiver.port)"
        let slack = try channels.create(
            NewChannel(kind: "slack", name: "#oncall", target: base + "/slack", events: ["deployment.finished"]), tenant: acme.tenant,
            by: admin)
        let teams = try channels.create(
            NewChannel(kind: "teams", name: "Platform", target: base + "/teams", events: ["deployment.finished"]), tenant: acme.tenant,
            by: admin)
        try app.app.database.inTenant(acme.tenant) { tx in
            try EscalationPolicies.save(
                tx, tenant: acme.tenant,
                levels: [
                    EscalationLevel(afterMinutes: 0, people: [adminID]), EscalationLevel(afterMinutes: 5, channels: [slack]),
                    EscalationLevel(afterMinutes: 10, channels: [teams]),
                ], by: adminID, actor: admin, at: clock.now)
        }
        let incident = try IncidentStore(database: app.app.database, clock: clock, publicURL: "https://purser.bank.test").open(
            NewIncident(title: "Chat endpoint down", severity: "SEV1", service: "chat"), tenant: acme.tenant,
            principal: Principal(user: adminID, tenantRole: .tenantAdmin, staffRole: nil, tenant: acme.tenant), actor: admin)
        let owner = try app.database.connect()
        func deliveries(_ kind: String) throws -> [String] {
            try owner.query(
                "SELECT event FROM notification_deliveries WHERE tenant_id = $1 AND kind = $2 ORDER BY created_at, id", [acme.tenant, kind]
            ).map { try $0.require(0, as: String.self) }
        }
        func received(_ path: String) -> [[String: Any]] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["path"] as? String == path }.compactMap {
                try? JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8)) as? [String: Any]
            }
        }
        // Opening tells level 0 (people by e-mail), not the channels of later levels.
        #expect(try deliveries("slack").isEmpty && deliveries("teams").isEmpty)

        let worker = try app.startWorker()
        defer { worker.stop() }
        let acknowledge = "https://purser.bank.test/t/acme/incidents/\(incident.id.postgresText)/acknowledge"
        clock.advance(by: 301)
        #expect(waitUntil(20) { !received("/slack").isEmpty })
        let posted = try #require(received("/slack").first?["text"] as? String)
        #expect(
            posted.contains("*[SEV1] Unacknowledged incident (level 1): Chat endpoint down*") && posted.contains(acknowledge), "\(posted)")
        #expect(try deliveries("slack") == ["incident.escalated"] && deliveries("teams").isEmpty, "level 2 is not yet due")
        // Moving the clock past a job still running would expire its lease and let another worker
        // thread run it again (a second post): let the Slack delivery finish first.
        #expect(
            waitUntil(20) {
                (try? owner.query("SELECT count(*) FROM jobs WHERE state = 'running'").first?.require(0, as: Int.self)) == 0
            })

        clock.advance(by: 601)
        #expect(waitUntil(20) { !received("/teams").isEmpty })
        let card = try #require(received("/teams").first)
        #expect(card["@type"] as? String == "MessageCard")
        #expect(card["title"] as? String == "[SEV1] Unacknowledged incident (level 2): Chat endpoint down")
        #expect((card["text"] as? String)?.contains(acknowledge) == true)
        #expect(try deliveries("slack") == ["incident.escalated"], "level 1 is told once")
        #expect(received("/slack").count == 1)
    }
}
