import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /staff/provider-channels: staff who manage providers see the provider's channels and its recent
/// deliveries, add a channel (a webhook's signing secret shown once, sealed at rest; a mistake told
/// beside the form), and turn one off and on again — each change audited; a CSE without
/// providers.manage is refused.
@Suite struct ProviderChannelPagesTests {
    @Test func staffAddListAndDisableProviderChannels() throws {
        let app = try TestApp(clock: SettableClock(RFC3339.date("2026-11-25T16:00:00Z")!)) {
            $0.allowedDestinations = ["127.0.0.1/32"]
        }
        let people = try People(app, staff: true)
        let engineer = try people.signedIn(
            "platform_engineer@staff.test", in: app, totp: try people.enableSecondFactor("platform_engineer@staff.test", in: app))
        let path = "/staff/provider-channels"
        #expect(try engineer.get("/staff/hosts").text.contains("href=\"\(path)\""), "the hosts page leads to it")
        #expect(try engineer.get(path).text.contains("No provider channel yet"))

        // A mistake: the form says which field, and nothing is added.
        let wrong = try engineer.post(path, [("kind", "webhook"), ("name", "On call"), ("target", "ftp://x"), ("events", "host.gone")])
        #expect(wrong.status == 422)
        #expect(wrong.text.contains("<strong>target</strong>") && wrong.text.contains("<strong>events</strong>"), "\(wrong.text)")
        #expect(wrong.text.contains("value=\"On call\""))

        // A webhook: its secret is shown once and stored sealed; an e-mail channel beside it.
        let added = try engineer.post(
            path,
            [
                ("kind", "webhook"), ("name", "On call"), ("target", "https://127.0.0.1/hooks/purser?key=abc"),
                ("events", "host.down"),
            ])
        #expect(added.status == 201)
        let secret = try #require(added.text.firstRange(of: "shown only now: ").map { String(added.text[$0.upperBound...].prefix(43)) })
        #expect(secret.count == 43)
        #expect(!added.text.contains("key=abc"), "a webhook's URL is shown by its scheme and host")
        #expect(
            try engineer.post(path, [("kind", "email"), ("name", "NOC"), ("target", "noc@provider.test"), ("events", "*")]).status == 201)
        let db = try app.database.connect()
        let stored = try db.query("SELECT secret, enabled FROM provider_channels WHERE name = 'On call'")
        #expect(try stored.count == 1 && !(stored[0].require(0, as: String.self)).contains(secret))

        // A delivery appears in the log on the page.
        try app.app.database.asStaff { tx in
            try ProviderChannels.notify(
                tx, message: NotificationMessage(event: "host.down", subject: "Host pool-7 is down", text: "No SSH answer."), staff: [],
                at: app.app.world.now)
        }
        let listed = try engineer.get(path)
        #expect(listed.text.contains("Host pool-7 is down") && listed.text.contains("noc@provider.test"))
        #expect(listed.text.contains("https://127.0.0.1"))

        // Off, then on again: audited each time; an off channel gets no new delivery.
        let id = try db.query("SELECT id FROM provider_channels WHERE name = 'NOC'")[0].require(0, as: UUID.self)
        let off = try engineer.post(path, [("channel", id.postgresText), ("enabled", "0")])
        #expect(off.status == 200 && off.text.contains("NOC is off."))
        let delivered = try app.app.database.asStaff { tx in
            try ProviderChannels.notify(
                tx, message: NotificationMessage(event: "host.down", subject: "Host pool-8 is down", text: "x"), staff: [],
                at: app.app.world.now)
        }
        #expect(delivered == 1, "only the webhook, the mailbox being off")
        #expect(try engineer.post(path, [("channel", id.postgresText), ("enabled", "1")]).text.contains("NOC is on."))
        #expect(try engineer.post(path, [("channel", UUID().postgresText), ("enabled", "0")]).status == 404)
        let audited = try db.query(
            "SELECT action FROM audit_events WHERE target_type = 'provider_channel' AND tenant_id IS NULL ORDER BY sequence"
        ).map { try $0.require(0, as: String.self) }
        #expect(audited == ["provider_channel.create", "provider_channel.create", "provider_channel.disable", "provider_channel.enable"])

        // A CSE reads costs and requests but does not manage providers.
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(try cse.get(path).status == 403)
    }
}
