// What `purser dev` puts in an empty database: a demo tenant with one person per customer role,
// and one staff member per staff role, all with the same printed password. People whose role
// requires a second factor get one already set up; `purser dev-code EMAIL` prints its current code.
import Foundation
import Postgres

public enum DemoData {
    public static let password = "purser-demo-passphrase"
    public static let tenantSlug = "acme"

    public struct Login: Sendable {
        public let email: String
        public let role: String
        public let secondFactor: Bool
    }

    public static let customers: [(email: String, name: String, role: CustomerRole)] = [
        ("admin@acme.test", "Ada Admin", .tenantAdmin),
        ("approver@acme.test", "Abe Approver", .approver),
        ("requester@acme.test", "Rita Requester", .requester),
        ("viewer@acme.test", "Vic Viewer", .viewer),
    ]
    public static let staff: [(email: String, name: String, role: StaffRole)] = [
        ("cse@purser.test", "Cass Success", .cse),
        ("platform@purser.test", "Pat Platform", .platformEngineer),
        ("admin@purser.test", "Paula Provider", .providerAdmin),
    ]

    /// Seeds the demo data unless the demo tenant exists, stamped by `clock`; returns the logins either way.
    @discardableResult
    public static func seed(database: Database, hasher: PasswordHasher, keyring: Keyring, clock: any WallClock) throws -> [Login] {
        let tenants = TenantStore(database: database, clock: clock)
        if try tenants.id(slug: tenantSlug) == nil {
            let tenant = try tenants.create(
                NewTenant(
                    slug: tenantSlug, name: "Acme Bank", key: "ACME", plan: "premium",
                    timeZone: "Europe/Zurich"),
                actor: .system, reason: "demo data")
            let people = PersonStore(database: database, hasher: hasher, clock: clock)
            for person in customers {
                let user = try people.addMember(
                    NewPerson(email: person.email, name: person.name, password: password),
                    tenant: tenant, role: person.role, actor: .system, reason: "demo data")
                if person.role == .tenantAdmin { try enableSecondFactor(user, database: database, keyring: keyring, at: clock.now) }
            }
            for person in staff {
                let user = try people.addStaff(
                    NewPerson(email: person.email, name: person.name, password: password),
                    role: person.role, actor: .system, reason: "demo data")
                try enableSecondFactor(user, database: database, keyring: keyring, at: clock.now)
            }
            try DemoRequests.seed(database: database, tenant: tenant, clock: clock)
            try DemoCosts.seed(database: database, tenant: tenant, clock: clock)
            try DemoBudgets.seed(database: database, tenant: tenant, clock: clock)
            try DemoAccess.seed(database: database, tenant: tenant, clock: clock)
            try DemoHosts.seed(database: database, tenant: tenant, clock: clock)
            try DemoDeployments.seed(database: database, tenant: tenant, keyring: keyring, clock: clock)
            try DemoMonitoring.seed(database: database, tenant: tenant, keyring: keyring, clock: clock)
            try DemoIncidents.seed(database: database, tenant: tenant, clock: clock)
            // Last week's report archived (no one told), from the usage and endpoints above.
            try WeeklyReportJob.run(database, tenant: tenant, now: clock.now, publicURL: nil)
        }
        return customers.map { Login(email: $0.email, role: $0.role.rawValue, secondFactor: $0.role == .tenantAdmin) }
            + staff.map { Login(email: $0.email, role: $0.role.rawValue, secondFactor: true) }
    }

    static func enableSecondFactor(_ user: UUID, database: Database, keyring: Keyring, at now: Date) throws {
        let sealed = try SealedColumn.secondFactor.seal(TOTP.generate().secret, row: user, keyring: keyring)
        try database.pool.query("UPDATE users SET totp_secret = $2, totp_enabled_at = $3 WHERE id = $1", [user, sealed, now])
    }

    /// The code of `email`'s second factor at `now` (development only: it reads the sealed secret).
    public static func currentCode(email: String, database: Database, keyring: Keyring, at now: Date) throws -> String? {
        guard let row = try database.pool.query("SELECT id, totp_secret FROM users WHERE lower(email) = lower($1)", [email]).first,
            let text = try row.decode(1, as: String.self)
        else { return nil }
        let user = try row.require(0, as: UUID.self)
        return TOTP(secret: try SealedColumn.secondFactor.open(text, row: user, keyring: keyring)).code(at: now)
    }
}
