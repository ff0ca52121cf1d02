import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /api/v1/requests over the real server: filing with a number, reading by id or number, lists
/// with filters and cursors, changes guarded by If-Match and the workflow, and the tenant wall.
@Suite struct RequestsAPITests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, _ scopes: [Scope] = [.requestsRead, .requestsWrite], tenant: UUID?? = .none) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant ?? people.tenant, name: "t", scopes: scopes,
            lifetime: 3600, actor: .system
        ).token
    }

    func call(
        _ method: String, _ path: String, _ token: String, body: String? = nil,
        headers: [(name: String, value: String)] = []
    ) throws -> (ClientResponse, [String: Any]) {
        var all = [("Authorization", "Bearer \(token)")] + headers
        if body != nil { all.append(("Content-Type", "application/json")) }
        let response = try app.send(method, path, headers: all, body: body.map { Array($0.utf8) })
        return (response, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    @Test func fileReadListAndChange() throws {
        let requester = try token("requester@acme.test")
        let (created, body) = try call(
            "POST", "/api/v1/requests", requester,
            body: #"{"subject": "Endpoint slow", "description": "p95 over 2 s since 09:00", "type": "incident", "priority": "P2"}"#)
        #expect(created.status == 201, "\(body)")
        #expect(body["number"] as? String == "ACME-1")
        #expect(body["state"] as? String == "new")
        #expect((body["requester"] as? [String: Any])?["name"] as? String == "requester")
        let id = try #require(body["id"] as? String)
        #expect(created.header("Location") == "/api/v1/requests/\(id)")
        let etag = try #require(created.header("ETag"))
        #expect(try call("GET", "/api/v1/requests/ACME-1", requester).0.status == 200)
        #expect(try call("GET", "/api/v1/requests/acme-1", requester).1["id"] as? String == id)
        _ = try call(
            "POST", "/api/v1/requests", requester, body: #"{"subject": "How do I rotate keys?", "type": "question", "priority": "P4"}"#)
        _ = try call("POST", "/api/v1/requests", requester, body: #"{"subject": "Deploy v2", "type": "deployment", "priority": "P3"}"#)
        let page = try call("GET", "/api/v1/requests?limit=2", requester).1
        #expect((page["items"] as? [[String: Any]])?.map { $0["number"] as? String } == ["ACME-3", "ACME-2"])
        let cursor = try #require(page["next_cursor"] as? String)
        let rest = try call("GET", "/api/v1/requests?limit=2&cursor=\(cursor)", requester).1
        #expect((rest["items"] as? [[String: Any]])?.map { $0["number"] as? String } == ["ACME-1"])
        #expect(rest["next_cursor"] is NSNull)
        #expect(((try call("GET", "/api/v1/requests?type=question&q=rotate", requester).1["items"]) as? [[String: Any]])?.count == 1)

        // A change based on the version read; a stale one is refused with the current ETag.
        let (opened, openedBody) = try call(
            "PATCH", "/api/v1/requests/\(id)", requester, body: #"{"state": "open"}"#,
            headers: [("If-Match", etag)])
        #expect(opened.status == 200, "\(openedBody)")
        #expect(openedBody["state"] as? String == "open")
        let stale = try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"state": "resolved"}"#, headers: [("If-Match", etag)])
        #expect(stale.0.status == 412)
        #expect(stale.0.header("ETag") == opened.header("ETag"))
        // If-Match as RFC 9110 has it: a list admits the change when one member is current, `*`
        // admits any version, and a weak tag never matches.
        let current = try #require(opened.header("ETag"))
        let listed = try call(
            "PATCH", "/api/v1/requests/\(id)", requester, body: #"{"subject": "Endpoint slow (eu)"}"#,
            headers: [("If-Match", "\(etag) , \(current)")])
        #expect(listed.0.status == 200, "\(listed.1)")
        let any = try call(
            "PATCH", "/api/v1/requests/\(id)", requester, body: #"{"subject": "Endpoint slow"}"#, headers: [("If-Match", "*")])
        #expect(any.0.status == 200, "\(any.1)")
        let latest = try #require(any.0.header("ETag"))
        for refused in ["W/\(latest)", String(latest.dropFirst().dropLast()), "\(latest), garbage"] {
            let weak = try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"subject": "x"}"#, headers: [("If-Match", refused)])
            #expect(weak.0.status == 412, "\(refused)")
        }
        // A change that is wrong whatever the version is refused as such, not sent to read it again.
        let malformed = try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"priority": ""}"#, headers: [("If-Match", etag)])
        #expect(malformed.0.status == 422, "\(malformed.1)")
        let forbidden = try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"state": "closed"}"#)
        #expect(forbidden.0.status == 422)
        #expect(
            ((forbidden.1["errors"] as? [[String: Any]])?.first?["detail"] as? String)
                == "an open request can become: pending_customer, resolved")
        // Triage is for staff: a customer cannot change priority.
        #expect(try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"priority": "P1"}"#).0.status == 403)
        let cse = try token("cse@staff.test", tenant: .some(nil))
        let triaged = try call(
            "PATCH", "/api/v1/requests/\(id)?tenant=acme", cse,
            body: "{\"priority\": \"P1\", \"assignee_id\": \"\(people.id("cse@staff.test").postgresText)\"}")
        #expect(triaged.0.status == 200, "\(triaged.1)")
        #expect((triaged.1["assignee"] as? [String: Any])?["name"] as? String == "cse")
        let audited = try app.database.connect().query("SELECT count(*) FROM audit_events WHERE action LIKE 'request.%'")[0]
            .require(0, as: Int.self)
        #expect(audited == 7, "three filings, four changes")
    }

    /// Lengths are counted as sent, as the document's `maxLength` counts them, not after trimming
    /// (make fuzz found a 50,001-character reply with a leading tab accepted).
    @Test func lengthsCountWhatWasSent() throws {
        let requester = try token("requester@acme.test")
        let subject = " " + String(repeating: "s", count: 200)
        let tooLong = try call(
            "POST", "/api/v1/requests", requester, body: #"{"subject": "\#(subject)", "type": "question", "priority": "P3"}"#)
        #expect(tooLong.0.status == 422)
        #expect((tooLong.1["errors"] as? [[String: Any]])?.first?["field"] as? String == "subject")
        let (created, body) = try call(
            "POST", "/api/v1/requests", requester,
            body: #"{"subject": "\#(String(subject.dropLast()))", "type": "question", "priority": "P3"}"#)
        #expect(created.status == 201)
        let id = try #require(body["id"] as? String)
        func comment(_ text: String) throws -> ClientResponse {
            let json = String(decoding: try JSONSerialization.data(withJSONObject: ["body": text]), as: UTF8.self)
            return try call("POST", "/api/v1/requests/\(id)/comments", requester, body: json).0
        }
        let reply = "\t" + String(repeating: "0", count: 50000)
        #expect(try comment(reply).status == 422)
        #expect(try comment(String(reply.dropLast())).status == 201)
    }

    @Test func badInputAndOtherTenantsRequests() throws {
        let requester = try token("requester@acme.test")
        let bad = try call("POST", "/api/v1/requests", requester, body: #"{"subject": "", "type": "outage", "priority": "P9"}"#)
        #expect(bad.0.status == 422)
        #expect(Set((bad.1["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []) == ["subject", "type", "priority"])
        // A NUL in a query value reaches the handler whole (not cut at the NUL) and is refused.
        #expect(try call("GET", "/api/v1/requests?q=slow%00" + String(repeating: "x", count: 250), requester).0.status == 400)
        #expect(try call("GET", "/api/v1/requests?q=a%00b", requester).0.status == 400)
        let id = try #require(
            try call(
                "POST", "/api/v1/requests", requester,
                body: #"{"subject": "Ours", "type": "question", "priority": "P4"}"#
            ).1["id"] as? String)
        let globex = try People(app, slug: "globex")
        let outsider = try app.app.tokens.create(
            user: globex.id("tenant_admin@globex.test"), tenant: globex.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        #expect(try call("GET", "/api/v1/requests/\(id)", outsider).0.status == 404)
        #expect(try call("GET", "/api/v1/requests/ACME-1", outsider).0.status == 404)
        // A number beyond the column's integer names no request: 404, not the database's 422.
        #expect(try call("GET", "/api/v1/requests/ACME-2147483648", requester).0.status == 404)
        #expect(try call("GET", "/api/v1/requests/ACME-99999999999999999999", requester).0.status == 404)
        #expect(try call("GET", "/api/v1/requests/ACME-0", requester).0.status == 404)
        #expect(try call("PATCH", "/api/v1/requests/\(id)", outsider, body: #"{"state": "open"}"#).0.status == 404)
        #expect(((try call("GET", "/api/v1/requests", outsider).1["items"]) as? [[String: Any]])?.isEmpty == true)
        // A viewer's token holding requests:write (made before scopes followed roles) still files nothing.
        let viewer = try token("viewer@acme.test", [.requestsRead])
        try app.database.connect().query(
            "UPDATE api_tokens SET scopes = '{requests:read,requests:write}' WHERE name = 't' AND user_id = $1",
            [people.id("viewer@acme.test")])
        app.app.tokens.forgetAll()
        #expect(
            try call("POST", "/api/v1/requests", viewer, body: #"{"subject": "x", "type": "question", "priority": "P4"}"#).0.status == 403)
        #expect(try call("GET", "/api/v1/requests?limit=500", requester).0.status == 400)
        let misspelt = try call(
            "POST", "/api/v1/requests", requester,
            body: #"{"subject": "x", "type": "question", "priority": "P4", "priorty": "P1"}"#)
        #expect(misspelt.0.status == 400)
        #expect(misspelt.1["detail"] as? String == "'priorty' is not a field of this request.")
    }

    @Test func internalNotesNeverReachCustomers() throws {
        let requester = try token("requester@acme.test")
        let id = try #require(
            try call(
                "POST", "/api/v1/requests", requester,
                body: #"{"subject": "Quota", "type": "question", "priority": "P3"}"#
            ).1["id"] as? String)
        let cse = try token("cse@staff.test", tenant: .some(nil))
        #expect(
            try call(
                "POST", "/api/v1/requests/\(id)/comments?tenant=acme", cse,
                body: #"{"body": "Customer is on the old plan; check billing first", "internal": true}"#
            ).0.status == 201)
        #expect(
            try call(
                "POST", "/api/v1/requests/\(id)/comments?tenant=acme", cse,
                body: #"{"body": "Looking into it"}"#
            ).0.status == 201)
        // A customer cannot write an internal note, and never reads one.
        #expect(try call("POST", "/api/v1/requests/\(id)/comments", requester, body: #"{"body": "x", "internal": true}"#).0.status == 403)
        let customerView = try call("GET", "/api/v1/requests/\(id)/comments", requester)
        let bodies = (customerView.1["items"] as? [[String: Any]])?.compactMap { $0["body"] as? String } ?? []
        #expect(bodies == ["Looking into it"])
        #expect(!String(decoding: customerView.0.body, as: UTF8.self).contains("billing"))
        let staffView = try call("GET", "/api/v1/requests/\(id)/comments?tenant=acme", cse)
        #expect((staffView.1["items"] as? [[String: Any]])?.count == 2)
        // A customer's reply to a request waiting on them reopens it.
        _ = try call("PATCH", "/api/v1/requests/\(id)?tenant=acme", cse, body: #"{"state": "pending_customer"}"#)
        #expect(try call("POST", "/api/v1/requests/\(id)/comments", requester, body: #"{"body": "Here are the logs"}"#).0.status == 201)
        #expect(try call("GET", "/api/v1/requests/\(id)", requester).1["state"] as? String == "open")
        #expect(try call("POST", "/api/v1/requests/\(id)/comments", requester, body: #"{"body": "   "}"#).0.status == 422)
    }

    @Test func theStaffQueueSpansTenantsAndFilters() throws {
        let globex = try People(app, slug: "globex")
        _ = try call(
            "POST", "/api/v1/requests", try token("requester@acme.test"),
            body: #"{"subject": "Acme outage", "type": "incident", "priority": "P1"}"#)
        let theirs = try app.app.tokens.create(
            user: globex.id("requester@globex.test"), tenant: globex.tenant, name: "t",
            scopes: [.requestsWrite], lifetime: 3600, actor: .system
        ).token
        _ = try call("POST", "/api/v1/requests", theirs, body: #"{"subject": "Globex question", "type": "question", "priority": "P4"}"#)
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        let all = try cse.get("/staff/requests")
        #expect(all.status == 200)
        #expect(all.text.contains("ACME-1") && all.text.contains("GLOBEX-1"))
        let acme = try cse.get("/staff/requests?tenant=acme")
        #expect(acme.text.contains("Acme outage") && !acme.text.contains("Globex question"))
        let urgent = try cse.get("/staff/requests?priority=P1&unassigned=1")
        #expect(urgent.text.contains("ACME-1") && !urgent.text.contains("GLOBEX-1"))
        #expect(try cse.get("/staff/requests?priority=P9").status == 422)
        #expect(try people.signedIn("viewer@acme.test", in: app).get("/staff/requests").status == 404)
    }
}
