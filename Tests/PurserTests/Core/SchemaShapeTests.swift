import Foundation
import Postgres
import Testing
import TestSupport

/// The shape every tenant-owned table keeps, read from the live catalog of a migrated database:
/// its primary key, each unique key and each foreign key to another tenant table lead with
/// `tenant_id` (so a row can only ever point at rows of its own tenant, and the next feature copies
/// `(tenant_id, request_id) REFERENCES requests (tenant_id, id)`), and row-level security is enabled,
/// forced, keyed on the tenant and open to staff through `staff_rows` (docs/security.md).
///
/// A table with a `tenant_id` column is tenant-owned unless listed below; a table without one must be
/// listed as a reference table, so that a new table is a failing test until someone decides which it is.
@Suite struct SchemaShapeTests {
    /// Tables without `tenant_id`: the installation's own rows, people, and things found before any
    /// tenant is known. Row-level security does not apply to them.
    static let referenceTables: [String: String] = [
        "schema_migrations": "the migration runner's record",
        "installation": "one row of installation settings",
        "plans": "a catalogue of tiers shared by every tenant",
        "model_catalogue": "the provider's catalogue of servable models, read before any tenant is known",
        "tenants": "the tenant registry itself: a slug in a URL is resolved before any tenant is set",
        "users": "people belong to many tenants through memberships; staff to none",
        "sessions": "a person's sign-in, found by its cookie's hash before any tenant is known",
        "sign_in_throttle": "failures per account and address, before any tenant is known",
        "recovery_codes": "a person's second factor, not a tenant's",
        "rate_limit_buckets": "token buckets by key, shared by every node",
        "idempotency_keys": "keyed by caller (which names its tenant), route and key; read before the handler runs",
        "job_effects": "a job's completed side effects, keyed by the job (jobs is an exception below)",
        "job_schedules": "the installation's recurring jobs",
        "audit_checkpoints": "signed heads of the audit chains, per chain; written and verified as the owner",
        "audit_checkpoint_sets": "signed sets of every chain's head, installation-wide",
        "request_groups": "staff queues belong to the provider, not to a tenant",
        "request_group_members": "staff in the provider's queues",
        "saved_views": "a staff member's named queue filters, across tenants",
        "ssh_certificate_authority": "the installation's one SSH CA key, sealed; every tenant's hosts trust it",
        "ssh_revocations": "the CA's revocation list, published whole in the KRL to every host",
        "prices": "the provider's list price catalogue, shared by every tenant (tenant_prices holds negotiated ones)",
        "provider_channels": "the provider's own notification channels, for events of no tenant (a shared-pool host down)",
        "provider_deliveries": "deliveries to the provider's channels and staff, kept apart from every tenant's log",
    ]

    /// Tables with `tenant_id` that are not tenant-owned: found by a secret's hash before any tenant
    /// is known, with no row-level security (docs/security.md).
    static let notTenantOwned: [String: String] = [
        "api_tokens": "found by lookup before the tenant is known; a staff token has no tenant",
        "one_time_links": "an invitation or reset link found by its hash before sign-in; a reset names no tenant",
    ]

    /// Tenant-owned tables whose keys do not lead with `tenant_id`, because `tenant_id` is NULL on some
    /// of their rows (a primary key column cannot be) and nothing references them by tenant. They still
    /// have row-level security, enabled and forced, with the staff policy.
    static let keyShapeExceptions: [String: String] = [
        "audit_chains": "the provider chain (events of no tenant) has a NULL tenant_id; keyed by chain name, which names the tenant",
        "audit_events": "events of the provider chain have a NULL tenant_id; keyed (chain, sequence) in hash-chain order",
        "gpu_hosts": "hosts of the provider's shared pool have a NULL tenant_id; keyed by id, names unique per tenant (NULLS NOT DISTINCT)",
        "jobs": "system jobs have a NULL tenant_id; workers claim across tenants by the identity id, which job_effects references",
    ]

    let catalog: Catalog

    init() throws {
        let database = try TestDatabase()
        catalog = try Catalog(try database.connect())
    }

    @Test func everyTableIsTenantOwnedOrListedWithAReason() {
        var problems: [String] = []
        for table in catalog.tables.values.sorted(by: { $0.name < $1.name }) {
            if table.hasTenantID {
                if Self.referenceTables[table.name] != nil {
                    problems.append("\(table.name) has tenant_id but is listed as a reference table")
                }
            } else if Self.referenceTables[table.name] == nil {
                problems.append("\(table.name) has no tenant_id: add it (tenant-owned) or list it as a reference table with why")
            }
        }
        let listed = Set(Self.referenceTables.keys).union(Self.notTenantOwned.keys).union(Self.keyShapeExceptions.keys)
        for name in listed.sorted() where catalog.tables[name] == nil { problems.append("\(name) is listed but does not exist") }
        for name in Self.notTenantOwned.keys.sorted() where catalog.tables[name]?.hasTenantID == false {
            problems.append("\(name) is listed as not tenant-owned but has no tenant_id")
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(catalog.tenantTables.contains("requests") && catalog.tenantTables.contains("request_comments"))
    }

    @Test func primaryKeysLeadWithTheTenant() {
        var problems: [String] = []
        for table in catalog.keyedTenantTables {
            let primary = catalog.uniqueIndexes.filter { $0.table == table && $0.primary }
            if primary.isEmpty { problems.append("\(table) has no primary key") }
            for key in primary where key.firstColumn != "tenant_id" { problems.append("\(table): \(key.definition)") }
        }
        #expect(problems.isEmpty, "primary keys not led by tenant_id:\n\(problems.joined(separator: "\n"))")
    }

    @Test func uniqueKeysLeadWithTheTenant() {
        let problems = catalog.keyedTenantTables.flatMap { table in
            catalog.uniqueIndexes.filter { $0.table == table && !$0.primary && $0.firstColumn != "tenant_id" }
                .map { "\(table): \($0.definition)" }
        }
        #expect(problems.isEmpty, "unique keys not led by tenant_id:\n\(problems.joined(separator: "\n"))")
    }

    @Test func foreignKeysBetweenTenantTablesCarryTheTenant() {
        let keyed = Set(catalog.keyedTenantTables)
        let problems = catalog.foreignKeys
            .filter { keyed.contains($0.referenced) && ($0.firstColumn != "tenant_id" || $0.firstReferencedColumn != "tenant_id") }
            .map { "\($0.table).\($0.name): \($0.definition)" }
        #expect(
            problems.isEmpty,
            "foreign keys to tenant tables without (tenant_id, …) REFERENCES t (tenant_id, …):\n\(problems.joined(separator: "\n"))")
    }

