import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Request mail goes only to people who still belong to the tenant (or are active staff): checked
/// when the mail is composed and again when the worker sends it; deactivation ends their watches.
/// Mail goes to a real SMTP server on loopback (aiosmtpd).
@Suite(.serialized) struct DeactivatedRecipientTests {
    let app: TestApp
    let people: People
    let mail: MailSink
    let store: RequestStore
    let comments: RequestComments

    init() throws {
        mail = try MailSink()
        let mailServer = mail.server
        app = try TestApp { configuration in
            configuration.mailServer = mailServer
            configuration.mailFrom = "purser@bank.test"
            configuration.publicURL = URL(string: "https://purser.bank.test")
        }
        people = try People(app, staff: true)
        let notices = RequestNotices(publicURL: "https://purser.bank.test")
        store = RequestStore(database: app.app.database, clock: app.app.world.clock, notices: notices)
        comments = RequestComments(database: app.app.database, clock: app.app.world.clock, notices: notices)
    }

    var cse: Principal { Principal(user: people.id("cse@staff.test"), tenantRole: nil, staffRole: .cse, tenant: people.tenant) }

    /// A request filed by the requester, watched by the viewer and the approver.
    func watchedRequest() throws -> ServiceRequest {
        let request = try store.create(
            NewRequest(subject: "GPU quota", type: "question", priority: "P3"), tenant: people.tenant,
            requester: people.id("requester@acme.test"),
            actor: .person(people.id("requester@acme.test"), isStaff: false, origin: nil))
        let watchers = RequestWatchers(database: app.app.database, clock: app.app.world.clock)
        for email in ["viewer@acme.test", "approver@acme.test"] {
            try watchers.set(
                true, user: people.id(email), request: request.id, tenant: people.tenant,
                actor: .person(people.id(email), isStaff: false, origin: nil))
        }
        return request
    }

    func deactivate(_ email: String) throws {
        try Memberships(database: app.app.database, clock: app.app.world.clock).deactivate(
            user: people.id(email), tenant: people.tenant,
            actor: .person(people.id("tenant_admin@acme.test"), isStaff: false, origin: RequestOrigin()))
    }

    func staffReply(_ request: ServiceRequest) throws {
        _ = try comments.add(
            to: request.id, tenant: people.tenant, body: "We raised the quota.", isInternal: false, principal: cse,
            actor: .person(cse.user, isStaff: true, origin: nil))
    }

    func emailDeliveries() throws -> [(to: String, state: String, error: String?)] {
        try app.database.connect().query(
            """
            SELECT destination, state, last_error FROM notification_deliveries
            WHERE kind = 'email' AND event = 'request.updated' ORDER BY created_at, id
            """
        ).map { (try $0.require(0), try $0.require(1), try $0.decode(2)) }
    }

    /// Who the sink received mail for, once every delivery has settled.
    func settledRecipients() throws -> [String] {
        let worker = try app.startWorker()
        defer { worker.stop() }
        let settled = try waitUntil { try emailDeliveries().allSatisfy { $0.state != "pending" } }
        let deliveries = try emailDeliveries()
        #expect(settled, "\(deliveries)")
        let delivered = try emailDeliveries().filter { $0.state == "delivered" }.count
        #expect(waitUntil { mail.names().count >= delivered })
        return try mail.names().compactMap { name in
            WebVisitor.firstMatch(#"X-Envelope-To: ([^\r\n]+)"#, in: try mail.raw(name))
        }
    }

    @Test func someoneDeactivatedBeforeTheMailIsComposedGetsNone() throws {
        let request = try watchedRequest()
        try deactivate("viewer@acme.test")
        try deactivate("requester@acme.test")
        let watching = try RequestWatchers(database: app.app.database, clock: app.app.world.clock)
            .list(request: request.id, tenant: people.tenant).map(\.id)
        #expect(watching == [people.id("approver@acme.test")], "deactivation ends their watches")
        // A staff reply (to the requester and watchers) and a state change (to the requester).
        try staffReply(request)
        _ = try store.update(
            request.id, tenant: people.tenant, change: .init(state: "pending_customer"), expected: nil,
            principal: cse, actor: .person(cse.user, isStaff: true, origin: nil))
        let recipients = try settledRecipients()
        #expect(recipients == ["approver@acme.test"], "\(recipients)")
        #expect(try emailDeliveries().map(\.to) == ["approver@acme.test"], "nothing is even composed for those who left")
    }

    @Test func someoneDeactivatedBetweenComposeAndSendGetsNone() throws {
        let request = try watchedRequest()
        try staffReply(request)
        #expect(Set(try emailDeliveries().map(\.to)) == ["requester@acme.test", "viewer@acme.test", "approver@acme.test"])
        // They leave while the mail waits for the worker.
        try deactivate("viewer@acme.test")
        try deactivate("requester@acme.test")
        let recipients = try settledRecipients()
        #expect(recipients == ["approver@acme.test"], "\(recipients)")
        let withheld = try emailDeliveries().filter { $0.to != "approver@acme.test" }
        #expect(
            withheld.count == 2 && withheld.allSatisfy { $0.state == "dead" && $0.error?.contains("no longer belongs") == true },
            "\(withheld)")
    }

    @Test func staffWithoutAMembershipStillHearOfTheirRequests() throws {
        try deactivate("viewer@acme.test")
        let found = try app.app.database.inTenant(people.tenant) { tx in
            try Outbox.destinations(
                tx, tenant: people.tenant, event: "sla.at_risk",
                people: [people.id("cse@staff.test"), people.id("viewer@acme.test"), people.id("approver@acme.test")])
        }
        #expect(Set(found.map(\.address)) == ["cse@staff.test", "approver@acme.test"])
        #expect(Set(found.compactMap(\.recipient)) == [people.id("cse@staff.test"), people.id("approver@acme.test")])
    }
}
