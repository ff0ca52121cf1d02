import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The delivery log names destinations: a Slack or Teams webhook URL is a credential, an address
/// personal data. The API asks what the notifications page asks (tenant.settings.manage), and both
/// show a URL as scheme and host, addresses whole only to tenant admins and staff.
@Suite struct DeliveryLogExposureTests {
    static let slackURL = "https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX"

    @Test func aURLIsShownAsSchemeAndHostOnly() {
        #expect(DestinationRedaction.url(Self.slackURL) == "https://hooks.slack.com")
        #expect(DestinationRedaction.url("HTTPS://Outlook.Office.com:443/webhook/abc?x=1#y") == "https://outlook.office.com")
        #expect(DestinationRedaction.url("https://user:pw@example.com/path") == "https://example.com")
        #expect(DestinationRedaction.url("http://[2001:db8::1]:8080/hook") == "http://[2001:db8::1]")
        #expect(DestinationRedaction.url("http://127.0.0.1:9999") == "http://127.0.0.1")
        for unreadable in ["", "hooks.slack.com/services/T/B/X", "://x", "1http://x/", "https:///path", "https://[::1/x"] {
            #expect(DestinationRedaction.url(unreadable) == DestinationRedaction.unreadable, "\(unreadable)")
        }
        // Linear in its input, whatever it is.
        #expect(DestinationRedaction.url("https://" + String(repeating: "@", count: 100_000)) == DestinationRedaction.unreadable)
    }

    @Test func addressesAreShownWholeOnlyToThoseWhoManageTheTenant() {
        let tenant = UUID()
        let shown = { (principal: Principal) in
            DestinationRedaction.shown(
                "ana@acme.test, bo@acme.test", kind: "email",
                addressesVisible: DestinationRedaction.addressesVisible(to: principal))
        }
        #expect(shown(Principal(user: UUID(), tenantRole: .tenantAdmin, staffRole: nil, tenant: tenant)) == "ana@acme.test, bo@acme.test")
        #expect(shown(Principal(user: UUID(), tenantRole: nil, staffRole: .cse, tenant: tenant)) == "ana@acme.test, bo@acme.test")
        for role in [CustomerRole.viewer, .requester, .approver] {
            #expect(shown(Principal(user: UUID(), tenantRole: role, staffRole: nil, tenant: tenant)) == "…@acme.test, …@acme.test")
        }
        #expect(DestinationRedaction.shown(Self.slackURL, kind: "slack", addressesVisible: true) == "https://hooks.slack.com")
    }

    @Test func theAPINeedsTheNotificationsPagesPermissionAndRedactsDestinations() throws {
        let app = try TestApp { configuration in
            configuration.allowHTTPDestinations = true
            configuration.allowedDestinations = ["127.0.0.1/32"]
        }
        let people = try People(app, staff: true)
        let channels = NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"]), world: app.app.world)
        _ = try channels.create(
            NewChannel(
                kind: "slack", name: "Ops", target: "http://127.0.0.1:9/services/T0001/B0002/XXXXsecretXXXX",
                events: ["*"]), tenant: people.tenant,
            by: .person(people.id("tenant_admin@acme.test"), isStaff: false, origin: nil))
        try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.notify(
                tx, tenant: people.tenant, message: NotificationMessage(event: "request.created", subject: "s", text: "t"),
                people: [people.id("viewer@acme.test")], at: app.app.world.now)
        }
        func token(_ email: String, tenant: UUID?) throws -> String {
            try app.app.tokens.create(
                user: people.id(email), tenant: tenant, name: "log", scopes: [.notificationsRead],
                lifetime: 3600, actor: .system
            ).token
        }
        /// A token holding notifications:read though its owner's role cannot use it (one made
        /// before scopes followed roles): the permission check still turns it away.
        func legacyToken(_ email: String, tenant: UUID?) throws -> String {
            let made = try app.app.tokens.create(
                user: people.id(email), tenant: tenant, name: "old", scopes: [.requestsRead],
                lifetime: 3600, actor: .system)
            try app.database.connect().query("UPDATE api_tokens SET scopes = '{notifications:read}' WHERE id = $1", [made.id])
            return made.token
        }
        func get(_ token: String, _ query: String = "") throws -> ClientResponse {
            try app.get("/api/v1/notifications/deliveries" + query, headers: [("Authorization", "Bearer \(token)")])
        }
        // Those the page turns away: no such token can be made for them, and an old one is refused.
        for email in ["viewer@acme.test", "requester@acme.test", "approver@acme.test"] {
            #expect(throws: ValidationError.self, "\(email)") { try token(email, tenant: people.tenant) }
            let response = try get(try legacyToken(email, tenant: people.tenant))
            #expect(response.status == 403, "\(email): \(response.status)")
            #expect(!String(decoding: response.body, as: UTF8.self).contains("XXXXsecretXXXX"))
        }
        #expect(throws: ValidationError.self) { try token("cse@staff.test", tenant: nil) }
        #expect(
            try get(try legacyToken("cse@staff.test", tenant: nil), "?tenant=acme").status == 403,
            "a CSE does not manage the tenant's settings")
        // A tenant admin sees the log: the URL as scheme and host, the address whole.
        let admin = try token("tenant_admin@acme.test", tenant: people.tenant)
        let response = try get(admin)
        #expect(response.status == 200)
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(!body.contains("XXXXsecretXXXX") && !body.contains("/services/"), "\(body)")
        let items = try #require(
            (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["items"] as? [[String: Any]])
        let destinations = Set(items.compactMap { $0["destination"] as? String })
        #expect(destinations == ["http://127.0.0.1", "viewer@acme.test"], "\(destinations)")
    }
}

/// A failure that quotes the whole destination is kept and thrown (the job's last error, the
/// worker's log) with no more of the URL than the delivery log shows.
@Suite struct DeliveryErrorRedactionTests {
    @Test func aQuotedURLIsCutToSchemeAndHost() {
        let url = "https://hooks.slack.test/services/T000/B000/secret-part"
        let delivery = Delivery.Loaded(
            id: UUID(), tenant: UUID(), channel: UUID(), kind: "slack", destination: url, secret: nil,
            message: NotificationMessage(event: "test", subject: "s", text: "t"), attempts: 0, recipient: nil)
        let shown = Delivery.shownError("\(url) is not an absolute URL", for: delivery)
        #expect(!shown.contains("secret-part") && shown.contains("hooks.slack.test"), "\(shown)")
    }
}
