import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /api/v1/prices over the real server: a provider admin's token adds list prices, negotiated
/// prices and markups, refused as the /staff/prices page refuses them (a fraction of a micro-unit,
/// overlapping effective dates, a JSON number for an amount) with problems naming the API's fields;
/// every write audited; anyone with costs:read pages through the list, and a tenant reads only its
/// own negotiated prices and markups.
@Suite struct PricesAPITests {
    @Test func staffWritePricesTenantsReadTheirOwnAndRefusalsNameTheField() throws {
        let clock = SettableClock(RFC3339.date("2026-11-27T12:00:00Z")!)
        let app = try TestApp(clock: clock)
        let acme = try People(app, slug: "acme", staff: true)
        let globex = try People(app, slug: "globex")
        let staff = try app.app.tokens.create(
            user: acme.id("provider_admin@staff.test"), tenant: nil, name: "prices", scopes: [.pricesWrite, .costsRead], lifetime: 3600,
            actor: .system
        ).token
        func reader(_ people: People) throws -> String {
            try app.app.tokens.create(
                user: people.id("viewer@\(people.slug).test"), tenant: people.tenant, name: "r", scopes: [.costsRead], lifetime: 3600,
                actor: .system
            ).token
        }
        let (acmeReader, globexReader) = (try reader(acme), try reader(globex))
        // Only costs.manage (provider_admin) may hold the scope: a tenant admin's token cannot.
        #expect(throws: (any Error).self) {
            try app.app.tokens.create(
                user: acme.id("tenant_admin@acme.test"), tenant: acme.tenant, name: "x", scopes: [.pricesWrite], lifetime: 3600,
                actor: .system)
        }
        func call(_ method: String, _ path: String, _ token: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let response = try app.send(
                method, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) })
            return (response.status, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
        }
        func problems(_ body: [String: Any]) -> [String: String] {
            var found: [String: String] = [:]
            for error in body["errors"] as? [[String: Any]] ?? [] { found[error["field"] as? String ?? ""] = error["detail"] as? String }
            return found
        }

        let gpt = #"""
            {"provider": "openai", "item": "gpt-4o", "currency": "USD", "effective_from": "2026-12-01",
             "input_per_million": "2.50", "output_per_million": "10.00", "cached_input_per_million": "1.25",
             "source": "https://openai.com/api/pricing/", "source_read_on": "2026-11-27"}
            """#
        let (made, price) = try call("POST", "/api/v1/prices", staff, gpt)
        #expect(made == 201)
        #expect(price["input_per_million"] as? String == "2.50")
        #expect(price["cached_input_per_million"] as? String == "1.25")
        #expect((price["effective_from"] as? String)?.hasPrefix("2026-12-01T00:00:00") == true)
        #expect(price["effective_to"] is NSNull)
        #expect(price["source"] as? String == "https://openai.com/api/pricing/")
        // A later price closes the open-ended one; one starting inside a closed period overlaps it.
        let later = gpt.replacingOccurrences(of: "2026-12-01", with: "2027-01-01").replacingOccurrences(of: "\"2.50\"", with: "\"2.00\"")
        #expect(try call("POST", "/api/v1/prices", staff, later).0 == 201)
        let (overlap, overlapping) = try call(
            "POST", "/api/v1/prices", staff,
            gpt.replacingOccurrences(of: "\"2026-12-01\"", with: "\"2026-12-15\", \"effective_to\": \"2027-02-01\""))
        #expect(overlap == 422)
        #expect(
            problems(overlapping)["effective_from"]
                == "overlaps a price of openai gpt-4o in USD (the one from 2026-12-01 to 2027-01-01); start after it or end before it")
        // A fraction of a micro-unit, a bad currency and a missing source: each named by the API's field.
        let (fraction, fractional) = try call(
            "POST", "/api/v1/prices", staff,
            #"{"provider": "openai", "item": "o1", "currency": "US", "effective_from": "2026-12-01", "input_per_million": "0.0000001", "#
                + #""output_per_million": "60"}"#)
        #expect(fraction == 422)
        let refused = problems(fractional)
        #expect(refused["input_per_million"]?.contains("a fraction of a micro-unit is refused") == true)
        #expect(Set(refused.keys) == ["input_per_million", "currency", "source", "source_read_on"])
        // A kind that is neither tokens nor gpu is refused, not taken for tokens.
        let (typo, typoProblem) = try call(
            "POST", "/api/v1/prices", staff, gpt.replacingOccurrences(of: #""provider""#, with: #""kind": "gpus", "provider""#))
        #expect(typo == 422 && problems(typoProblem)["kind"] != nil, "\(typoProblem)")
        // A price so large that one event's cost would overflow (and refuse its whole batch) is refused.
        let (huge, hugeProblem) = try call(
            "POST", "/api/v1/prices", staff, gpt.replacingOccurrences(of: "\"2.50\"", with: "\"999999999999\""))
        #expect(huge == 422 && problems(hugeProblem)["input_per_million"] == "at most 9999999.999999 in the currency")
        // Amounts are decimal strings: a JSON number could not be exact.
        let (number, numeric) = try call(
            "POST", "/api/v1/prices", staff, gpt.replacingOccurrences(of: "\"2.50\"", with: "2.5"))
        #expect(number == 400)
        #expect((numeric["detail"] as? String)?.contains("'input_per_million' must be a string") == true)
        #expect(try call("POST", "/api/v1/prices", staff, #"{"provider": "openai", "colour": "red"}"#).0 == 400)
        // A customer reads the list but may not write it.
        #expect(try call("POST", "/api/v1/prices", acmeReader, gpt).0 == 403)

        // Negotiated prices and markups belong to the tenant the staff token names.
        let negotiated = #"""
            {"provider": "openai", "item": "gpt-4o", "currency": "USD", "effective_from": "2026-12-01", "input_per_million": "2.00",
             "output_per_million": "8.00", "note": "Acme contract 2026"}
            """#
        let dealing = try app.send(
            "POST", "/api/v1/prices/negotiated?tenant=acme",
            headers: [("Authorization", "Bearer \(staff)"), ("Content-Type", "application/json")], body: Array(negotiated.utf8))
        #expect(dealing.header("Location") == "/api/v1/prices/negotiated?tenant=acme")
        let (dealt, deal) = (dealing.status, (try JSONSerialization.jsonObject(with: Data(dealing.body)) as? [String: Any]) ?? [:])
        #expect(dealt == 201)
        #expect(deal["note"] as? String == "Acme contract 2026")
        #expect(try call("POST", "/api/v1/prices/negotiated", staff, negotiated).0 == 400, "a staff token names the tenant")
        #expect(try call("POST", "/api/v1/prices/negotiated?tenant=acme", staff, negotiated).0 == 422, "the same period again")
        #expect(
            try call("POST", "/api/v1/prices/markups?tenant=acme", staff, #"{"markup_bp": 1500, "effective_from": "2026-12-01"}"#).0 == 201)
        let (tooMuch, markupProblem) = try call(
            "POST", "/api/v1/prices/markups?tenant=acme", staff, #"{"markup_bp": 200000, "effective_from": "2026-12-01"}"#)
        #expect(tooMuch == 422)
        #expect(Set(problems(markupProblem).keys) == ["markup_bp"])
        let (overlapMarkup, overlapMarkupProblem) = try call(
            "POST", "/api/v1/prices/markups?tenant=acme", staff,
            #"{"markup_bp": 500, "effective_from": "2026-11-01", "effective_to": "2026-12-15"}"#)
        #expect(overlapMarkup == 422)
        #expect(
            problems(overlapMarkupProblem)["effective_from"]
                == "overlaps another markup of this tenant (the one from 2026-12-01 with no end); start after it or end before it")

        // Reading: the list for anyone with costs:read, page by page; each tenant's own terms only.
        let (_, first) = try call("GET", "/api/v1/prices?limit=1", acmeReader)
        #expect((first["items"] as? [Any])?.count == 1)
        let cursor = try #require(first["next_cursor"] as? String)
        let (_, second) = try call("GET", "/api/v1/prices?limit=1&cursor=\(cursor)", acmeReader)
        let pages = [first, second].flatMap { ($0["items"] as? [[String: Any]]) ?? [] }.compactMap { $0["input_per_million"] as? String }
        #expect(Set(pages) == ["2.50", "2.00"])
        #expect(second["next_cursor"] is NSNull)
        #expect(try call("GET", "/api/v1/prices?provider=anthropic", globexReader).1["items"] as? [Any] != nil)
        #expect(try call("GET", "/api/v1/prices?limit=0", acmeReader).0 == 400)
        let acmeDeals = try call("GET", "/api/v1/prices/negotiated", acmeReader).1["items"] as? [[String: Any]]
        #expect(acmeDeals?.map { $0["note"] as? String } == ["Acme contract 2026"])
        #expect((try call("GET", "/api/v1/prices/negotiated", globexReader).1["items"] as? [Any])?.isEmpty == true)
        #expect(
            (try call("GET", "/api/v1/prices/markups?tenant=acme", staff).1["items"] as? [[String: Any]])?.first?["markup_bp"] as? Int
                == 1500)
        #expect((try call("GET", "/api/v1/prices/markups", globexReader).1["items"] as? [Any])?.isEmpty == true)

        // Every write audited, the tenant's in its own trail.
        let sql = try app.database.connect()
        let actions = try sql.query("SELECT action FROM audit_events WHERE action LIKE 'price.%' ORDER BY action").map {
            try $0.require(0, as: String.self)
        }
        #expect(actions == ["price.create", "price.create", "price.markup", "price.negotiated"])
    }
}
