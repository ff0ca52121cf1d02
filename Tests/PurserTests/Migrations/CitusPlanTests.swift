import Foundation
import Postgres
import Testing
import TestSupport

/// docs/scaling.md's Citus statements ("Ready to shard by tenant") name every table of the migrated
/// schema once, in an order and a placement Citus accepts, so the page cannot fall behind the
/// migrations. Citus itself is not installed where Purser is tested: the block runs in a migrated
/// database against stand-ins of its functions (same names and arguments), which record each call.
@Suite struct CitusPlanTests {
    static let heading = "## Ready to shard by tenant (Citus)"

    /// The stand-ins: each records its call and checks, through its `regclass`/`regprocedure`
    /// argument, that the table or function exists.
    static let standIns = """
        CREATE SCHEMA citus_standin;
        CREATE TABLE citus_standin.calls (
            n serial PRIMARY KEY, kind text NOT NULL, name text NOT NULL, column_name text, colocate_with text,
            cascade_via_foreign_keys boolean NOT NULL DEFAULT false);
        CREATE FUNCTION citus_standin.citus_set_coordinator_host(host text, port integer DEFAULT 5432) RETURNS void
            LANGUAGE plpgsql AS $$ BEGIN END $$;
        CREATE FUNCTION citus_standin.create_reference_table(table_name regclass) RETURNS void
            LANGUAGE sql AS $$ INSERT INTO citus_standin.calls (kind, name) VALUES ('reference', table_name::text) $$;
        CREATE FUNCTION citus_standin.create_distributed_table(
            table_name regclass, distribution_column text, distribution_type text DEFAULT 'hash',
            colocate_with text DEFAULT 'default', shard_count integer DEFAULT NULL) RETURNS void
            LANGUAGE sql AS $$
                INSERT INTO citus_standin.calls (kind, name, column_name, colocate_with)
                VALUES ('distributed', table_name::text, distribution_column, colocate_with) $$;
        CREATE FUNCTION citus_standin.citus_add_local_table_to_metadata(
            table_name regclass, cascade_via_foreign_keys boolean DEFAULT false) RETURNS void
            LANGUAGE sql AS $$
                INSERT INTO citus_standin.calls (kind, name, cascade_via_foreign_keys)
                VALUES ('local', table_name::text, cascade_via_foreign_keys) $$;
        CREATE FUNCTION citus_standin.create_distributed_function(
            function_name regprocedure, distribution_arg_name text DEFAULT NULL, colocate_with text DEFAULT 'default',
            force_delegation boolean DEFAULT NULL) RETURNS void
            LANGUAGE sql AS $$ INSERT INTO citus_standin.calls (kind, name) VALUES ('function', function_name::text) $$;
        """