    @Test func rowLevelSecurityIsEnabledAndForced() {
        var problems: [String] = []
        for name in catalog.tenantTables {
            guard let table = catalog.tables[name] else { continue }
            if !table.rowSecurity { problems.append("\(name): row-level security not enabled") }
            if !table.forceRowSecurity { problems.append("\(name): row-level security not forced") }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func everyTenantTableHasTheTenantPolicyAndTheStaffPolicy() {
        var problems: [String] = []
        for table in catalog.tenantTables {
            let policies = catalog.policies.filter { $0.table == table }
            let staff = policies.first { $0.name == "staff_rows" }
            if let staff {
                if staff.roles != "purser_staff" || !staff.permissive || staff.command != "*" || staff.using != "true"
                    || staff.check != "true"
                {
                    problems.append("\(table): staff_rows is not a permissive policy TO purser_staff USING (true) WITH CHECK (true)")
                }
            } else {
                problems.append("\(table): no staff_rows policy")
            }
            if !policies.contains(where: { $0.name != "staff_rows" && $0.permissive && $0.using.contains("purser.tenant_id") }) {
                problems.append("\(table): no policy keyed on purser.tenant_id")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}

/// What the tests read from pg_class, pg_attribute, pg_index, pg_constraint and pg_policy.
struct Catalog {
    struct Table { let name: String; let rowSecurity: Bool; let forceRowSecurity: Bool; let hasTenantID: Bool }
    struct UniqueIndex { let table: String; let name: String; let primary: Bool; let firstColumn: String; let definition: String }
    struct ForeignKey {
        let table: String; let name: String; let referenced: String
        let firstColumn: String; let firstReferencedColumn: String; let definition: String
    }
    struct Policy {
        let table: String; let name: String; let permissive: Bool; let command: String
        let roles: String; let using: String; let check: String
    }

    let tables: [String: Table]
    let uniqueIndexes: [UniqueIndex]
    let foreignKeys: [ForeignKey]
    let policies: [Policy]

    /// Tables with tenant_id that are tenant-owned.
    var tenantTables: [String] {
        tables.values.filter { $0.hasTenantID && SchemaShapeTests.notTenantOwned[$0.name] == nil }.map(\.name).sorted()
    }

    /// Tenant-owned tables whose keys must lead with tenant_id.
    var keyedTenantTables: [String] { tenantTables.filter { SchemaShapeTests.keyShapeExceptions[$0] == nil } }

    init(_ connection: Connection) throws {
        let inSchema = "n.nspname = current_schema()"
        let column = { (relation: String, number: String) in
            "coalesce((SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = \(relation) AND a.attnum = \(number)), '(expression)')"
        }
        tables = Dictionary(
            uniqueKeysWithValues: try connection.query(
                """
                SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE \(inSchema) AND c.relkind IN ('r', 'p')
                """
            ).map { row in
                let table = Table(
                    name: try row.require(0), rowSecurity: try row.require(1), forceRowSecurity: try row.require(2),
                    hasTenantID: try row.require(3))
                return (table.name, table)
            })
        uniqueIndexes = try connection.query(
            """
            SELECT t.relname::text, i.relname::text, x.indisprimary, \(column("x.indrelid", "x.indkey[0]")), pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE \(inSchema) AND x.indisunique ORDER BY 1, 2
            """
        ).map {
            UniqueIndex(
                table: try $0.require(0), name: try $0.require(1), primary: try $0.require(2), firstColumn: try $0.require(3),
                definition: try $0.require(4))
        }
        foreignKeys = try connection.query(
            """
            SELECT t.relname::text, k.conname::text, r.relname::text,
                   \(column("k.conrelid", "k.conkey[1]")), \(column("k.confrelid", "k.confkey[1]")), pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE \(inSchema) AND k.contype = 'f' ORDER BY 1, 2
            """
        ).map {
            ForeignKey(
                table: try $0.require(0), name: try $0.require(1), referenced: try $0.require(2), firstColumn: try $0.require(3),
                firstReferencedColumn: try $0.require(4), definition: try $0.require(5))
        }
        policies = try connection.query(
            """
            SELECT c.relname::text, p.polname::text, p.polpermissive, p.polcmd::text,
                   coalesce((SELECT string_agg(r.rolname::text, ',' ORDER BY r.rolname) FROM pg_roles r WHERE r.oid = ANY (p.polroles)), 'public'),
                   coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
            FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(inSchema) ORDER BY 1, 2
            """
        ).map {
            Policy(
                table: try $0.require(0), name: try $0.require(1), permissive: try $0.require(2), command: try $0.require(3),
                roles: try $0.require(4), using: try $0.require(5), check: try $0.require(6))
        }
    }
}
