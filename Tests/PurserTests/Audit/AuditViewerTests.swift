import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The audit viewer: filters, keyset pages, and the CSV export with formula cells defused.
@Suite struct AuditViewerTests {
    @Test func cellsThatSpreadsheetsWouldRunAreEscaped() {
        #expect(CSV.cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSV.cell("+1") == "\"'+1\"")
        #expect(CSV.cell("-2") == "\"'-2\"")
        #expect(CSV.cell("@SUM(A1)") == "\"'@SUM(A1)\"")
        #expect(CSV.cell("plain") == "\"plain\"")
        #expect(CSV.line(["a", "b\nc"]) == "\"a\",\"b\nc\"\r\n")
    }

    @Test func pagesFiltersAndExport() throws {
        let app = try TestApp()
        let people = try People(app)
        let admin = people.id("tenant_admin@acme.test")
        // 60 events, one with a formula for a reason.
        try app.app.database.inTenant(people.tenant) { tx in
            for index in 0..<60 {
                try AuditLog.record(
                    AuditEvent(
                        tenant: people.tenant, actorKind: .user, actorID: admin,
                        action: index % 2 == 0 ? "request.create" : "request.comment",
                        targetType: "request", targetID: "ACME-\(index)",
                        reason: index == 59 ? "=cmd|' /C calc'!A0" : nil, at: app.app.world.now), in: tx)
            }
        }
        let browser = try people.signedIn(
            "tenant_admin@acme.test", in: app,
            totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let first = try browser.get("/t/acme/audit")
        #expect(first.status == 200)
        #expect(first.text.components(separatedBy: "<tr><td>").count - 1 == 50)
        let next = try #require(WebVisitor.firstMatch(#"href="([^"]+)" rel="next""#, in: first.text))
            .replacingOccurrences(of: "&amp;", with: "&")
        let second = try browser.get(next)
        #expect(second.status == 200)
        #expect(second.text.components(separatedBy: "<tr><td>").count - 1 > 0)
        #expect(!second.text.contains("ACME-59"), "the second page starts below the first")
        let filtered = try browser.get("/t/acme/audit?action=request.comment&target=ACME-7")
        #expect(filtered.text.components(separatedBy: "<tr><td>").count - 1 == 1)
        #expect(try browser.get("/t/acme/audit?from=yesterday").status == 422)
        let csv = try browser.get("/t/acme/audit.csv?action=request.")
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type") == "text/csv; charset=utf-8")
        let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 61)
        #expect(lines[0].hasPrefix("\"sequence\",\"time\""))
        #expect(csv.text.contains("\"'=cmd|' /C calc'!A0\""))
        // A viewer may not read the log.
        let viewer = WebVisitor(app)
        try viewer.signIn("viewer@acme.test", People.password)
        #expect(try viewer.get("/t/acme/audit.csv").status == 403)
    }
}
