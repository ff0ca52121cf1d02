import Foundation
import HTTPClient
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Price items are composed (NFC) as ingest composes models and GPU types: a price whose name was
/// typed with a decomposed "é" rates the events that name it, and the list filters by either form.
@Suite struct PriceNormalisationTests {
    @Test func aDecomposedItemRatesComposedEvents() throws {
        let clock = SettableClock(RFC3339.date("2026-11-27T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let acme = try People(app, slug: "acme", staff: true)
        let staff = try app.app.tokens.create(
            user: acme.id("provider_admin@staff.test"), tenant: nil, name: "prices", scopes: [.pricesWrite, .costsRead], lifetime: 3600,
            actor: .system
        ).token
        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let response = try app.send(
                method, path, headers: [("Authorization", "Bearer \(staff)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) })
            return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
        }
        let decomposed = "mode\u{0300}le-e\u{0301}", composed = "mod\u{00E8}le-\u{00E9}"
        #expect(decomposed.unicodeScalars.count != composed.unicodeScalars.count)
        let (made, price) = try call(
            "POST", "/api/v1/prices",
            #"{"provider": "acmeai", "item": "\#(decomposed)", "currency": "USD", "effective_from": "2026-11-01", "#
                + #""input_per_million": "2", "output_per_million": "4", "source": "https://acme.test/p", "source_read_on": "2026-11-27"}"#)
        #expect(made == 201)
        #expect((price["item"] as? String)?.unicodeScalars.elementsEqual(composed.unicodeScalars) == true)
        // The /staff/prices form is read by the same function.
        let form = try PricePages.price(
            from: QueryParameters([
                ("kind", "gpu"), ("provider", "aws"), ("item", "H100-\u{0041}\u{030A}"), ("currency", "USD"), ("gpu_hour", "3600"),
                ("effective_from", "2026-11-01"), ("source", "https://aws.test"), ("source_read_on", "2026-11-27"),
            ]))
        #expect(form.item.unicodeScalars.elementsEqual("H100-\u{00C5}".unicodeScalars))
        _ = try PriceCatalogue(database: app.app.database).add(form, actor: .system, now: clock.now)
        // Events sent in the other form are rated: tokens (model composed at ingest) and GPU seconds
        // (gpu_type, decomposed in the event, composed at ingest as the price was).
        let lines = [
            #"{"event_id":"t1","occurred_at":"2026-11-27T12:01:00Z","provider":"acmeai","model":"\#(composed)","input_tokens":1000000}"#,
            #"{"event_id":"g1","occurred_at":"2026-11-27T12:01:00Z","provider":"aws","gpu_type":"H100-A\#u{030A}","gpu_seconds":10,"host":"h1"}"#,
        ].joined(separator: "\n")
        // Stamped after the tenant was made (earlier ones are refused).
        _ = try UsageIngest(database: app.app.database).ingest(
            try NDJSONUsageParser.lines(Array(lines.utf8)), tenant: acme.tenant, actor: .system, source: .api, now: clock.now)
        let owner = try app.database.connect()
        let costs = try owner.query("SELECT event_id, cost_micros FROM usage_events ORDER BY event_id").map {
            "\(try $0.require(0, as: String.self))=\(try $0.decode(1, as: Int64.self).map(String.init) ?? "unpriced")"
        }
        #expect(costs == ["g1=10000000", "t1=2000000"])
        // The list's item filter finds it by either spelling.
        for spelling in [decomposed, composed] {
            let query = spelling.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let (status, list) = try call("GET", "/api/v1/prices?item=\(query)")
            #expect(status == 200 && (list["items"] as? [Any])?.count == 1, "\(spelling)")
        }
    }
}
