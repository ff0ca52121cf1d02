import Foundation
import Postgres
import Testing
import TestSupport

/// No statement in Purser joins rows of one tenant to rows of another, unless it says why
/// (docs/architecture.md, "Joins stay within a tenant"). Row-level security already hides other
/// tenants' rows from a tenant's transaction; this keeps staff and worker statements, which see every
/// row, from pairing one tenant's row with another's, and keeps every join co-located when the tables
/// are distributed by `tenant_id` (docs/scaling.md).
///
/// The tenant tables are read from the migrated schema's catalog: every table with a `tenant_id`
/// column, and `tenants` itself (keyed by `id`). The SQL is every string literal of Sources/Purser
/// that reads like a statement, with `static let` fragments put back in place.
@Suite struct CrossTenantJoinTests {
    let check: TenantJoinCheck

    init() throws {
        let database = try TestDatabase()
        let catalog = try Catalog(try database.connect())
        var columns: [String: String] = ["tenants": "id"]
        for table in catalog.tables.values where table.hasTenantID { columns[table.name] = "tenant_id" }
        check = TenantJoinCheck(tenantColumn: columns, tables: Set(catalog.tables.keys))
    }

    static func sourceFiles() throws -> [(path: String, source: String)] {
        try OneClockTests.swiftFiles().map {
            ($0, try String(contentsOf: OneClockTests.sources.appendingPathComponent($0), encoding: .utf8))
        }
    }

    @Test func everyJoinOfTwoTenantTablesTiesTheirTenants() throws {
        let literals = SwiftSQLLiterals.sql(in: try Self.sourceFiles())
        #expect(literals.count > 400, "the scan reads Purser's SQL")
        let tied = literals.flatMap { check.joins(in: $0.text) }.filter(\.tied)
        #expect(tied.count > 60, "the scan sees the joins Purser writes (\(tied.count))")
        let untied = literals.filter { $0.crossTenant == nil }.flatMap { literal in
            check.problems(in: literal.text).map { "\(literal.file):\(literal.line): \($0)" }
        }
        #expect(
            untied.isEmpty,
            """
            joins between tenant tables without a tenant_id equality (add `a.tenant_id = b.tenant_id`, or mark a view \
            that spans tenants with `// cross-tenant: <why>` on the line above):
            \(untied.joined(separator: "\n"))
            """)
    }

    /// A marker covers a statement that needs it and says why, so markers cannot pile up unread.
    @Test func everyMarkerCoversAJoinAcrossTenantsAndSaysWhy() throws {
        let files = try Self.sourceFiles()
        let literals = SwiftSQLLiterals.sql(in: files)
        var problems: [String] = []
        for file in files {
            for (line, reason) in SwiftSQLLiterals.scan(file.source).markers {
                let covered = literals.filter { $0.file == file.path && $0.crossTenant?.line == line }
                if reason.count < 20 { problems.append("\(file.path):\(line): say why the statement spans tenants") }
                if !covered.contains(where: { !check.problems(in: $0.text).isEmpty }) {
                    problems.append("\(file.path):\(line): the marker covers no join across tenants; remove it")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func theCheckCatchesAJoinThatLosesTheTenant() {
        let untied = [
            "SELECT r.number FROM sla_events e JOIN requests r ON r.id = e.request_id",
            "SELECT 1 FROM requests r LEFT JOIN request_comments c ON c.request_id = r.id WHERE r.tenant_id = $1",
            "SELECT r.id, ARRAY(SELECT w.user_id FROM request_watchers w WHERE w.request_id = r.id) FROM requests r",
            "SELECT 1 FROM requests r, request_comments c WHERE c.request_id = r.id",
            "UPDATE requests r SET state = 'open' FROM request_comments c WHERE c.request_id = r.id AND c.tenant_id = $1",
            "SELECT 1 FROM requests r JOIN tenants t ON t.id = $2 WHERE r.id = $1 AND t.slug = r.subject",
            "SELECT 1 FROM requests r JOIN request_comments c ON c.request_id = r.id AND c.tenant_id = $1 AND r.tenant_id = $2",
            "SELECT 1 FROM requests x JOIN request_comments c ON c.request_id = x.id UNION SELECT 1 FROM requests x WHERE x.id = $1",
            "SELECT 1 FROM requests r JOIN request_comments USING (id)",
        ]
        for sql in untied { #expect(!check.problems(in: sql).isEmpty, "not caught: \(sql)") }

        let tied = [
            "SELECT r.number FROM sla_events e JOIN requests r ON r.tenant_id = e.tenant_id AND r.id = e.request_id",
            "SELECT 1 FROM requests r JOIN request_comments c USING (tenant_id, id)",
            "SELECT 1 FROM requests r JOIN request_comments c ON c.request_id = r.id WHERE c.tenant_id = $1 AND r.tenant_id = $1",
            "SELECT 1 FROM requests r JOIN tenants t ON t.id = r.tenant_id JOIN request_comments c ON c.tenant_id = t.id AND c.request_id = r.id",
            "SELECT r.id, ARRAY(SELECT user_id FROM request_watchers WHERE tenant_id = r.tenant_id AND request_id = r.id) FROM requests r",
            "SELECT 1 FROM requests r JOIN users u ON u.id = r.requester_id JOIN plans p ON p.id = r.number",
            "SELECT 1 FROM request_comments c WHERE c.tenant_id = ⟪tenant⟫ AND EXISTS (SELECT 1 FROM requests r WHERE r.tenant_id = ⟪tenant⟫ AND r.id = c.request_id)",
        ]
        for sql in tied { #expect(check.problems(in: sql).isEmpty, "refused: \(sql): \(check.problems(in: sql))") }
        #expect(check.joins(in: tied[0]).count == 1 && check.joins(in: tied[5]).isEmpty)
    }

    /// Fragments named by a `static let` are put back where they are interpolated, and a marker covers
    /// the statements below it up to the next blank line.
    @Test func statementsAreReadFromSwiftWithTheirFragmentsAndMarkers() {
        let source = #"""
            enum Lists {
                static let joins = "requests r JOIN request_comments c ON c.request_id = r.id"

                func all(_ tx: Connection) throws {
                    // cross-tenant: the provider compares every tenant's requests with every other's
                    try tx.query("SELECT r.id FROM \(Lists.joins) WHERE r.state = $1", ["open"])
                    try tx.query("SELECT 1 FROM \(joins)")

                    try tx.query("SELECT 1 FROM \(Self.joins) WHERE r.id = \(id)")
                }
            }
            """#
        let literals = SwiftSQLLiterals.sql(in: [(path: "Lists.swift", source: source)])
        let statements = literals.filter { $0.text.hasPrefix("SELECT") }
        #expect(statements.map(\.line) == [6, 7, 9])
        #expect(statements.map { $0.crossTenant?.line } == [5, 5, nil])
        #expect(statements[0].text == "SELECT r.id FROM requests r JOIN request_comments c ON c.request_id = r.id WHERE r.state = $1")
        #expect(statements[2].text.hasSuffix("WHERE r.id = ⟪id⟫"))
        #expect(statements.allSatisfy { !check.problems(in: $0.text).isEmpty })
        #expect(SwiftSQLLiterals.scan(source).markers == [5: "the provider compares every tenant's requests with every other's"])
    }
}
