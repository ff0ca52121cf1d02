import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Just-in-time access over HTTP, on a test clock: asking, approving, elevation that holds only in
/// its window, the rules' refusals (audited), break-glass with its review, and a closed linked
/// request ending its grant. One app for the suite's steps; the clock moves, nothing waits.
@Suite(.serialized) struct AccessFlowTests {
    let clock = SettableClock(Date(timeIntervalSince1970: 1_790_000_000))
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme", staff: true)
    }

    func store() -> AccessStore {
        AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
    }

    func token(_ email: String, _ scopes: [Scope], tenant: UUID?) throws -> String {
        try app.app.tokens.create(user: acme.id(email), tenant: tenant, name: "t", scopes: scopes, lifetime: 86400, actor: .system).token
    }

    func send(_ method: String, _ path: String, token: String, _ json: String? = nil) throws -> (status: Int, body: [String: Any]) {
        let response = try app.send(
            method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: json.map { Array($0.utf8) })
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, body)
    }

    func policy(_ policy: AccessPolicy) throws -> UUID {
        try store().save(policy, tenant: acme.tenant, actor: .system)
        return policy.id
    }

    @Test func elevationHoldsOnlyInItsWindowAndApprovalsFollowTheRules() throws {
        let admin = try policy(
            AccessPolicy(
                id: UUID(), name: "Admin for a while", kind: .role, role: "tenant_admin", requesterRoles: ["requester"], maxSeconds: 600,
                customerApprovals: 1))
        let totp = try acme.enableSecondFactor("requester@acme.test", in: app)
        let requester = try token("requester@acme.test", [.accessRequest], tenant: acme.tenant)
        let approver = try token("approver@acme.test", [.accessApprove, .accessRequest], tenant: acme.tenant)
        let browser = try acme.signedIn("requester@acme.test", in: app, totp: totp)
        #expect(try browser.get("/t/acme/audit").status == 403)

        // Over the policy's maximum: a clear error, audited.
        var asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(admin)", "reason": "rotate the gateway keys", "duration_seconds": 601}"#)
        #expect(asked.status == 422)
        asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(admin)", "reason": "rotate the gateway keys", "duration_seconds": 600}"#)
        #expect(asked.status == 201)
        let id = try #require(asked.body["id"] as? String)
        #expect(asked.body["state"] as? String == "pending")

        // Nobody approves their own (a requester's token cannot even carry access:approve); approval
        // after withdrawal is refused.
        let own = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: requester, #"{"decision": "approve"}"#)
        #expect(own.status == 403)
        #expect(try browser.get("/t/acme/audit").status == 403)

        // Twenty minutes pass before the approval: the window starts at the approval, not at the asking.
        clock.advance(by: 1200)
        let approved = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        #expect(approved.status == 200)
        #expect(approved.body["state"] as? String == "approved")
        let grant = try #require(approved.body["grant"] as? [String: Any])
        #expect(grant["starts_at"] as? String == RFC3339.string(clock.now))
        #expect(grant["seconds_left"] as? Double == 600)

        // During: the same session, untouched, holds tenant_admin's audit.read at once.
        #expect(try browser.get("/t/acme/audit").status == 200)
        clock.advance(by: 599)
        #expect(try browser.get("/t/acme/audit").status == 200)
        // The second after: refused, with no job having run.
        clock.advance(by: 1)
        #expect(try browser.get("/t/acme/audit").status == 403)

        // Withdrawn, then approved: refused.
        let again = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(admin)", "reason": "once more", "duration_seconds": 60}"#)
        let second = try #require(again.body["id"] as? String)
        #expect(try send("POST", "/api/v1/access/requests/\(second)/withdraw?tenant=acme", token: requester).status == 200)
        let late = try send("POST", "/api/v1/access/requests/\(second)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        #expect(late.status == 409)
        // History stays, searchable: the withdrawn one is found by state and by text.
        let approverReads = try token("approver@acme.test", [.accessRequest], tenant: acme.tenant)
        let withdrawn = try send("GET", "/api/v1/access/requests?tenant=acme&view=all&state=withdrawn&q=once", token: approverReads)
        #expect((withdrawn.body["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [second])
        let refusals = try app.database.connect().query(
            "SELECT count(*) FROM audit_events WHERE action = 'access.refused' AND tenant_id = $1", [acme.tenant])
        #expect(try refusals[0].require(0, as: Int64.self) >= 2)
    }

    @Test func theExpiryJobRecordsAndTellsAndUnapprovedAccessRequestsLapse() throws {
        let short = try policy(
            AccessPolicy(
                id: UUID(), name: "Approver briefly", kind: .role, role: "approver", requesterRoles: ["requester"], maxSeconds: 600,
                lapseSeconds: 300))
        let requester = try token("requester@acme.test", [.accessRequest], tenant: acme.tenant)
        let approver = try token("approver@acme.test", [.accessApprove], tenant: acme.tenant)
        let body = #"{"policy_id": "\#(short)", "reason": "check the queue", "duration_seconds": 60}"#
        let granted = try send("POST", "/api/v1/access/requests?tenant=acme", token: requester, body)
        let asked = try #require((granted.body["id"] as? String))
        let decided = try send(
            "POST", "/api/v1/access/requests/\(asked)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        let grantText = (decided.body["grant"] as? [String: Any])?["id"] as? String
        let grant = try #require(grantText.flatMap(UUID.init(uuidString:)))
        let pendingText = try send("POST", "/api/v1/access/requests?tenant=acme", token: requester, body).body["id"] as? String
        let waiting = try #require(pendingText.flatMap(UUID.init(uuidString:)))
        let worker = try app.startWorker()
        defer { worker.stop() }
        let db = try app.database.connect()
        func state(_ sql: String, _ id: UUID) -> String? { try? db.query(sql, [id]).first?.require(0, as: String.self) }
        // The grant ends at 60 s and the access request lapses at 300 s: the jobs record both.
        clock.advance(by: 301)
        #expect(
            waitUntil(20) {
                state("SELECT state FROM access_grants WHERE id = $1", grant) == "expired"
                    && state("SELECT state FROM access_requests WHERE id = $1", waiting) == "lapsed"
            })
        let told = try db.query(
            "SELECT event FROM notification_deliveries WHERE tenant_id = $1 AND destination = 'requester@acme.test' ORDER BY event",
            [acme.tenant]
        ).map { try $0.require(0, as: String.self) }
        #expect(told.contains("access.expired") && told.contains("access.denied") && told.contains("access.granted"))
        let audited = try db.query(
            "SELECT action FROM audit_events WHERE tenant_id = $1 AND action IN ('access.expire', 'access.lapse')", [acme.tenant]
        ).map { try $0.require(0, as: String.self) }
        #expect(Set(audited) == ["access.expire", "access.lapse"])
    }

    @Test func tenantAdminsWritePoliciesOnThePoliciesPageAndOthersOnlyReadThem() throws {
        let admin = try acme.signedIn(
            "tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        let fields: [(String, String)] = [
            ("name", "GPU train"), ("kind", "ssh"), ("host_label", "group:train"), ("ssh_login", "ops"), ("requester_roles", "requester"),
            ("requester_roles", "cse"), ("max_minutes", "120"), ("customer_approvals", "1"), ("approver_roles", "approver"),
            ("provider_approvals", "1"), ("link_required", "incident"), ("break_glass_minutes", "30"), ("lapse_minutes", "60"),
            ("enabled", "1"),
        ]
        #expect(try admin.post("/t/acme/access-policies", fields).status == 303)
        let saved = try store().policies(tenant: acme.tenant)
        #expect(saved.map(\.name) == ["GPU train"])
        #expect(saved.first?.requesterRoles == ["requester", "cse"] && saved.first?.providerApprovals == 1)
        #expect(saved.first?.linkRequired == .incident && saved.first?.maxSeconds == 7200)
        // A login sshd would not take and no approvals at all: named on the form.
        let refused = try admin.post(
            "/t/acme/access-policies",
            [("name", "Bad"), ("kind", "ssh"), ("host_label", "x"), ("ssh_login", "Root!"), ("requester_roles", "requester")]
                + [("max_minutes", "10"), ("customer_approvals", "0"), ("provider_approvals", "0"), ("break_glass_minutes", "5")]
                + [("lapse_minutes", "5")])
        #expect(refused.status == 422)
        #expect(refused.text.contains("ssh_login") && refused.text.contains("approvals"))
        let requester = try acme.signedIn("requester@acme.test", in: app)
        #expect(try requester.get("/t/acme/access-policies").text.contains("GPU train"))
        #expect(try requester.post("/t/acme/access-policies", fields, from: "/t/acme/access").status == 403)
    }

    @Test func breakGlassFilesItsReviewNotifiesAndWaitsForSomeoneElse() throws {
        let glass = try policy(
            AccessPolicy(
                id: UUID(), name: "Emergency approver", kind: .role, role: "approver", requesterRoles: ["requester"], maxSeconds: 3600,
                breakGlassRoles: ["requester"], breakGlassMaxSeconds: 900))
        let requester = try token("requester@acme.test", [.accessRequest, .requestsRead, .requestsWrite], tenant: acme.tenant)
        let body = #"{"policy_id": "\#(glass)", "reason": "the gateway is down", "duration_seconds": 900, "break_glass": true}"#
        // The token is read (and remembered) before the elevation: everyone's live grants are for approvers.
        #expect(try send("GET", "/api/v1/access/grants?tenant=acme&view=live", token: requester).status == 403)
        let broke = try send("POST", "/api/v1/access/requests?tenant=acme", token: requester, body)
        #expect(broke.status == 201)
        #expect(broke.body["state"] as? String == "approved")
        #expect(broke.body["break_glass"] as? Bool == true)
        // Elevated to approver at once, through the same token: its node forgot the remembered one.
        #expect(try send("GET", "/api/v1/access/grants?tenant=acme&view=live", token: requester).status == 200)
        let db = try app.database.connect()
        let review = try db.query(
            "SELECT id, state FROM requests WHERE tenant_id = $1 AND type = 'access' AND subject LIKE 'Break-glass review%'", [acme.tenant])
        #expect(review.count == 1)
        let reviewID = try review[0].require(0, as: UUID.self)
        let mail = try db.query(
            "SELECT destination FROM notification_deliveries WHERE tenant_id = $1 AND event = 'access.break_glass'", [acme.tenant])
        #expect(try mail.map { try $0.require(0, as: String.self) }.contains("tenant_admin@acme.test"))
        // Over the short maximum, and again while unreviewed: refused.
        let twice = try send("POST", "/api/v1/access/requests?tenant=acme", token: requester, body)
        #expect(twice.status == 409)
        // The person who broke glass cannot resolve their own review; someone else can.
        let own = try send("PATCH", "/api/v1/requests/\(reviewID)?tenant=acme", token: requester, #"{"state": "resolved"}"#)
        #expect(own.status == 422)
        let cse = try token("cse@staff.test", [.requestsRead, .requestsWrite], tenant: nil)
        let resolved = try send("PATCH", "/api/v1/requests/\(reviewID)?tenant=acme", token: cse, #"{"state": "resolved"}"#)
        #expect(resolved.status == 200)
        #expect(try send("POST", "/api/v1/access/requests?tenant=acme", token: requester, body).status == 201)
    }

    @Test func closingTheLinkedRequestEndsTheGrantInTheSameChange() throws {
        let linked = try policy(
            AccessPolicy(
                id: UUID(), name: "Approver for an incident", kind: .role, role: "approver", requesterRoles: ["requester"],
                maxSeconds: 3600, linkRequired: .incident))
        let requester = try token("requester@acme.test", [.accessRequest, .requestsWrite, .requestsRead], tenant: acme.tenant)
        let approver = try token("approver@acme.test", [.accessApprove], tenant: acme.tenant)
        let incident = try send(
            "POST", "/api/v1/requests?tenant=acme", token: requester, #"{"subject": "Gateway down", "type": "incident", "priority": "P1"}"#)
        let number = try #require(incident.body["number"] as? String)
        let incidentID = try #require(incident.body["id"] as? String)
        let unlinked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(linked)", "reason": "fix it", "duration_seconds": 600}"#)
        #expect(unlinked.status == 422)
        // A number no request can have is named as the field at fault, not "values break a rule".
        let huge = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(linked)", "reason": "fix it", "duration_seconds": 600, "linked_request": "ACME-99999999999"}"#)
        #expect(huge.status == 422)
        #expect((huge.body["errors"] as? [[String: Any]])?.first?["field"] as? String == "linked_request", "\(huge.body)")
        let asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(linked)", "reason": "fix it", "duration_seconds": 600, "linked_request": "\#(number)"}"#)
        let id = try #require(asked.body["id"] as? String)
        let approved = try send("POST", "/api/v1/access/requests/\(id)/approvals?tenant=acme", token: approver, #"{"decision": "approve"}"#)
        let grant = try #require((approved.body["grant"] as? [String: Any])?["id"] as? String)
        let cse = try token("cse@staff.test", [.requestsRead, .requestsWrite], tenant: nil)
        // Resolved keeps the grant (it may be reopened); closed ends it.
        #expect(try send("PATCH", "/api/v1/requests/\(incidentID)?tenant=acme", token: cse, #"{"state": "resolved"}"#).status == 200)
        #expect(try send("GET", "/api/v1/access/grants/\(grant)?tenant=acme", token: requester).body["state"] as? String == "active")
        #expect(try send("PATCH", "/api/v1/requests/\(incidentID)?tenant=acme", token: cse, #"{"state": "closed"}"#).status == 200)
        let ended = try send("GET", "/api/v1/access/grants/\(grant)?tenant=acme", token: requester)
        #expect(ended.body["state"] as? String == "revoked")
        #expect(ended.body["end_reason"] as? String == "the linked service request was closed")
    }
}

extension AccessFlowTests {
    /// The decision comes from the button pressed: a form without it (a client that submits
    /// without the button, or an unknown value) decides nothing, however much reason it carries.
    @Test func aDecisionTheFormDoesNotNameDecidesNothing() throws {
        let ops = try policy(
            AccessPolicy(
                id: UUID(), name: "Approver briefly", kind: .role, role: "approver", requesterRoles: ["requester"], maxSeconds: 600))
        let requester = try token("requester@acme.test", [.accessRequest], tenant: acme.tenant)
        let asked = try send(
            "POST", "/api/v1/access/requests?tenant=acme", token: requester,
            #"{"policy_id": "\#(ops)", "reason": "triage the queue", "duration_seconds": 600}"#)
        let id = try #require(asked.body["id"] as? String)
        let approver = try acme.signedIn("approver@acme.test", in: app)
        let page = "/t/acme/access/\(id)"
        for fields in [[("reason", "looks fine")], [("decision", "maybe"), ("reason", "looks fine")]] {
            let answer = try approver.post(page + "/decide", fields, from: page)
            #expect(answer.status == 422, "\(fields)")
            #expect(answer.text.contains("approve or deny"), "\(fields)")
            #expect(answer.text.contains("looks fine"), "the typed reason stays")
            #expect(try send("GET", "/api/v1/access/requests/\(id)?tenant=acme", token: requester).body["state"] as? String == "pending")
        }
        #expect(try approver.post(page + "/decide", [("decision", "approve")], from: page).status == 303)
        #expect(try send("GET", "/api/v1/access/requests/\(id)?tenant=acme", token: requester).body["state"] as? String == "approved")
    }
}
