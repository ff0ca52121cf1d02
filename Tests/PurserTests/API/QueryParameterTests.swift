import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// The API holds the query to what each operation declares, in one place (the gate), as it holds a
/// JSON body to its fields: an unknown parameter is a 400 naming it, an empty value for a parameter
/// with an enumeration or a format is a 422 naming it. Pages read an empty choice as "any".
@Suite struct QueryParameterTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, _ scopes: [Scope], tenant: UUID?) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant, name: "q", scopes: scopes,
            lifetime: 3600, actor: .system
        ).token
    }

    func call(
        _ method: String, _ path: String, _ token: String, body: String? = nil,
        headers: [(name: String, value: String)] = []
    ) throws -> (status: Int, body: [String: Any], response: ClientResponse) {
        var all = [("Authorization", "Bearer \(token)")] + headers
        if body != nil { all.append(("Content-Type", "application/json")) }
        let response = try app.send(method, path, headers: all, body: body.map { Array($0.utf8) })
        return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:], response)
    }

    /// The fields a problem names in `errors`.
    func named(_ body: [String: Any]) -> [String] {
        ((body["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
    }

    @Test func anUnknownParameterIsRefusedNamingItOnEveryKindOfRoute() throws {
        let requester = try token(
            "tenant_admin@acme.test", [.requestsRead, .requestsWrite, .notificationsRead, .reportsRead],
            tenant: people.tenant)
        let filed = try call("POST", "/api/v1/requests", requester, body: #"{"subject": "Slow", "type": "incident", "priority": "P2"}"#)
        #expect(filed.status == 201)
        let id = try #require(filed.body["id"] as? String)
        let etag = try #require(filed.response.header("ETag"))
        for (method, path) in [
            ("GET", "/api/v1/requests?colour=blue"), ("GET", "/api/v1/requests/\(id)?colour=blue"),
            ("GET", "/api/v1/requests/\(id)/comments?colour=blue"), ("GET", "/api/v1/me?colour=blue"),
            ("GET", "/api/v1/tokens?colour=blue"), ("GET", "/api/v1/notifications/deliveries?colour=blue"),
            ("GET", "/api/v1/reports/sla?colour=blue"), ("DELETE", "/api/v1/tokens/\(UUID())?colour=blue"),
        ] {
            let answer = try call(method, path, requester)
            #expect(answer.status == 400, "\(method) \(path): \(answer.status)")
            #expect(named(answer.body) == ["colour"], "\(method) \(path): \(answer.body)")
            #expect((answer.body["detail"] as? String)?.contains("'colour'") == true, "\(answer.body)")
        }
        // A misspelt filter answers nothing rather than everything.
        let misspelt = try call("GET", "/api/v1/requests?stat=open&priorty=P1", requester)
        #expect(misspelt.status == 400 && named(misspelt.body) == ["stat", "priorty"], "\(misspelt.body)")
        // A change with a query it does not take changes nothing.
        let patched = try call(
            "PATCH", "/api/v1/requests/\(id)?priority=P1", requester, body: #"{"subject": "Slow since 09:00"}"#,
            headers: [("If-Match", etag)])
        #expect(patched.status == 400 && named(patched.body) == ["priority"], "\(patched.body)")
        #expect(try call("GET", "/api/v1/requests/\(id)", requester).body["subject"] as? String == "Slow")
        // So does a filing: nothing is filed.
        let post = try call(
            "POST", "/api/v1/requests?dry_run=1", requester, body: #"{"subject": "Twice", "type": "question", "priority": "P4"}"#)
        #expect(post.status == 400 && named(post.body) == ["dry_run"], "\(post.body)")
        #expect((try call("GET", "/api/v1/requests", requester).body["items"] as? [[String: Any]])?.count == 1)
        // Declared parameters still work.
        #expect(try call("GET", "/api/v1/requests?state=new&priority=P2&limit=5", requester).status == 200)
        let declared = try call(
            "PATCH", "/api/v1/requests/\(id)?tenant=acme", requester, body: #"{"subject": "Slow since 09:00"}"#,
            headers: [("If-Match", etag)])
        #expect(declared.status == 200, "\(declared.body)")
    }

    @Test func anEmptyValueOfAParameterWithValuesOrAFormatIsRefusedNamingIt() throws {
        let admin = try token("tenant_admin@acme.test", [.requestsRead, .notificationsRead, .reportsRead], tenant: people.tenant)
        for (path, field) in [
            ("/api/v1/requests?state=", "state"), ("/api/v1/requests?priority=", "priority"),
            ("/api/v1/requests?type=", "type"), ("/api/v1/requests?sort=", "sort"),
            ("/api/v1/requests?breached=", "breached"), ("/api/v1/requests?cursor=", "cursor"),
            ("/api/v1/notifications/deliveries?cursor=", "cursor"),
            ("/api/v1/notifications/deliveries?before=", "before"),
            ("/api/v1/reports/sla?group_by=", "group_by"), ("/api/v1/reports/sla?period=", "period"),
            ("/api/v1/reports/sla?from=", "from"),
        ] {
            let answer = try call("GET", path, admin)
            #expect(answer.status == 422, "\(path): \(answer.status)")
            #expect(named(answer.body) == [field], "\(path): \(answer.body)")
        }
        // A free-text parameter may be empty.
        #expect(try call("GET", "/api/v1/requests?q=", admin).status == 200)
        // `tenant` is taken where it is declared, and its empty value is the gate's to judge as before
        // (no tenant of this token's: 404; a staff token naming none: 400), never an unknown or empty parameter.
        for path in ["/api/v1/requests", "/api/v1/me", "/api/v1/reports/sla", "/api/v1/notifications/deliveries", "/api/v1/tokens"] {
            #expect(try call("GET", path + "?tenant=acme", admin).status == 200, "\(path)")
            let empty = try call("GET", path + "?tenant=", admin)
            #expect(empty.status != 422 && !named(empty.body).contains("tenant"), "\(path): \(empty.body)")
        }
        let staff = try token("cse@staff.test", [.requestsRead], tenant: nil)
        #expect(try call("GET", "/api/v1/requests?tenant=acme", staff).status == 200)
        let unnamed = try call("GET", "/api/v1/requests?tenant=", staff)
        #expect(unnamed.status == 400 && !named(unnamed.body).contains("tenant"), "\(unnamed.body)")
        // Pages are not the API: an empty choice there is "any".
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/t/acme/reports/sla?group_by=&period=").status == 200)
    }

    @Test func theDeliveryLogPagesWithCursorAndKeepsItsOldNamesOneRelease() throws {
        let connection = try app.database.connect()
        for index in 0..<3 {
            try connection.query(
                """
                INSERT INTO notification_deliveries (id, tenant_id, kind, destination, event, subject, message, state, created_at)
                VALUES ($1, $2, 'email', 'ops@acme.test', 'request.filed', $3, '{}', 'delivered', now() - make_interval(mins => $4))
                """, [UUID(), people.tenant, "Delivery \(index)", index])
        }
        let admin = try token("tenant_admin@acme.test", [.notificationsRead], tenant: people.tenant)
        func subjects(_ body: [String: Any]) -> [String] {
            ((body["items"] as? [[String: Any]]) ?? []).compactMap { $0["subject"] as? String }
        }
        let first = try call("GET", "/api/v1/notifications/deliveries?limit=2", admin)
        #expect(first.status == 200, "\(first.body)")
        #expect(subjects(first.body) == ["Delivery 0", "Delivery 1"])
        let cursor = try #require(first.body["next_cursor"] as? String)
        #expect(first.body["next"] as? String == cursor, "the old field, the same value")
        let second = try call("GET", "/api/v1/notifications/deliveries?limit=2&cursor=\(cursor)", admin)
        #expect(subjects(second.body) == ["Delivery 2"])
        #expect(second.body["next_cursor"] is NSNull && second.body["next"] is NSNull)
        // The old parameter still pages, and agreeing with cursor is allowed; disagreeing is not.
        #expect(subjects(try call("GET", "/api/v1/notifications/deliveries?limit=2&before=\(cursor)", admin).body) == ["Delivery 2"])
        #expect(
            subjects(try call("GET", "/api/v1/notifications/deliveries?limit=2&before=\(cursor)&cursor=\(cursor)", admin).body)
                == ["Delivery 2"])
        let disagreeing = try call("GET", "/api/v1/notifications/deliveries?cursor=\(cursor)&before=\(UUID())", admin)
        #expect(disagreeing.status == 400 && named(disagreeing.body) == ["before"], "\(disagreeing.body)")
    }
}
