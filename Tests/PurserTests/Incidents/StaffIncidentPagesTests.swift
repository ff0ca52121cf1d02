import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// /staff/incidents a page at a time: more open incidents than one page holds (written in two
/// statements, each with its request, as the incident feature keeps them) are all reached through
/// the "Older open incidents" link, each once; the last page has no such link.
@Suite(.serialized) struct StaffIncidentPagesTests {
    let clock = SettableClock(Date(timeIntervalSince1970: 1_790_000_000))
    let app: TestApp
    let acme: People

    init() throws {
        app = try TestApp(clock: clock)
        acme = try People(app, slug: "acme", staff: true)
    }

    @Test func everyOpenIncidentPastTheFirstPageIsReachedOnceByTheNextLink() throws {
        let owner = try app.database.connect()
        let highest = try owner.query("SELECT coalesce(max(number), 0) FROM requests WHERE tenant_id = $1", [acme.tenant])[0]
            .require(0, as: Int.self)
        // 230 open incidents (pairs opened in the same second, so the id breaks ties) and 3 resolved.
        try owner.query(
            """
            INSERT INTO requests (tenant_id, id, number, subject, type, priority, state, requester_id, created_at)
            SELECT $1, gen_random_uuid(), $2 + n, 'Outage ' || n, 'incident', 'P2', 'open', $3, $4::timestamptz
            FROM generate_series(1, 233) n
            """, [acme.tenant, highest, acme.id("requester@acme.test"), clock.now])
        try owner.query(
            """
            INSERT INTO incidents (tenant_id, id, title, severity, state, source, request_id, opened_at, updated_at)
            SELECT r.tenant_id, gen_random_uuid(), r.subject, 'SEV3', CASE WHEN r.number - $2 > 230 THEN 'resolved' ELSE 'detected' END,
                   'manual', r.id, $3::timestamptz - (r.number - $2) / 2 * interval '1 second', $3::timestamptz
            FROM requests r WHERE r.tenant_id = $1 AND r.number > $2
            """, [acme.tenant, highest, clock.now])
        let cse = try acme.signedIn("cse@staff.test", in: app, totp: try acme.enableSecondFactor("cse@staff.test", in: app))

        var seen: [String] = [], path: String? = "/staff/incidents", pages = 0
        while let next = path, pages < 5 {
            let page = try cse.get(next)
            #expect(page.status == 200)
            let html = String(decoding: page.body, as: UTF8.self)
            let open = html.components(separatedBy: "<h2>Recently resolved</h2>")[0]
            seen += open.matches(of: /<a href="[^"]*">(Outage \d+)<\/a>/).map { String($0.1) }
            path = html.firstMatch(of: /<a href="([^"]*)">Older open incidents<\/a>/).map { String($0.1) }
            if pages > 0 { #expect(html.contains(">Newest open incidents</a>")) }
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen.count == 230 && Set(seen).count == 230, "\(seen.count)")
        #expect(seen.first == "Outage 1" && seen.last == "Outage 230")
        #expect(!seen.contains("Outage 231"))
    }
}
