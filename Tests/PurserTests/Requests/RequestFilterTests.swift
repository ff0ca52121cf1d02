import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// One reading of a request list's filters (RequestFilter) and one rule per field (RequestRules):
/// the tenant's list, the staff queue and the API give the same requests for the same filter,
/// pages read the names they wrote before (saved views hold them) and write the API's, and a
/// bad subject gets the same words from a page and from the API.
@Suite struct RequestFilterTests {
    static let viewer = UUID()

    func parse(
        _ text: String, _ audience: RequestFilter.Audience, viewer: UUID? = viewer,
        states: RequestFilter.States = .any
    ) -> (RequestFilter, [FieldError]) {
        RequestFilter.parse(QueryParameters(parsing: text), for: audience, viewer: viewer, states: states)
    }

    @Test func thePagesOlderNamesAreTheAPIsFilters() throws {
        let cursor = UUID()
        let pairs = [
            ("sla=breached&mine=1&after=\(cursor.postgresText)", "breached=true&assignee=me&cursor=\(cursor.postgresText)"),
            ("sla=escalated&unassigned=1", "escalated=true&assignee=none"),
            ("assignee=mine", "assignee=me"),
            ("assignee=unassigned&priority=P2", "assignee=none&priority=P2"),
        ]
        for (old, new) in pairs {
            let page = parse(old, .page), api = parse(new, .api), pageNew = parse(new, .page)
            #expect(page.1.isEmpty && api.1.isEmpty && pageNew.1.isEmpty, "\(old)")
            #expect(page.0.query.breached == api.0.query.breached && page.0.query.escalated == api.0.query.escalated)
            #expect(page.0.query.assignee == api.0.query.assignee && page.0.query.unassigned == api.0.query.unassigned)
            #expect(page.0.query.after == api.0.query.after && page.0.query.priority == api.0.query.priority)
            #expect(page.0.key == pageNew.0.key, "one filter, one remembered answer: \(old)")
            // Written back in the API's names.
            #expect(page.0.pageQuery() == pageNew.0.pageQuery())
            #expect(
                !page.0.pageQuery().contains("sla=") && !page.0.pageQuery().contains("mine")
                    && !page.0.pageQuery().contains("unassigned") && !page.0.pageQuery().contains("after"))
        }
        #expect(parse("sla=breached&mine=1", .page).0.pageQuery() == "assignee=me&breached=true")
        #expect(
            parse("sla=breached&mine=1&after=\(cursor.postgresText)", .page).0
                .nextLink(SitePage.staffRequests.url, after: cursor).path
                == "/staff/requests?assignee=me&breached=true&cursor=\(cursor.postgresText)")
        // The API reads only its own names' values.
        #expect(parse("assignee=mine", .api).1.map(\.field) == ["assignee"])
        #expect(parse("state=active", .api).1.map(\.field) == ["state"])
        #expect(parse("breached=yes", .api).1.map(\.field) == ["breached"])
    }

    @Test func anEmptyChoiceIsAnyOnAPageAndRefusedByTheAPI() {
        for name in ["priority", "type", "assignee", "group", "breached", "escalated", "sort"] {
            let page = parse("\(name)=", .page)
            #expect(page.1.isEmpty && page.0 == RequestFilter(), "\(name)")
            #expect(parse("\(name)=", .api).1.map(\.field) == [name])
        }
        #expect(parse("state=", .page, states: .active).0.states == .any)
        #expect(parse("", .page, states: .active).0.states == .active)
        #expect(parse("q=", .api).1.isEmpty)
    }

    @Test func rememberedAnswersAreKeptApartWhereTheFiltersDiffer() {
        let other = UUID()
        #expect(parse("assignee=me", .api).0.key != parse("assignee=me", .api, viewer: other).0.key, "two people's `me`")
        #expect(
            parse("assignee=me", .page).0.key != parse("assignee=\(Self.viewer.postgresText)", .page).0.key,
            "the page draws them differently")
        let keys = [
            "", "state=open", "priority=P1", "type=question", "assignee=none", "group=\(other.postgresText)", "breached=true",
            "escalated=true", "q=gpu", "sort=due", "cursor=\(other.postgresText)", "limit=5", "tenant=acme",
        ]
        .map { parse($0, .page).0.key + "/" + parse($0, .api).0.key }
        #expect(Set(keys).count == keys.count)
        #expect(parse("q=a|b", .page).0.key != parse("q=a", .page).0.key)
    }

    @Test func aFieldsRuleHasOneMessage() throws {
        let bad = try NewRequest(subject: "  ", type: "outage", priority: "P9").validateErrors()
        #expect(bad.first { $0.field == "subject" }?.detail == RequestRules.subjectDetail)
        #expect(bad.first { $0.field == "priority" }?.detail == RequestFilter.problem("priority").detail)
        #expect(bad.first { $0.field == "type" }?.detail == RequestFilter.problem("type").detail)
        #expect(RequestRules.subject("two\nlines")?.detail == RequestRules.subjectDetail)
        #expect(RequestRules.subject(String(repeating: "x", count: 200)) == nil)
        #expect(RequestRules.subject(String(repeating: "x", count: 201)) != nil)
    }
}

