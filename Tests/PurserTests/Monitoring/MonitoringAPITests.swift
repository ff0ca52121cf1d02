import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// The monitoring API and status pages over the socket: staff add a URL and plan maintenance, a
/// customer reads their endpoints and the uptime report, bad windows are refused, and the public
/// status link works until it is rotated.
@Suite(.serialized) struct MonitoringAPITests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp { configuration in
            configuration.allowHTTPDestinations = true
            configuration.allowedDestinations = ["127.0.0.1/32"]
        }
        people = try People(app, staff: true)
    }

    func token(_ email: String, tenant: UUID?, scopes: [Scope]) throws -> String {
        try app.app.tokens.create(user: people.id(email), tenant: tenant, name: "t", scopes: scopes, lifetime: 3600, actor: .system).token
    }

    func call(_ method: String, _ path: String, _ token: String, body: String? = nil) throws -> (
        status: Int, json: [String: Any], response: ClientResponse
    ) {
        let response = try app.send(
            method, path,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("Idempotency-Key", UUID().uuidString)],
            body: body.map { Array($0.utf8) })
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:], response)
    }

    @Test func staffAddAndPlanCustomersRead() throws {
        let staff = try token("cse@staff.test", tenant: nil, scopes: [.monitoringWrite, .deploymentsRead])
        let viewer = try token("viewer@acme.test", tenant: people.tenant, scopes: [.deploymentsRead, .reportsRead])

        // A URL on a private network, added by hand, is refused; a loopback one (allowed here) is probed.
        var made = try call(
            "POST", "/api/v1/probe-targets?tenant=acme", staff, body: #"{"name": "internal", "url": "https://10.9.8.7/health"}"#)
        #expect(made.status == 422 && "\(made.json)".contains("not a public address"))
        made = try call(
            "POST", "/api/v1/probe-targets?tenant=acme", staff,
            body:
                #"{"name": "chat", "url": "http://127.0.0.1:9/v1", "kind": "openai_chat", "credentials": "sk-secret-123456789", "p95_ttft_ms": 800}"#
        )
        #expect(made.status == 201 && made.response.header("Location") != nil)
        let id = try #require(made.json["id"] as? String)
        #expect(made.json["credentials_hint"] as? String == "…6789")
        #expect(!String(decoding: made.response.body, as: UTF8.self).contains("sk-secret"))

        // A customer cannot add one (no such scope for them), but reads theirs with the month's figures.
        #expect(try call("POST", "/api/v1/probe-targets", viewer, body: #"{"name": "x", "url": "http://127.0.0.1:9/"}"#).status == 403)
        let list = try call("GET", "/api/v1/probe-targets", viewer)
        let items = try #require(list.json["items"] as? [[String: Any]])
        #expect(items.count == 1 && items[0]["id"] as? String == id)
        let objectives = items[0]["objectives"] as? [String: Any]
        #expect(objectives?["availability_percent"] as? Double == 99.5 && objectives?["p95_ttft_ms"] as? Int == 800)

        // Maintenance: one ending before it starts is refused; one planned ahead is kept.
        let now = app.app.world.now
        func window(_ start: TimeInterval, _ end: TimeInterval) -> String {
            #"{"target_id": "\#(id)", "starts_at": "\#(RFC3339.string(now.addingTimeInterval(start)))", "ends_at": "\#(RFC3339.string(now.addingTimeInterval(end)))", "reason": "upgrade"}"#
        }
        let backwards = try call("POST", "/api/v1/maintenance-windows?tenant=acme", staff, body: window(7200, 3600))
        #expect(backwards.status == 422 && "\(backwards.json)".contains("ends after it starts"))
        let planned = try call("POST", "/api/v1/maintenance-windows?tenant=acme", staff, body: window(3600, 7200))
        #expect(planned.status == 201)
        let location = try #require(planned.response.header("Location"))
        #expect(try call("GET", location, viewer).json["reason"] as? String == "upgrade")

        // The uptime report: nothing probed yet, every endpoint listed beside its objective.
        let report = try call("GET", "/api/v1/reports/uptime", viewer)
        #expect(report.status == 200 && (report.json["items"] as? [[String: Any]])?.count == 1)
        #expect(try call("GET", "/api/v1/reports/uptime?from=2026-11-30&to=2026-11-01", viewer).status == 422)
    }

    /// Values the schema admits but the row cannot hold are refused by field, not by the database:
    /// an objective that rounds to 100 or 0 at the column's three decimals, a port beyond 65535.
    @Test func objectivesAndPortsTheRowCannotHoldAreNamed() throws {
        let staff = try token("cse@staff.test", tenant: nil, scopes: [.monitoringWrite, .deploymentsRead])
        for (body, field) in [
            (#"{"name": "a", "url": "http://127.0.0.1:9/", "availability_percent": 99.99999}"#, "availability_percent"),
            (#"{"name": "b", "url": "http://127.0.0.1:9/", "availability_percent": 0.0001}"#, "availability_percent"),
            (#"{"name": "c", "url": "http://127.0.0.1:99999/"}"#, "url"),
            (#"{"name": "d", "url": "http://127.0.0.1:0/"}"#, "url"),
            (#"{"name": "e\n", "url": "http://127.0.0.1:9/"}"#, "name"),
        ] {
            let made = try call("POST", "/api/v1/probe-targets?tenant=acme", staff, body: body)
            #expect(made.status == 422, "\(body) \(made.json)")
            #expect((made.json["errors"] as? [[String: Any]])?.first?["field"] as? String == field, "\(made.json)")
        }
        // A URL carrying user:password@ is refused in a probe's words, not a notification channel's.
        let secret = try call(
            "POST", "/api/v1/probe-targets?tenant=acme", staff, body: #"{"name": "s", "url": "http://user:pass@127.0.0.1:9/"}"#)
        let detail = (secret.json["errors"] as? [[String: Any]])?.first?["detail"] as? String ?? ""
        #expect(secret.status == 422 && detail.contains("probe's credentials") && !detail.contains("channel"), "\(secret.json)")
        let made = try call(
            "POST", "/api/v1/probe-targets?tenant=acme", staff,
            body: #"{"name": "e", "url": "http://127.0.0.1:9/", "availability_percent": 99.999}"#)
        #expect(made.status == 201, "\(made.json)")
        let id = try #require(made.json["id"] as? String)
        let changed = try call("PATCH", "/api/v1/probe-targets/\(id)?tenant=acme", staff, body: #"{"availability_percent": 99.9999}"#)
        #expect(changed.status == 422, "\(changed.json)")
        // An objective set can be removed again (null), and the endpoint follows the tenant's.
        let set = try call("PATCH", "/api/v1/probe-targets/\(id)?tenant=acme", staff, body: #"{"p95_latency_ms": 800}"#)
        #expect((set.json["objectives"] as? [String: Any])?["p95_latency_ms"] as? Int == 800)
        let cleared = try call(
            "PATCH", "/api/v1/probe-targets/\(id)?tenant=acme", staff, body: #"{"p95_latency_ms": null, "availability_percent": null}"#)
        #expect(cleared.status == 200, "\(cleared.json)")
        let objectives = cleared.json["objectives"] as? [String: Any]
        #expect(objectives?["p95_latency_ms"] is NSNull && objectives?["availability_percent"] as? Double == 99.5, "\(cleared.json)")
        // On the endpoint's page, emptying an objective's field removes it.
        _ = try call("PATCH", "/api/v1/probe-targets/\(id)?tenant=acme", staff, body: #"{"p95_latency_ms": 800}"#)
        let browser = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        let page = "/t/acme/endpoints/\(id)"
        let saved = try browser.post(
            page,
            [("availability_percent", ""), ("p95_latency_ms", ""), ("p95_ttft_ms", ""), ("interval_seconds", "60"), ("credentials", "")],
            from: page)
        #expect(saved.status == 200 && saved.text.contains("Saved."))
        // A refused objective keeps what was typed in its field.
        let refused = try browser.post(
            page, [("availability_percent", "99.99999"), ("p95_latency_ms", "750"), ("interval_seconds", "60")], from: page)
        #expect(refused.status == 422 && refused.text.contains(#"value="99.99999""#) && refused.text.contains(#"value="750""#))
        let read = try call("GET", "/api/v1/probe-targets/\(id)?tenant=acme", staff)
        #expect((read.json["objectives"] as? [String: Any])?["p95_latency_ms"] is NSNull, "\(read.json)")
        // A window for an endpoint the tenant does not have names the field the body used.
        let start = RFC3339.string(app.app.world.now.addingTimeInterval(3600))
        let end = RFC3339.string(app.app.world.now.addingTimeInterval(7200))
        let window = try call(
            "POST", "/api/v1/maintenance-windows?tenant=acme", staff,
            body: #"{"target_id": "\#(UUID())", "starts_at": "\#(start)", "ends_at": "\#(end)", "reason": "upgrade"}"#)
        #expect(window.status == 422 && (window.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "target_id")
    }

    /// `purser work` runs the probes: one batched tick every 15 s and the hourly rollup.
    @Test func workersRunTheTickAndTheRollup() throws {
        let kinds = try JobRunner.standardHandlers(app.app.configuration).kinds
        #expect(kinds.contains("monitoring.tick") && kinds.contains("monitoring.rollup"))
        let schedules = Schedules.standard.filter { $0.kind.hasPrefix("monitoring.") }.map(\.recurrence)
        #expect(schedules == [.every(seconds: 15), .every(seconds: 3600)])
    }

    @Test func thePublicStatusLinkWorksUntilRotated() throws {
        let staff = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        let form = try staff.formToken(on: "/t/acme/status")
        func link(_ page: ClientResponse) -> String? {
            let text = String(decoding: page.body, as: UTF8.self)
            guard let range = text.range(of: #"/status/[A-Za-z0-9_-]{43}"#, options: .regularExpression) else { return nil }
            return String(text[range])
        }
        let first = try #require(link(try staff.post("/t/acme/status", [], formToken: form)))
        #expect(try app.get(first).status == 200)
        let second = try #require(link(try staff.post("/t/acme/status", [], formToken: form)))
        #expect(second != first)
        #expect(try app.get(first).status == 404, "the old link stops")
        #expect(try app.get(second).status == 200)
        #expect(try app.get("/status/not-a-token").status == 404)
        // Customers see the private page; they cannot make links.
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/t/acme/status").status == 200)
        #expect(try viewer.post("/t/acme/status", [], formToken: try viewer.formToken(on: "/t/acme/status")).status == 404)
    }
}
