import Foundation
@testable import Purser
import Testing
import TestSupport

/// An incident's service request says, on its page, which incident it tracks and links to it; a
/// request that tracks none says nothing of the kind.
@Suite struct IncidentRequestLinkTests {
    @Test func anIncidentsRequestPageLinksBackToTheIncident() throws {
        let clock = SettableClock(Date(timeIntervalSince1970: 1_795_000_000))
        let app = try TestApp(clock: clock)
        let acme = try People(app)
        let admin = Principal(user: acme.id("tenant_admin@acme.test"), tenantRole: .tenantAdmin, staffRole: nil, tenant: acme.tenant)
        let actor = AuditActor.person(admin.user, isStaff: false, origin: nil)
        let incident = try IncidentStore(database: app.app.database, clock: clock, publicURL: "http://purser.test").open(
            NewIncident(title: "Chat <endpoint> down", severity: "SEV2", service: "chat"), tenant: acme.tenant, principal: admin,
            actor: actor)
        let plain = try RequestStore(database: app.app.database, clock: clock).create(
            NewRequest(subject: "A question", description: "How are tokens counted?", type: "question", priority: "P4"),
            tenant: acme.tenant, requester: admin.user, actor: actor)

        let viewer = try acme.signedIn("viewer@acme.test", in: app)
        let page = try viewer.get("/t/acme/requests/\(incident.requestNumber)")
        #expect(page.status == 200)
        let link = "/t/acme/incidents/\(incident.id.postgresText)"
        #expect(
            page.text.contains(
                #"This request tracks incident <a href="\#(link)">Chat &lt;endpoint&gt; down</a> (SEV2, detected)."#),
            "\(page.text)")
        #expect(try viewer.get(link).status == 200, "the link leads to the incident")

        let other = try viewer.get("/t/acme/requests/\(plain.number)")
        #expect(other.status == 200)
        #expect(!other.text.contains("This request tracks incident") && !other.text.contains("incident-link"))
    }
}
