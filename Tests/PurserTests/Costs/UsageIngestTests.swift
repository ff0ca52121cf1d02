import Foundation
import HTTPClient
import HTTPServer
import HTTPServerTesting
import Postgres
@testable import Purser
import Testing
import TestSupport

/// POST /api/v1/usage and the CSV upload over the real server, against the real database: exact
/// micro-unit pricing (half-even, effective dates, markups, negotiated prices, currencies),
/// idempotent re-sends, partial rejection by line or index, the 413, re-rating, rollups that equal a
/// plain aggregation of raw events after random ingests, and concurrent writers that reconcile.
@Suite(.serialized) struct UsageIngestTests {
    static let created = Date(timeIntervalSince1970: 1_795_003_200)  // 2026-11-18T12:00:00Z
    let clock = SettableClock(created)
    let app: TestApp
    let people: People
    let owner: Connection

    init() throws {
        app = try TestApp(clock: clock)
        people = try People(app, staff: true)
        owner = try app.database.connect()
        clock.advance(by: 40 * 86400)
    }

    // MARK: helpers

    func at(_ days: Double, hours: Double = 0) -> String { RFC3339.string(Self.created.addingTimeInterval(days * 86400 + hours * 3600)) }
    func date(_ days: Double) -> Date { Self.created.addingTimeInterval(days * 86400) }