extension NewRequest {
    func validateErrors() throws -> [FieldError] {
        do { try validate(); return [] } catch let error as ValidationError { return error.fieldErrors }
    }
}

/// The same over the real server.
@Suite struct RequestFilterServerTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, tenant: UUID?) throws -> String { try people.requestsToken(email, tenant: tenant, in: app) }

    func call(_ method: String, _ path: String, _ token: String, body: String? = nil) throws -> (ClientResponse, [String: Any]) {
        var headers = [("Authorization", "Bearer \(token)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response = try app.send(method, path, headers: headers, body: body.map { Array($0.utf8) })
        return (response, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    /// The request numbers a page lists, in its order.
    static func numbers(_ page: ClientResponse) -> [String] {
        page.text.components(separatedBy: #"/requests/ACME-"#).dropFirst().compactMap { part -> String? in
            guard let end = part.firstIndex(of: "\""), part[part.index(after: end)...].hasPrefix(">ACME-") else { return nil }
            return "ACME-" + part[..<end]
        }
    }

    static func numbers(_ body: [String: Any]) -> [String] {
        (body["items"] as? [[String: Any]])?.compactMap { $0["number"] as? String } ?? []
    }

    /// ACME-1 … ACME-6: assigned, breached, escalated, open and of several types and priorities.
    func seed() throws -> [String: String] {
        let requester = try token("requester@acme.test", tenant: people.tenant)
        var ids: [String: String] = [:]
        for (subject, type, priority) in [
            ("GPU pool down", "incident", "P1"), ("Slow answers", "incident", "P2"),
            ("Rotate keys", "question", "P4"), ("Deploy v2", "deployment", "P3"),
            ("Access for Bea", "access", "P2"), ("Quota", "question", "P3"),
        ] {
            let (response, body) = try call(
                "POST", "/api/v1/requests", requester,
                body: #"{"subject": "\#(subject)", "type": "\#(type)", "priority": "\#(priority)"}"#)
            #expect(response.status == 201)
            ids[body["number"] as! String] = body["id"] as? String
        }
        let cse = people.id("cse@staff.test")
        let db = try app.database.connect()
        try db.query("UPDATE requests SET assignee_id = $1 WHERE number IN (1, 2, 5)", [cse])
        try db.query("UPDATE requests SET sla_breached = true WHERE number IN (2, 3)")
        try db.query("UPDATE requests SET escalated = true WHERE number = 3")
        try db.query("UPDATE requests SET state = 'open' WHERE number IN (4, 5)")
        try db.query("UPDATE requests SET state = 'resolved', resolved_at = now() WHERE number = 6")
        return ids
    }

    @Test func thePagesAndTheAPIListTheSameRequestsForTheSameFilter() throws {
        let ids = try seed()
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        let api = try token("cse@staff.test", tenant: nil)
        let third = try #require(ids["ACME-3"]), first = try #require(ids["ACME-1"])
        // In the API's names, and (pages only) the names pages wrote before.
        let filters: [(api: String, older: [String])] = [
            ("", []), ("priority=P2", []), ("type=question", []), ("state=open", []), ("sort=due", []), ("q=keys", []),
            ("assignee=me", ["mine=1", "assignee=mine"]), ("assignee=none", ["unassigned=1", "assignee=unassigned"]),
            ("breached=true", ["sla=breached"]), ("escalated=true", ["sla=escalated"]),
            ("priority=P2&assignee=me&breached=true", ["priority=P2&mine=1&sla=breached"]),
            ("cursor=\(third)", ["after=\(third)"]), ("sort=due&cursor=\(first)", ["sort=due&after=\(first)"]),
        ]
        var nonEmpty = 0
        for (filter, older) in filters {
            let answer = try call("GET", "/api/v1/requests?tenant=acme&limit=100" + (filter.isEmpty ? "" : "&" + filter), api)
            #expect(answer.0.status == 200, "\(filter): \(answer.1)")
            let expected = Self.numbers(answer.1)
            if !expected.isEmpty { nonEmpty += 1 }
            // The queue opens on the active requests: it is asked for every state unless the filter names one.
            let anyState = filter.contains("state=") ? "" : "state=any&"
            for query in [filter] + older {
                let list = try cse.get("/t/acme/requests" + (query.isEmpty ? "" : "?" + query))
                #expect(list.status == 200 && Self.numbers(list) == expected, "/t/acme/requests?\(query)")
                let queue = try cse.get("/staff/requests?tenant=acme&" + anyState + query)
                #expect(queue.status == 200 && Self.numbers(queue) == expected, "/staff/requests?\(query)")
            }
            // The API reads its own names only.
            for query in older where !query.contains("assignee=") {
                #expect(try call("GET", "/api/v1/requests?tenant=acme&" + query, api).0.status == 400, "\(query)")
            }
        }
        #expect(nonEmpty == filters.count, "every filter selects something")
        #expect(Self.numbers(try call("GET", "/api/v1/requests?tenant=acme&breached=true", api).1) == ["ACME-3", "ACME-2"])
        #expect(Self.numbers(try call("GET", "/api/v1/requests?tenant=acme&assignee=none", api).1) == ["ACME-6", "ACME-4", "ACME-3"])
        #expect(try call("GET", "/api/v1/requests?tenant=acme&assignee=mine", api).0.status == 400)
        // The queue's own default: the active requests (ACME-6 is resolved).
        #expect(Self.numbers(try cse.get("/staff/requests?tenant=acme")) == ["ACME-5", "ACME-4", "ACME-3", "ACME-2", "ACME-1"])
        #expect(try cse.get("/t/acme/requests?priority=P9").status == 422)
    }

    @Test func viewsSavedWithTheOlderNamesStillWorkAndFormsWriteTheAPIsNames() throws {
        _ = try seed()
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        let user = people.id("cse@staff.test")
        // As the queue saved them before it wrote the API's names.
        let db = try app.database.connect()
        for (name, query) in [
            ("Mine breached", "sla=breached&assignee=mine&state=any"), ("Nobody", "assignee=unassigned"),
            ("Escalated", "sla=escalated&state=any"),
        ] {
            try db.query("INSERT INTO saved_views (id, user_id, name, query) VALUES ($1, $2, $3, $4)", [UUID.v7(), user, name, query])
        }
        let queue = try cse.get("/staff/requests")
        func follow(_ name: String) throws -> ClientResponse {
            let link = try #require(
                queue.text.components(separatedBy: #"<a class="badge" href=""#).dropFirst()
                    .first { $0.contains("\">\(name)</a>") }?.split(separator: "\"").first.map(String.init))
            return try cse.get(link.replacingOccurrences(of: "&amp;", with: "&"))
        }
        let mine = try follow("Mine breached")
        #expect(mine.status == 200 && RequestFilterServerTests.numbers(mine) == ["ACME-2"])
        #expect(
            RequestFilterServerTests.numbers(mine)
                == RequestFilterServerTests.numbers(try cse.get("/staff/requests?breached=true&assignee=me&state=any")))
        let nobody = try follow("Nobody")
        #expect(RequestFilterServerTests.numbers(nobody) == ["ACME-4", "ACME-3"])
        #expect(RequestFilterServerTests.numbers(try follow("Escalated")) == ["ACME-3"])

        // The page shows the filter in the API's names: its form's choices, the view it would save, the bulk form's way back.
        #expect(mine.text.contains(#"<select name="breached">"#) && mine.text.contains(#"<option value="true" selected>breached</option>"#))
        #expect(mine.text.contains(#"<option value="me" selected>me</option>"#))
        #expect(mine.text.contains(#"name="query" value="state=any&amp;assignee=me&amp;breached=true""#))
        #expect(!mine.text.contains(#"name="sla""#) && !mine.text.contains(#"value="mine""#) && !mine.text.contains(#"value="unassigned""#))
        #expect(nobody.text.contains(#"<option value="none" selected>nobody</option>"#))
        #expect(
            try cse.post(
                "/staff/requests/views", [("name", "Saved now"), ("query", "state=any&assignee=me&breached=true")],
                from: "/staff/requests"
            ).status == 303)
        #expect(
            try db.query("SELECT query FROM saved_views WHERE name = 'Saved now'")[0].require(0, as: String.self)
                == "state=any&assignee=me&breached=true")
    }

    @Test func theSubjectRuleSaysTheSameOnThePageAndInTheAPI() throws {
        let requester = try token("requester@acme.test", tenant: people.tenant)
        func subjectDetail(_ body: [String: Any]) -> String? {
            (body["errors"] as? [[String: Any]])?.first { $0["field"] as? String == "subject" }?["detail"] as? String
        }
        let filed = try call("POST", "/api/v1/requests", requester, body: #"{"subject": " ", "type": "question", "priority": "P4"}"#)
        #expect(filed.0.status == 422)
        #expect(subjectDetail(filed.1) == "give a subject of 1–200 characters, on one line")
        let ok = try call("POST", "/api/v1/requests", requester, body: #"{"subject": "Fine", "type": "question", "priority": "P4"}"#)
        let id = try #require(ok.1["id"] as? String)
        let changed = try call("PATCH", "/api/v1/requests/\(id)", requester, body: #"{"subject": "two\nlines"}"#)
        #expect(changed.0.status == 422)
        #expect(subjectDetail(changed.1) == "give a subject of 1–200 characters, on one line")
        let tooLong = try call(
            "PATCH", "/api/v1/requests/\(id)", requester, body: "{\"subject\": \"\(String(repeating: "x", count: 201))\"}")
        #expect(subjectDetail(tooLong.1) == "give a subject of 1–200 characters, on one line")

        let customer = try people.signedIn("requester@acme.test", in: app)
        let page = try customer.post(
            "/t/acme/requests", [("subject", "   "), ("type", "question"), ("priority", "P4")],
            from: "/t/acme/requests/new")
        #expect(page.status == 422)
        #expect(page.text.contains("<strong>subject</strong>: give a subject of 1–200 characters, on one line"))
    }
}
