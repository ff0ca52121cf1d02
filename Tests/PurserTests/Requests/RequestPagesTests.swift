import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The request pages and the staff queue over the real server: SLA clocks shown, changes on the
/// version shown, activity, watchers, files (uploads encoded by curl), filters, sorting, saved
/// views and bulk changes.
@Suite struct RequestPagesTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func file(_ subject: String, priority: String = "P3", type: String = "incident", as email: String = "requester@acme.test") throws
        -> [String: Any]
    {
        let token = try app.app.tokens.create(
            user: people.id(email), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        let response = try app.send(
            "POST", "/api/v1/requests",
            headers: [
                ("Authorization", "Bearer \(token)"),
                ("Content-Type", "application/json"),
            ],
            body: Array(#"{"subject": "\#(subject)", "type": "\#(type)", "priority": "\#(priority)"}"#.utf8))
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func staff() throws -> WebVisitor {
        try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
    }

    func version(_ page: ClientResponse) -> String {
        page.text.components(separatedBy: #"name="version" value=""#).dropFirst().first?.split(separator: "\"").first
            .map { String($0).replacingOccurrences(of: "&quot;", with: "\"") } ?? ""
    }

    @Test func staffChangeARequestOnTheVersionTheySawAndTheActivitySaysSo() throws {
        _ = try file("GPU node flapping")
        let cse = try staff()
        let page = try cse.get("/t/acme/requests/ACME-1")
        #expect(page.status == 200)
        #expect(page.text.contains("First response") && page.text.contains("left · due"))
        let seen = version(page)
        #expect(seen == "\"v1\"")
        let changed = try cse.post(
            "/t/acme/requests/ACME-1/update",
            [
                ("version", seen), ("state", "open"), ("priority", "P1"), ("assignee", people.id("cse@staff.test").postgresText),
                ("group", ""), ("tags", "gpu, EU-West"),
            ], from: "/t/acme/requests/ACME-1")
        #expect(changed.status == 303)
        let after = try cse.get("/t/acme/requests/ACME-1")
        #expect(after.text.contains(#"<span class="badge">P1</span>"#) && after.text.contains(#"<span class="badge">eu-west</span>"#))
        #expect(after.text.contains("changed assignee none → cse, priority P3 → P1, state new → open, tags none → eu-west,gpu"))
        // The same form again, on the version it showed before: refused, nothing lost, the page as it is now.
        let stale = try cse.post(
            "/t/acme/requests/ACME-1/update", [("version", seen), ("state", "resolved")], from: "/t/acme/requests/ACME-1")
        #expect(stale.status == 409)
        #expect(stale.text.contains("Someone changed this request while you had it open"))
        #expect(
            try cse.post(
                "/t/acme/requests/ACME-1/comments", [("body", "Checking the pool"), ("internal", "1")],
                from: "/t/acme/requests/ACME-1"
            ).status == 303)

        // The customer sees the state and the clocks, no staff controls, and nothing of the internal note.
        let customer = try people.signedIn("requester@acme.test", in: app)
        let theirs = try customer.get("/t/acme/requests/ACME-1")
        #expect(theirs.text.contains("First response"))
        #expect(!theirs.text.contains(#"name="priority""#) && theirs.text.contains(#"name="state""#))
        #expect(!theirs.text.contains("internal note") && !theirs.text.contains("Checking the pool"))
        #expect(theirs.text.contains("changed assignee none → cse"))
        // A customer's form cannot set priority even if they send it.
        _ = try customer.post(
            "/t/acme/requests/ACME-1/update", [("version", version(theirs)), ("state", "open"), ("priority", "P4")],
            from: "/t/acme/requests/ACME-1")
        #expect(try app.database.connect().query("SELECT priority FROM requests")[0].require(0, as: String.self) == "P1")
    }

    @Test func watchersHearOfPublicReplies() throws {
        _ = try file("Quota")
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.post("/t/acme/requests/ACME-1/watch", [("watch", "1")], from: "/t/acme/requests/ACME-1").status == 303)
        #expect(try viewer.get("/t/acme/requests/ACME-1").text.contains("Stop watching"))
        let cse = try staff()
        #expect(try cse.post("/t/acme/requests/ACME-1/comments", [("body", "Raised")], from: "/t/acme/requests/ACME-1").status == 303)
        #expect(
            try cse.post(
                "/t/acme/requests/ACME-1/comments", [("body", "Secret"), ("internal", "1")],
                from: "/t/acme/requests/ACME-1"
            ).status == 303)
        let mailed = try app.database.connect().query("SELECT destination, subject FROM notification_deliveries ORDER BY destination")
            .map { try $0.require(0, as: String.self) + " " + $0.require(1, as: String.self) }
        #expect(mailed == ["requester@acme.test ACME-1: cse replied", "viewer@acme.test ACME-1: cse replied"])
    }

    @Test func filesAreCheckedStoredAndServedAsDownloads() throws {
        let filed = try file("Logs attached")
        let id = try #require(filed["id"] as? String)
        let token = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "t",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system
        ).token
        func upload(_ name: String, _ type: String, _ bytes: [UInt8]) throws -> ClientResponse {
            try app.send(
                "POST", "/api/v1/requests/\(id)/attachments?filename=\(name)",
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", type)], body: bytes)
        }
        let log = try upload("trace%20%C3%A9.log", "text/plain", Array("line 1\nline 2\n".utf8))
        #expect(log.status == 201, "\(log.text)")
        #expect(log.text.contains(#""filename":"trace é.log""#))
        #expect(try upload("x.png", "image/png", Array("<html><script>alert(1)</script>".utf8)).status == 422)
        #expect(try upload("x.svg", "image/svg+xml", Array("<svg onload=alert(1)/>".utf8)).status == 422)
        #expect(try upload("x.html", "text/html", Array("<p>hi</p>".utf8)).status == 422)
        #expect(try upload("big.txt", "text/plain", [UInt8](repeating: 65, count: RequestAttachments.sizeLimit + 1)).status == 413)
        #expect(try upload("bin.txt", "text/plain", [0x00, 0xFF, 0x10]).status == 422)

        // Uploaded from the request page, as a browser would.
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString).csv")
        try Data("month,gpu_hours\n2026-10,1200\n".utf8).write(to: csv)
        let customer = try people.signedIn("requester@acme.test", in: app)
        #expect(
            try customer.upload("/t/acme/requests/ACME-1/attachments", file: csv, type: "text/csv", from: "/t/acme/requests/ACME-1") == 303)
        let page = try customer.get("/t/acme/requests/ACME-1")
        #expect(page.text.contains("trace é.log") && page.text.contains(csv.lastPathComponent))
        let link = try #require(
            page.text.components(separatedBy: #"href=""#).first {
                $0.hasPrefix("/t/acme/requests/ACME-1/attachments/") && $0.contains(">\(csv.lastPathComponent)<")
            }?.split(separator: "\"").first.map(String.init))
        let download = try customer.get(link)
        #expect(download.status == 200)
        #expect(download.header("Content-Disposition")?.hasPrefix("attachment; filename=") == true)
        #expect(download.header("Content-Type") == "text/csv")
        #expect(download.text == "month,gpu_hours\n2026-10,1200\n")
        #expect(page.text.contains("attached \(csv.lastPathComponent)"))

        // Another tenant's people find nothing there.
        let globex = try People(app, slug: "globex")
        let theirs = try app.app.tokens.create(
            user: globex.id("tenant_admin@globex.test"), tenant: globex.tenant, name: "t",
            scopes: [.requestsRead], lifetime: 3600, actor: .system
        ).token
        #expect(try app.get("/api/v1/requests/\(id)/attachments", headers: [("Authorization", "Bearer \(theirs)")]).status == 404)
        let listed = try app.get("/api/v1/requests/\(id)/attachments", headers: [("Authorization", "Bearer \(token)")])
        #expect(listed.text.components(separatedBy: "\"sha256\"").count == 3)
    }

    @Test func theQueueFiltersSortsSavesViewsAndChangesInBulk() throws {
        let slow = try file("Slow answer", priority: "P3")
        let down = try file("Production down", priority: "P1")
        _ = try file("Question", priority: "P4", type: "question")
        try app.database.connect().query("UPDATE requests SET sla_breached = true WHERE id = $1::uuid", [slow["id"] as! String])
        let cse = try staff()
        let due = try cse.get("/staff/requests?sort=due")
        #expect(due.status == 200)
        let order = ["ACME-2", "ACME-1", "ACME-3"].map { due.text.range(of: ">\($0)<")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!, "P1 due first, then P3, then P4")
        let breached = try cse.get("/staff/requests?sla=breached")
        #expect(breached.text.contains("Slow answer") && !breached.text.contains("Production down"))
        #expect(try cse.get("/staff/requests?sla=late").status == 422)

        // Bulk: the two ticked requests go to the CSE at P2, each change audited on its own.
        let cseID = people.id("cse@staff.test").postgresText
        let bulk = try cse.post(
            "/staff/requests/bulk",
            [
                ("request", slow["id"] as! String), ("request", down["id"] as! String),
                ("assignee", cseID), ("priority", "P2"), ("back", "sort=due"),
            ],
            from: "/staff/requests")
        #expect(bulk.status == 303 && bulk.header("Location") == "/staff/requests?sort=due")
        let mine = try cse.get("/staff/requests?assignee=mine")
        #expect(mine.text.contains("Slow answer") && mine.text.contains("Production down") && !mine.text.contains("Question"))
        #expect(
            try app.database.connect().query("SELECT count(*) FROM requests WHERE priority = 'P2' AND assignee_id IS NOT NULL")[0]
                .require(0, as: Int.self) == 2)
        #expect(
            try app.database.connect().query("SELECT count(*) FROM audit_events WHERE action = 'request.update'")[0]
                .require(0, as: Int.self) == 2)
        // Nothing ticked, nothing to set, or a value not on the list: the queue says so and still lists.
        for (fields, message) in [
            ([("assignee", cseID), ("back", "sort=due")], "tick the requests to change"),
            ([("request", slow["id"] as! String), ("back", "sort=due")], "choose an assignee or a priority"),
            ([("request", slow["id"] as! String), ("priority", "P9")], "choose one of P1, P2, P3, P4"),
        ] {
            let refused = try cse.post("/staff/requests/bulk", fields, from: "/staff/requests")
            #expect(refused.status == 422 && refused.text.contains(message), "\(fields)")
            #expect(refused.text.contains("Production down"), "the queue is still listed")
        }

        // A saved view comes back as a link with its filters.
        #expect(
            try cse.post(
                "/staff/requests/views", [("name", "My P2s"), ("query", "priority=P2&assignee=mine&after=x")],
                from: "/staff/requests"
            ).status == 303)
        let queue = try cse.get("/staff/requests")
        #expect(queue.text.contains(#"href="/staff/requests?priority=P2&amp;assignee=mine">My P2s</a>"#))
    }
}