    func token(_ email: String, tenant: UUID?? = .none) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant ?? people.tenant, name: "t", scopes: [.usageWrite], lifetime: 3600, actor: .system
        ).token
    }

    func send(_ body: String, token: String, ndjson: Bool = true, query: String = "") throws -> (ClientResponse, [String: Any]) {
        let response = try app.send(
            "POST", "/api/v1/usage" + query,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", ndjson ? "application/x-ndjson" : "application/json")],
            body: Array(body.utf8))
        return (response, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    func price(
        _ provider: String, _ item: String, from: Date, to: Date? = nil, input: Int64? = nil, output: Int64? = nil, cached: Int64? = nil,
        gpuHour: Int64? = nil, currency: String = "USD"
    ) throws {
        try owner.query(
            """
            INSERT INTO prices (id, kind, provider, item, currency, effective_from, effective_to, input_per_million, output_per_million,
                                cached_input_per_million, per_gpu_hour, source, source_read_on, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'test', '2026-11-01', $6)
            """, [UUID(), gpuHour == nil ? "tokens" : "gpu", provider, item, currency, from, to, input, output, cached, gpuHour])
    }

    func cost(_ eventID: String) throws -> Int64? {
        try owner.query("SELECT cost_micros FROM usage_events WHERE event_id = $1", [eventID])[0].decode(0, as: Int64.self)
    }

    func event(_ id: String, _ occurred: String, model: String = "gpt-4o-mini", provider: String = "openai", extra: String = "") -> String {
        #"{"event_id":"\#(id)","occurred_at":"\#(occurred)","provider":"\#(provider)","model":"\#(model)"\#(extra)}"#
    }

    /// Rows where a rollup differs from the same grouping over raw events (both directions); empty when they agree.
    func mismatches() throws -> [String] { try Self.mismatches(owner) }

    static func mismatches(_ owner: Connection) throws -> [String] {
        var found: [String] = []
        for table in RollupSQL.tables {
            let keys = table.keys.map(\.column)
            let expressions = table.keys.map(\.expression).map { $0.replacingOccurrences(of: "$2", with: "t.time_zone") }
            let only = table.name == "usage_daily_gpu" ? "AND e.kind = 'gpu'" : ""
            let measures = RollupSQL.measures.joined(separator: ", ")
            let raw = """
                SELECT e.tenant_id, \(expressions.enumerated().map { "\($0.element) AS \(keys[$0.offset])" }.joined(separator: ", ")),
                       count(*) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                       sum(cached_input_tokens) AS cached_input_tokens, sum(gpu_seconds) AS gpu_seconds,
                       coalesce(sum(cost_micros), 0) AS cost_micros, coalesce(sum(cost_micros) FILTER (WHERE kind = 'gpu'), 0) AS gpu_cost_micros,
                       count(*) FILTER (WHERE cost_micros IS NULL) AS unpriced_events
                FROM usage_events e JOIN tenants t ON t.id = e.tenant_id WHERE true \(only)
                GROUP BY \((1...(keys.count + 1)).map(String.init).joined(separator: ", "))
                """
            let rolled = "SELECT tenant_id, \(keys.joined(separator: ", ")), \(measures) FROM \(table.name) WHERE events <> 0"
            let rows = try owner.query("(\(raw) EXCEPT \(rolled)) UNION ALL (\(rolled) EXCEPT \(raw))")
            if !rows.isEmpty { found.append("\(table.name): \(rows.count) rows differ") }
        }
        return found
    }

    // MARK: tests

    @Test func pricesEveryEventExactlyToTheMicroUnit() throws {
        try price("openai", "gpt-4o-mini", from: date(0), to: date(20), input: 150_000, output: 600_000, cached: 75_000)
        try price("openai", "gpt-4o-mini", from: date(20), input: 300_000, output: 1_200_000)
        try price("mistral", "mistral-large", from: date(0), input: 2_000_000, output: 6_000_000, currency: "EUR")
        try price("aws", "p4d.24xlarge", from: date(0), gpuHour: 4_096_250)
        try owner.query(
            "INSERT INTO tenant_markups (tenant_id, id, effective_from, markup_bp, created_at) VALUES ($1, $2, $3, 2500, $3)",
            [people.tenant, UUID(), date(10)])
        let admin = try token("tenant_admin@acme.test")
        let batch = [
            event("e1", at(1), extra: #","input_tokens":7"#),  // 1.05 → 1
            event("e2", at(1), extra: #","input_tokens":10"#),  // 1.5 → 2
            event("e3", at(1), extra: #","input_tokens":30"#),  // 4.5 → 4 (half to even)
            event("e4", at(1), extra: #","input_tokens":10,"output_tokens":10,"cached_input_tokens":20"#),  // 1.5 + 6 + 1.5 = 9
            event("e5", at(21), extra: #","input_tokens":10"#),  // the later price and the markup: 3 × 1.25 = 3.75 → 4
            event("e6", at(11), extra: #","input_tokens":24"#),  // 3.6 × 1.25 = 4.5 → 4, rounded once (not 4 × 1.25 = 5)
            event("e7", at(1), model: "gpt-9", extra: #","input_tokens":1000"#),  // unknown: unpriced
            event("e8", at(1), model: "mistral-large", provider: "mistral", extra: #","input_tokens":1000"#),  // EUR only: unpriced
            #"{"event_id":"e9","occurred_at":"\#(at(1))","provider":"aws","gpu_type":"p4d.24xlarge","gpu_seconds":1800.5,"host":"gpu-1"}"#,
        ].joined(separator: "\n")
        let (response, body) = try send(batch, token: admin)
        #expect(response.status == 200, "\(body)")
        #expect(body["accepted"] as? Int == 9 && body["rejected"] as? Int == 0)
        let unpriced = (body["unpriced"] as? [[String: Any]])?.map { "\($0["provider"]!) \($0["model"]!)" }.sorted()
        #expect(unpriced == ["mistral mistral-large", "openai gpt-9"])
        let expected: [String: Int64?] = ["e1": 1, "e2": 2, "e3": 4, "e4": 9, "e5": 4, "e6": 4, "e7": nil, "e8": nil, "e9": 2_048_694]
        for (id, value) in expected { #expect(try cost(id) == value, "\(id)") }
        #expect(try owner.query("SELECT markup_bp FROM usage_events WHERE event_id = 'e6'")[0].decode(0, as: Int.self) == 2500)
        let totals = try owner.query(
            "SELECT sum(cost_micros)::bigint, sum(unpriced_events)::bigint, sum(gpu_cost_micros)::bigint FROM usage_daily WHERE tenant_id = $1",
            [people.tenant])[0]
        #expect(try totals.require(0, as: Int64.self) == 2_048_694 + 24 && totals.require(1, as: Int64.self) == 2)
        #expect(try totals.require(2, as: Int64.self) == 2_048_694)
        #expect(try mismatches().isEmpty)

        // A negotiated price replaces the list and takes no markup; a retroactive change is re-rated
        // by the job, recorded, and the rollups follow.
        try owner.query(
            """
            INSERT INTO tenant_prices (tenant_id, id, kind, provider, item, currency, effective_from, input_per_million,
                                       output_per_million, created_at)
            VALUES ($1, $2, 'tokens', 'openai', 'gpt-9', 'USD', $3, 1000000, 1000000, $3)
            """, [people.tenant, UUID(), date(0)])
        try owner.query("UPDATE tenant_markups SET markup_bp = 1000 WHERE tenant_id = $1", [people.tenant])
        let rerated = try RerateJob.run(
            app.app.database, tenant: people.tenant, from: date(0), to: nil, reason: "test: negotiated gpt-9", now: clock.now)
        #expect(rerated.events == 3)  // e5 and e6 (the markup), e7 (now priced)
        #expect(try cost("e7") == 1000 && cost("e6") == 4 && cost("e5") == 3)  // 3.6 × 1.1 = 3.96 → 4; 3 × 1.1 = 3.3 → 3
        #expect(rerated.costDelta == 999)
        #expect(try mismatches().isEmpty)
        let again = try RerateJob.run(app.app.database, tenant: people.tenant, from: date(0), to: nil, reason: "again", now: clock.now)
        #expect(again == RerateJob.Outcome())
        #expect(try owner.query("SELECT count(*) FROM usage_reratings")[0].require(0, as: Int.self) == 2)
        #expect(
            try owner.query("SELECT count(*) FROM audit_events WHERE action IN ('usage.ingest', 'costs.rerate')")[0].require(
                0, as: Int.self) == 3)
    }

    @Test func resendsAreDuplicatesAndABadEventNeverRejectsItsNeighbours() throws {
        let admin = try token("tenant_admin@acme.test")
        let lines = [
            event("a", at(2), extra: #","input_tokens":5,"team":"search""#),
            event("b", at(2), extra: #","output_tokens":-3"#),
            "{not json",
            event("c", at(3)),
            event("a", at(2)),
        ].joined(separator: "\n")
        let (first, body) = try send(lines, token: admin)
        #expect(first.status == 200, "\(body)")
        #expect(body["accepted"] as? Int == 2 && body["duplicates"] as? Int == 1 && body["rejected"] as? Int == 2)
        let rejections = try #require(body["rejections"] as? [[String: Any]])
        #expect(rejections.map { $0["line"] as? Int } == [2, 3])
        #expect((rejections[0]["reason"] as? String) == "'output_tokens' is negative")
        let (second, again) = try send(lines, token: admin)
        #expect(second.status == 200 && again["accepted"] as? Int == 0 && again["duplicates"] as? Int == 3)
        #expect(try owner.query("SELECT count(*) FROM usage_events")[0].require(0, as: Int.self) == 2)
        #expect(try owner.query("SELECT sum(events)::int FROM usage_daily")[0].require(0, as: Int.self) == 2)

        // A JSON array names rejections by index; an unreadable array is refused whole.
        let (array, arrayBody) = try send("[\(event("d", at(3))), {\"event_id\": \"e\"}]", token: admin, ndjson: false)
        #expect(array.status == 200 && (arrayBody["rejections"] as? [[String: Any]])?.first?["index"] as? Int == 1)
        #expect(try send("[{\"event_id\": tru}]", token: admin, ndjson: false).0.status == 422)

        // A byte-order mark is skipped; a stamp PostgreSQL would refuse (an offset of 16 hours, valid
        // RFC 3339) rejects that event alone, and nine decimals are cut to PostgreSQL's six, not
        // rounded into the next month.
        let marked =
            "\u{FEFF}"
            + [
                event("bom", at(3)), event("far-offset", "2026-11-27T10:00:00-16:00"), event("nano", "2026-11-30T23:59:59.999999999Z"),
            ].joined(separator: "\n")
        let (odd, oddBody) = try send(marked, token: admin)
        #expect(odd.status == 200 && oddBody["accepted"] as? Int == 2, "\(oddBody)")
        #expect(
            (oddBody["rejections"] as? [[String: Any]])?.first?["reason"] as? String
                == "'occurred_at' has a UTC offset beyond ±15:59, which no time zone uses")
        let nano = try owner.query("SELECT occurred_at = '2026-11-30T23:59:59.999999Z' FROM usage_events WHERE event_id = 'nano'")
        #expect(try nano.first?.require(0, as: Bool.self) == true)
        let (markedArray, markedArrayBody) = try send("\u{FEFF}[\(event("bom-array", at(3)))]", token: admin, ndjson: false)
        #expect(markedArray.status == 200 && markedArrayBody["accepted"] as? Int == 1, "\(markedArrayBody)")

        // A customer's token speaks for its tenant; staff name the tenant.
        _ = try People(app, slug: "globex")
        #expect(try send(event("x", at(3)), token: admin, query: "?tenant=globex").0.status == 404)
        let staff = try token("platform_engineer@staff.test", tenant: .some(nil))
        #expect(try send(event("x", at(3)), token: staff).0.status == 400)
        #expect(try send(event("x", at(3)), token: staff, query: "?tenant=acme").1["accepted"] as? Int == 1)

        // Over 10,000 events: 413, nothing stored.
        let many = (0...10_000).map { event("m\($0)", at(4)) }.joined(separator: "\n")
        let (tooMany, problem) = try send(many, token: admin)
        #expect(tooMany.status == 413 && tooMany.header("Content-Type") == "application/problem+json", "\(problem)")
        #expect(try owner.query("SELECT count(*) FROM usage_events WHERE event_id LIKE 'm%'")[0].require(0, as: Int.self) == 0)
        // Partitions are made with the parent's row-level security.
        let partitions = try owner.query(
            """
            SELECT c.relrowsecurity AND c.relforcerowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_events'::regclass
            """)
        #expect(!partitions.isEmpty)
        for row in partitions { #expect(try row.require(0, as: Bool.self) && row.require(1, as: Int.self) == 2) }
    }

    @Test func peopleUploadCSVWithItsHeaderChecked() throws {
        let admin = try people.signedIn(
            "tenant_admin@acme.test", in: app, totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        #expect(try admin.get("/t/acme/costs/upload").status == 200)
        func upload(_ csv: String) throws -> ClientResponse {
            let formToken = try admin.formToken(on: "/t/acme/costs/upload")
            let boundary = "----usage\(UUID().uuidString)"
            let body =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(formToken)\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"usage.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                + csv + "\r\n--\(boundary)--\r\n"
            return try app.send(
                "POST", "/t/acme/costs/upload",
                headers: [
                    ("Cookie", admin.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")),
                    ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                ], body: Array(body.utf8))
        }
        let wrong = try upload("event_id,occurred_at,provider,modell\nq,\(at(5)),openai,gpt-4o\n")
        #expect(wrong.status == 422 && wrong.text.contains("modell") && wrong.text.contains("is not a usage field"))
        let good = try upload(
            "event_id,occurred_at,provider,model,input_tokens\nq1,\(at(5)),openai,gpt-4o,10\nq2,\(at(5)),openai,gpt-4o,-1\n")
        #expect(good.status == 200)
        #expect(good.text.contains("<strong>1</strong> accepted") && good.text.contains("is negative"))
        #expect(!good.text.contains("rejected lines are listed"))
        // More rejected lines than the page lists: it says the list is the first of them.
        let bad = (1...501).map { "b\($0),\(at(5)),openai,gpt-4o,-1" }.joined(separator: "\n")
        let many = try upload("event_id,occurred_at,provider,model,input_tokens\n" + bad + "\n")
        #expect(many.text.contains("<strong>501</strong> rejected") && many.text.contains("The first 500 rejected lines are listed"))
        // Over the page's limit: refused from the headers alone, the body unread, with the upload
        // form again and the limit in MiB (16 MiB: UsagePages' route); nothing is stored.
        let port = try #require(URL(string: app.baseURL)?.port)
        func oversized(_ person: WebVisitor) throws -> String {
            let cookie = person.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let head =
                "POST /t/acme/costs/upload HTTP/1.1\r\nHost: test\r\nCookie: \(cookie)\r\nAccept: text/html\r\n"
                + "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 20971520\r\n\r\n"
            return try RawHTTP.closedByServer(port: port, Array(head.utf8)).0
        }
        let stored = try owner.query("SELECT count(*) FROM usage_events")[0].require(0, as: Int.self)
        let tooLarge = try oversized(admin)
        #expect(tooLarge.hasPrefix("HTTP/1.1 413"))
        #expect(tooLarge.contains("the file is larger than 16 MiB") && !tooLarge.contains("16777216"))
        #expect(tooLarge.contains("name=\"file\"") && tooLarge.contains("Upload usage"), "the page's own form")
        #expect(tooLarge.contains("text/html") && tooLarge.contains("Sign out") && !tooLarge.contains("Sign in"))
        #expect(try owner.query("SELECT count(*) FROM usage_events")[0].require(0, as: Int.self) == stored)
        let viewer = try people.signedIn("viewer@acme.test", in: app)
        #expect(try viewer.get("/t/acme/costs/upload").status == 403)
        // Someone who may not upload gets no form, oversized or not.
        let refused = try oversized(viewer)
        #expect(refused.hasPrefix("HTTP/1.1 403") && !refused.contains("name=\"file\""))
    }

    @Test func rollupsEqualRawAggregationAfterRandomIngestsResendsAndReratings() throws {
        var random = DemoCosts.SplitMix(seed: 20_261_127)
        try price("openai", "gpt-4o", from: date(0), input: 2_500_000, output: 10_000_000, cached: 1_250_000)
        try price("anthropic", "claude-3-5-haiku", from: date(0), input: 800_000, output: 4_000_000)
        try price("aws", "H100", from: date(0), gpuHour: 12_290_000)
        let admin = try token("tenant_admin@acme.test")
        try owner.query("UPDATE tenants SET time_zone = 'America/New_York' WHERE id = $1", [people.tenant])
        var sent: [String] = []
        for round in 0..<10 {
            var lines: [String] = []
            for _ in 0..<Int.random(in: 20...60, using: &random) {
                if !sent.isEmpty && Int.random(in: 0..<5, using: &random) == 0 {
                    lines.append(sent.randomElement(using: &random)!)  // a re-send
                    continue
                }
                let id = "r\(round)-\(lines.count)"
                let when = at(Double(Int.random(in: 0...30, using: &random)), hours: Double(Int.random(in: 0...23, using: &random)))
                let team = ["", "search", "support"].randomElement(using: &random)!
                let line: String
                switch Int.random(in: 0..<4, using: &random) {
                case 0:
                    line =
                        #"{"event_id":"\#(id)","occurred_at":"\#(when)","provider":"aws","gpu_type":"H100","host":"h\#(Int.random(in: 1...2, using: &random))","gpu_seconds":\#(Int.random(in: 1...7200, using: &random)).\#(Int.random(in: 0...999, using: &random)),"team":"\#(team)"}"#
                case 1: line = event(id, when, model: "mystery-model", provider: "openai", extra: #","input_tokens":99"#)
                default:
                    let (provider, model) = [("openai", "gpt-4o"), ("anthropic", "claude-3-5-haiku")].randomElement(using: &random)!
                    line = event(
                        id, when, model: model, provider: provider,
                        extra:
                            #","input_tokens":\#(Int.random(in: 0...5000, using: &random)),"output_tokens":\#(Int.random(in: 0...2000, using: &random)),"cached_input_tokens":\#(Int.random(in: 0...3000, using: &random)),"team":"\#(team)","feature":"f\#(Int.random(in: 1...3, using: &random))","key_ref":"k\#(Int.random(in: 1...4, using: &random))","endpoint":"ep\#(Int.random(in: 1...3, using: &random))""#
                    )
                }
                lines.append(line)
                sent.append(line)
            }
            let (response, body) = try send(lines.joined(separator: "\n"), token: admin)
            #expect(response.status == 200 && body["rejected"] as? Int == 0, "\(body)")
            if round % 3 == 2 {
                // A retroactive markup change (or a price for the mystery model), then its re-rating.
                if round == 5 {
                    try price("openai", "mystery-model", from: date(10), input: 1_000_000, output: 1_000_000)
                } else {
                    try owner.query("DELETE FROM tenant_markups WHERE tenant_id = $1", [people.tenant])
                    try owner.query(
                        "INSERT INTO tenant_markups (tenant_id, id, effective_from, markup_bp, created_at) VALUES ($1, $2, $3, $4, $3)",
                        [
                            people.tenant, UUID(), date(Double(Int.random(in: 0...20, using: &random))),
                            Int.random(in: -2000...3000, using: &random),
                        ])
                }
                _ = try RerateJob.run(app.app.database, tenant: people.tenant, from: date(0), to: nil, reason: "property", now: clock.now)
                #expect(try mismatches().isEmpty, "after the re-rating of round \(round)")
            }
        }
        #expect(try mismatches().isEmpty)
        // Every rollup is compared, the team slice (what team budgets read) among them, and on rows of several teams.
        #expect(RollupSQL.tables.map(\.name).contains("usage_daily_teams"))
        let teams = try owner.query("SELECT count(DISTINCT team)::int FROM usage_daily_teams WHERE tenant_id = $1", [people.tenant])
        #expect(try teams[0].require(0, as: Int.self) == 3)
        // And every event is at the cost a fresh rating gives it.
        let stale = try owner.query(
            "SELECT count(*) FROM usage_events WHERE model = 'mystery-model' AND occurred_at >= $1 AND cost_micros IS NULL", [date(10)])
        #expect(try stale[0].require(0, as: Int.self) == 0)
        // A time zone change rebuilds the daily rollups by the new local days.
        try owner.query("UPDATE tenants SET time_zone = 'Asia/Tokyo' WHERE id = $1", [people.tenant])
        try PartitionJobs.rebuildDaily(app.app.database, tenant: people.tenant, now: clock.now)
        #expect(try mismatches().isEmpty)
    }

    /// "Équipe" composed (U+00C9) and decomposed (E, U+0301) is one team: one report group, found by
    /// a filter and matched by a budget typed in either form.
    @Test func dimensionsSentInEitherUnicodeFormAreOneName() throws {
        try price("openai", "gpt-4o-mini", from: date(0), input: 1_000_000, output: 1_000_000, cached: 1_000_000)
        let composed = #"\u00C9quipe"#, decomposed = #"E\u0301quipe"#
        let lines = [
            event("n1", at(39), extra: #","input_tokens":1000000,"team":"\#(composed)","feature":"r\u00C9sum\u00E9""#),
            event("n2", at(39), extra: #","input_tokens":1000000,"team":"\#(decomposed)","feature":"rE\u0301sume\u0301""#),
        ].joined(separator: "\n")
        let (sent, _) = try send(lines, token: try token("tenant_admin@acme.test"))
        #expect(sent.status == 200)
        let reader = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "r", scopes: [.costsRead, .budgetsWrite],
            lifetime: 3600, actor: .system
        ).token
        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> [String: Any] {
            let response = try app.send(
                method, path, headers: [("Authorization", "Bearer \(reader)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) })
            return ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:]
        }
        // Swift's == already equates the two forms: the bytes are compared.
        for dimension in ["team", "feature"] {
            let groups = try call("GET", "/api/v1/reports/costs?group_by=\(dimension)")["groups"] as? [[String: Any]] ?? []
            let keys = groups.compactMap { $0["key"] as? String }.map { Array($0.utf8) }
            #expect(keys == [Array((dimension == "team" ? "\u{C9}quipe" : "r\u{C9}sum\u{E9}").utf8)], "\(dimension)")
        }
        let filtered = try call("GET", "/api/v1/reports/costs?group_by=team&team=E%CC%81quipe")["groups"] as? [[String: Any]] ?? []
        #expect(filtered.count == 1 && (filtered.first?["figures"] as? [String: Any])?["cost"] as? String == "2.00")
        let budget = try call(
            "POST", "/api/v1/budgets", #"{"name": "E", "scope": "team", "scope_value": "\#(decomposed)", "amount": "10"}"#)
        #expect(Array((budget["scope_value"] as? String ?? "").utf8) == Array("\u{C9}quipe".utf8))
        #expect(try call("GET", "/api/v1/budgets/\(budget["id"] as? String ?? "")/status")["spend"] as? String == "2.00")
        #expect(try mismatches().isEmpty)
    }

    @Test func retentionDeletesOldRawEventsAndPartitionsAreMadeAhead() throws {
        let admin = try token("tenant_admin@acme.test")
        let lines = [event("old", at(2)), event("new", at(35))].joined(separator: "\n")
        #expect(try send(lines, token: admin).1["accepted"] as? Int == 2)
        try owner.query("INSERT INTO tenant_cost_settings (tenant_id, retention_days) VALUES ($1, 30)", [people.tenant])
        #expect(try PartitionJobs.purge(app.app.database, now: clock.now) == 1)
        #expect(try owner.query("SELECT string_agg(event_id, ',') FROM usage_events")[0].require(0, as: String.self) == "new")
        #expect(try owner.query("SELECT count(*) FROM usage_event_ids")[0].require(0, as: Int.self) == 1)
        // Rollups keep the deleted event's totals; an event older than the retention is refused.
        #expect(try owner.query("SELECT sum(events)::int FROM usage_daily")[0].require(0, as: Int.self) == 2)
        let (_, late) = try send(event("older", at(3)), token: admin)
        #expect(
            (late["rejections"] as? [[String: Any]])?.first?["reason"] as? String
                == "'occurred_at' is older than the tenant's retention of raw usage")
        // This month and the next two exist after the schedule's run.
        try PartitionJobs.makeAhead(app.app.database, now: clock.now)
        let months = try owner.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'usage_events'::regclass")[0].require(
            0, as: Int.self)
        #expect(months >= 3)
    }

    @Test func concurrentWritersLoseAndDoubleNothing() throws {
        try price("openai", "gpt-4o-mini", from: date(0), input: 150_000, output: 600_000)
        let tokens = try (0..<4).map { _ in try token("tenant_admin@acme.test") }
        let accepted = Locked(0)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { writer in
            for batch in 0..<4 {
                // Writers share half their ids with the next one: each event must be stored once.
                let lines = (0..<150).map { n -> String in
                    let owner = n < 75 ? writer : (writer + 1) % 4
                    return event(
                        "w\(owner)-\(batch)-\(n)", at(Double(n % 25), hours: Double(n % 24)),
                        extra: #","input_tokens":\#(n * 7 + 3),"team":"t\#(n % 3)""#)
                }.joined(separator: "\n")
                do {
                    let (response, body) = try send(lines, token: tokens[writer])
                    if response.status != 200 { failures.withLock { $0.append("\(response.status) \(body)") } }
                    accepted.withLock { $0 += body["accepted"] as? Int ?? 0 }
                } catch { failures.withLock { $0.append("\(error)") } }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let stored = try owner.query("SELECT count(*), count(DISTINCT event_id), sum(cost_micros)::bigint FROM usage_events")[0]
        #expect(
            try stored.require(0, as: Int.self) == accepted.withLock { $0 }
                && stored.require(1, as: Int.self) == stored.require(0, as: Int.self))
        let ids = try owner.query("SELECT count(*) FROM usage_event_ids")[0].require(0, as: Int.self)
        #expect(try stored.require(0, as: Int.self) == ids)
        let rolled = try owner.query("SELECT sum(cost_micros)::bigint, sum(events)::int FROM usage_daily")[0]
        #expect(try rolled.require(0, as: Int64.self) == stored.require(2, as: Int64.self))
        #expect(try rolled.require(1, as: Int.self) == stored.require(0, as: Int.self))
        #expect(try mismatches().isEmpty)
    }
}