    /// The `sql` blocks under the heading, without `CREATE EXTENSION citus` (the stand-ins replace it).
    static func statements(of page: String) throws -> String {
        guard let after = page.components(separatedBy: heading + "\n").dropFirst().first else {
            throw TestSetupError("docs/scaling.md has no heading “\(heading)”")
        }
        let section = after.components(separatedBy: "\n## ")[0]
        let blocks = section.components(separatedBy: "```sql\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        return blocks.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("create extension citus") }.joined(separator: "\n")
    }

    let facts: SchemaFacts
    let calls: [CitusCall]

    init() throws {
        let database = try TestDatabase()
        let connection = try database.connect()
        facts = try SchemaFacts(connection)
        let page = try String(contentsOf: TestEnvironment.root.appendingPathComponent("docs/scaling.md"), encoding: .utf8)
        try connection.execute(Self.standIns)
        try connection.execute("SET search_path = public, citus_standin;\n" + (try Self.statements(of: page)))
        calls = try connection.query(
            "SELECT kind, name, coalesce(column_name, ''), coalesce(colocate_with, ''), cascade_via_foreign_keys FROM citus_standin.calls ORDER BY n"
        ).map {
            CitusCall(
                kind: try $0.require(0), name: try $0.require(1), column: try $0.require(2), colocateWith: try $0.require(3),
                cascade: try $0.require(4))
        }
    }

    @Test func theStatementsNameEveryTableOnceWhereCitusAcceptsIt() {
        #expect(calls.filter { $0.kind == "distributed" }.count > 50 && calls.contains { $0.kind == "reference" && $0.name == "tenants" })
        let problems = CitusPlan(facts: facts).problems(calls)
        #expect(problems.isEmpty, "docs/scaling.md, \(Self.heading):\n\(problems.joined(separator: "\n"))")
    }

    /// Triggers on distributed and reference tables would fire on the workers (and Citus refuses them
    /// by default): docs/scaling.md names each one that must move into Purser's statements before the
    /// switch, so a new one is a failing test until the page says what becomes of it.
    @Test func triggersThatWouldRunOnTheWorkersAreTheOnesThePageNames() {
        let named: Set<String> = [
            "requests.requests_changed", "memberships.visitor_changed", "access_grants.visitor_changed", "users.visitor_changed",
            "tenants.visitor_changed",
        ]
        let kinds = Dictionary(calls.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        let onWorkers = Set(
            facts.triggers.filter { ["distributed", "reference"].contains(kinds[$0.table]) }.map { "\($0.table).\($0.name)" })
        #expect(onWorkers == named, "triggers on distributed or reference tables: \(onWorkers.sorted())")
    }

    /// Each rule fails on a plan that breaks it.
    @Test func aPlanThatBreaksARuleIsRefused() {
        let plan = CitusPlan(facts: facts)
        func refused(_ change: ([CitusCall]) -> [CitusCall], _ expected: String) {
            let problems = plan.problems(change(calls))
            #expect(problems.contains { $0.contains(expected) }, "expected “\(expected)” in \(problems)")
        }
        refused({ $0.filter { $0.name != "request_comments" } }, "request_comments is named by no statement")
        refused({ $0 + [CitusCall(kind: "reference", name: "request_comments")] }, "request_comments is named 2 times")
        refused(
            { $0.filter { $0.name != "job_effects" }.map { $0.name == "jobs" ? CitusCall(kind: "local", name: "jobs") : $0 } },
            "job_effects")
        refused(
            { $0.map { $0.name == "requests" ? CitusCall(kind: "reference", name: "requests") : $0 } },
            "requests has a NOT NULL tenant_id but is not distributed by it")
        refused(
            {
                $0.map {
                    $0.name == "jobs"
                        ? CitusCall(kind: "distributed", name: "jobs", column: "tenant_id", colocateWith: "requests", cascade: false) : $0
                }
            }, "jobs")
        refused({ $0.map { $0.name == "users" ? CitusCall(kind: "local", name: "users") : $0 } }, "points at users")
        refused(
            { calls in
                let comments = calls.first { $0.name == "request_comments" }!
                return [comments] + calls.filter { $0.name != "request_comments" }
            }, "request_comments comes before requests")
        refused(
            {
                $0.map {
                    $0.name == "sla_events"
                        ? CitusCall(kind: "distributed", name: "sla_events", column: "tenant_id", colocateWith: "none", cascade: false) : $0
                }
            }, "co-located")
        #expect(plan.problems(calls, setNull: ["notification_deliveries_channel_fkey"]).contains { $0.contains("SET NULL") })
    }
}

/// One call of the Citus block, as the stand-ins recorded it.
struct CitusCall {
    var kind: String
    var name: String
    var column = ""
    var colocateWith = ""
    var cascade = false
}

/// What the rules read from the catalog: tables, foreign keys, and the columns of unique and
/// exclusion constraints.
struct SchemaFacts {
    struct ForeignKey {
        let name: String
        let table: String
        let referenced: String
        let columns: [String]
        let referencedColumns: [String]
        let nullsOnDelete: Bool
    }

    var tables: Set<String> = []
    var notNullTenant: Set<String> = []
    var foreignKeys: [ForeignKey] = []
    var uniqueColumns: [(table: String, name: String, columns: [String])] = []
    var triggers: [(table: String, name: String)] = []

    init(_ connection: Connection) throws {
        for row in try connection.query(
            """
            SELECT c.relname::text, coalesce((SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                                AND NOT a.attisdropped), false)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """)
        {
            let name: String = try row.require(0)
            tables.insert(name)
            if try row.require(1, as: Bool.self) { notNullTenant.insert(name) }
        }
        let columns = { (relation: String, numbers: String) in
            "ARRAY(SELECT a.attname::text FROM unnest(\(numbers)) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = \(relation) AND a.attnum = u.n ORDER BY u.o)"
        }
        foreignKeys = try connection.query(
            """
            SELECT k.conname::text, t.relname::text, r.relname::text, \(columns("k.conrelid", "k.conkey")),
                   \(columns("k.confrelid", "k.confkey")), k.confdeltype IN ('n', 'd') OR k.confupdtype NOT IN ('a', 'r')
            FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND k.contype = 'f' AND k.conparentid = 0
            """
        ).map {
            ForeignKey(
                name: try $0.require(0), table: try $0.require(1), referenced: try $0.require(2), columns: try $0.require(3),
                referencedColumns: try $0.require(4), nullsOnDelete: try $0.require(5))
        }
        uniqueColumns = try connection.query(
            """
            SELECT t.relname::text, i.relname::text, \(columns("x.indrelid", "x.indkey::int2[]"))
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND (x.indisunique OR x.indisexclusion) AND NOT t.relispartition
            """
        ).map { (try $0.require(0), try $0.require(1), try $0.require(2)) }
        triggers = try connection.query(
            """
            SELECT c.relname::text, g.tgname::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND NOT g.tgisinternal
            """
        ).map { (try $0.require(0), try $0.require(1)) }
    }
}

/// The rules a Citus plan must keep (docs/scaling.md).
struct CitusPlan {
    let facts: SchemaFacts

    /// `setNull`: foreign keys to treat as `ON DELETE SET NULL`, to show that rule can fail.
    func problems(_ calls: [CitusCall], setNull: Set<String> = []) -> [String] {
        var problems: [String] = []
        var placement: [String: String] = [:]
        var position: [String: Int] = [:]
        var count: [String: Int] = [:]
        let declared = Set(calls.filter { $0.kind != "local" && $0.kind != "function" }.map(\.name))
        for (index, call) in calls.enumerated() where call.kind != "function" {
            var named = [call.name]
            if call.kind == "local" && call.cascade {
                // Citus brings along every local table joined to this one by foreign keys.
                var stack = [call.name]
                var seen: Set<String> = [call.name]
                while let table = stack.popLast() {
                    for key in facts.foreignKeys where key.table == table || key.referenced == table {
                        let other = key.table == table ? key.referenced : key.table
                        if !declared.contains(other) && !seen.contains(other) {
                            seen.insert(other)
                            stack.append(other)
                        }
                    }
                }
                named = seen.sorted()
            }
            for table in named {
                count[table, default: 0] += 1
                placement[table] = call.kind
                position[table] = position[table] ?? index
            }
        }
        for table in facts.tables.sorted() {
            switch count[table] ?? 0 {
            case 0: problems.append("\(table) is named by no statement")
            case 1: break
            case let times: problems.append("\(table) is named \(times) times")
            }
        }
        for table in count.keys.sorted() where !facts.tables.contains(table) { problems.append("\(table) is not a table of the schema") }

        let distributed = calls.filter { $0.kind == "distributed" }
        for table in facts.notNullTenant.sorted() where placement[table] != "distributed" {
            problems.append("\(table) has a NOT NULL tenant_id but is not distributed by it")
        }
        for call in distributed {
            if !facts.notNullTenant.contains(call.name) { problems.append("\(call.name) is distributed but has no NOT NULL tenant_id") }
            if call.column != "tenant_id" { problems.append("\(call.name) is distributed by \(call.column), not tenant_id") }
        }
        if let first = distributed.first {
            if first.colocateWith != "none" {
                problems.append("\(first.name), the first distributed, should start its group (colocate_with => 'none')")
            }
            for call in distributed.dropFirst() where call.colocateWith != first.name {
                problems.append("\(call.name) is not co-located with \(first.name)")
            }
        }
        for key in facts.foreignKeys {
            let (from, to) = (placement[key.table] ?? "?", placement[key.referenced] ?? "?")
            let described = "\(key.table).\(key.name) points at \(key.referenced)"
            switch (from, to) {
            case ("distributed", "distributed"):
                if key.columns.firstIndex(of: "tenant_id") != key.referencedColumns.firstIndex(of: "tenant_id")
                    || !key.columns.contains("tenant_id")
                {
                    problems.append("\(described) without tenant_id in the same position on both sides")
                }
                if key.nullsOnDelete || setNull.contains(key.name) {
                    problems.append("\(described) with ON DELETE SET NULL/SET DEFAULT or an ON UPDATE action, which Citus refuses")
                }
            case ("distributed", "reference"), ("reference", "reference"), ("local", "reference"), ("local", "local"): break
            default: problems.append("\(described): a \(from) table cannot point at a \(to) one")
            }
            if to != "local", key.table != key.referenced, let a = position[key.table], let b = position[key.referenced], a < b {
                problems.append("\(key.table) comes before \(key.referenced), which its key \(key.name) points at")
            }
        }
        for unique in facts.uniqueColumns where placement[unique.table] == "distributed" && !unique.columns.contains("tenant_id") {
            problems.append("\(unique.table).\(unique.name) is unique without tenant_id")
        }
        return problems
    }
}
