import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Page forms that create something carry a one-time key: the same form sent twice (a double
/// click, a resend after a slow answer, two at once) files one service request or access request,
/// and the second sending is sent to what the first filed. A sending refused by the form's checks
/// files nothing, so the corrected form still files once.
@Suite(.serialized) struct FormOnceTests {
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp()
        acme = try People(app, slug: "acme")
    }

    func formKey(_ visitor: WebVisitor, on path: String) throws -> String {
        let page = try visitor.get(path)
        return try #require(
            page.text.components(separatedBy: #"name="form_key" value=""#).dropFirst().first?.split(separator: "\"").first.map(String.init),
            "no form key on \(path)")
    }

    func count(_ table: String, where condition: String) throws -> Int {
        try app.database.connect().query("SELECT count(*) FROM \(table) WHERE tenant_id = $1 AND \(condition)", [acme.tenant])[0]
            .require(0, as: Int.self)
    }

    @Test func aServiceRequestFormSentTwiceFilesOneRequest() throws {
        let customer = try acme.signedIn("requester@acme.test", in: app)
        let key = try formKey(customer, on: "/t/acme/requests/new")
        let fields = [("subject", "GPU quota"), ("type", "change"), ("priority", "P2"), ("form_key", key)]
        let first = try customer.post("/t/acme/requests", fields, from: "/t/acme/requests/new")
        let second = try customer.post("/t/acme/requests", fields, from: "/t/acme/requests/new")
        #expect(first.status == 303 && second.status == 303)
        #expect(first.header("Location") != nil && second.header("Location") == first.header("Location"))
        #expect(try count("requests", where: "subject = 'GPU quota'") == 1)
        // Two at once: the second waits for the first's claim and is sent to what it filed.
        let twiceKey = try formKey(customer, on: "/t/acme/requests/new")
        let together = [("subject", "Two at once"), ("type", "question"), ("priority", "P4"), ("form_key", twiceKey)]
        // Two sessions of the same person (a visitor's cookies are not shared between threads).
        let visitors = [customer, try acme.signedIn("requester@acme.test", in: app)]
        let tokens = try visitors.map { try $0.formToken(on: "/t/acme/requests/new") }
        let answers = Locked([String?]())
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let answer = try? visitors[index].post("/t/acme/requests", together, formToken: tokens[index])
            answers.withLock { $0.append(answer?.header("Location")) }
        }
        let locations = answers.withLock { $0 }
        #expect(locations.count == 2 && locations[0] != nil && locations[0] == locations[1], "\(locations)")
        #expect(try count("requests", where: "subject = 'Two at once'") == 1)
        // Another rendering of the form is another key: a second request with the same words is filed.
        let again = [
            ("subject", "GPU quota"), ("type", "change"), ("priority", "P2"),
            ("form_key", try formKey(customer, on: "/t/acme/requests/new")),
        ]
        #expect(try customer.post("/t/acme/requests", again, from: "/t/acme/requests/new").status == 303)
        #expect(try count("requests", where: "subject = 'GPU quota'") == 2)
    }

    @Test func aRefusedSendingFilesNothingAndKeepsWhatWasChosen() throws {
        let customer = try acme.signedIn("requester@acme.test", in: app)
        let key = try formKey(customer, on: "/t/acme/requests/new")
        let refused = try customer.post(
            "/t/acme/requests", [("subject", "  "), ("type", "incident"), ("priority", "P1"), ("form_key", key)],
            from: "/t/acme/requests/new")
        #expect(refused.status == 422)
        #expect(refused.text.contains(#"<option value="incident" selected>"#) && refused.text.contains(#"<option value="P1" selected>"#))
        #expect(refused.text.contains(#"name="form_key" value="\#(key)""#))
        let fixed = try customer.post(
            "/t/acme/requests", [("subject", "Endpoint down"), ("type", "incident"), ("priority", "P1"), ("form_key", key)],
            from: "/t/acme/requests/new")
        #expect(fixed.status == 303)
        #expect(try count("requests", where: "subject = 'Endpoint down' AND type = 'incident' AND priority = 'P1'") == 1)
    }

    @Test func anAccessRequestFormSentTwiceFilesOneAccessRequest() throws {
        let policy = UUID()
        try app.database.connect().query(
            """
            INSERT INTO access_policies (tenant_id, id, name, kind, role, requester_roles, max_seconds)
            VALUES ($1, $2, 'Approver for an hour', 'role', 'approver', '{requester}', 3600)
            """, [acme.tenant, policy])
        let customer = try acme.signedIn("requester@acme.test", in: app)
        let key = try formKey(customer, on: "/t/acme/access")
        let fields = [("policy_id", policy.postgresText), ("minutes", "30"), ("reason", "month-end approvals"), ("form_key", key)]
        let first = try customer.post("/t/acme/access", fields, from: "/t/acme/access")
        let second = try customer.post("/t/acme/access", fields, from: "/t/acme/access")
        #expect(first.status == 303, "\(first.text)")
        #expect(second.status == 303 && second.header("Location") == first.header("Location"))
        #expect(try count("access_requests", where: "reason = 'month-end approvals'") == 1)
    }
}
