// A tenant with one person per role, and staff, each with a known password, made through the same
// stores the product uses.
import Foundation
import HTTPServer
import Postgres
import Purser

public struct People: Sendable {
    public static let password = "correct horse battery staple"
    public let tenant: UUID
    public let slug: String
    public let users: [String: UUID]

    /// Creates tenant `slug` with `<role>@<slug>.test` for every customer role, plus staff
    /// `<role>@staff.test` when `staff` is set. Second factors are left off.
    public init(_ app: TestApp, slug: String = "acme", staff: Bool = false) throws {
        let database = app.app.database
        let clock = app.app.world.clock
        tenant = try TenantStore(database: database, clock: clock).create(
            NewTenant(slug: slug, name: slug.capitalized + " Bank"),
            actor: .system, reason: nil)
        self.slug = slug
        let store = PersonStore(database: database, hasher: app.app.hasher, clock: clock)
        var users: [String: UUID] = [:]
        for role in CustomerRole.allCases {
            let email = "\(role.rawValue)@\(slug).test"
            users[email] = try store.addMember(
                NewPerson(email: email, name: role.rawValue, password: nil),
                tenant: tenant, role: role, actor: .system, reason: nil)
        }
        if staff {
            for role in StaffRole.allCases {
                let email = "\(role.rawValue)@staff.test"
                users[email] = try store.addStaff(
                    NewPerson(email: email, name: role.rawValue, password: nil),
                    role: role, actor: .system, reason: nil)
            }
        }
        // Every account gets the same password, hashed once per test process: argon2id is made to be
        // slow, and hashing it afresh for each person of each test's tenant cost seconds of the suite.
        try database.pool.query(
            "UPDATE users SET password_hash = $2, status = 'active' WHERE id = ANY($1)",
            [Array(users.values), try Self.passwordHash(app)])
        self.users = users
    }

    private static let hashed = Locked<String?>(nil)

    /// `password`'s hash, made by the first app that asks (every app's hasher reads it the same way).
    static func passwordHash(_ app: TestApp) throws -> String {
        if let known = hashed.withLock({ $0 }) { return known }
        let made = try app.app.hasher.hash(password)
        return hashed.withLock { known in
            let kept = known ?? made
            known = kept
            return kept
        }
    }

    public func id(_ email: String) -> UUID { users[email]! }
}

extension People {
    /// Turns on `email`'s second factor with a fresh secret, as if set up on the account page.
    public func enableSecondFactor(_ email: String, in app: TestApp) throws -> TOTP {
        let user = id(email)
        let totp = TOTP.generate()
        let sealed = try SealedColumn.secondFactor.seal(totp.secret, row: user, keyring: TestEnvironment.keyring)
        try app.database.connect().query(
            "UPDATE users SET totp_secret = $2, totp_enabled_at = now() WHERE id = $1",
            [user, sealed])
        return totp
    }

    /// A browser signed in as `email`, through the second factor when one is on (its code at the app's time).
    public func signedIn(_ email: String, in app: TestApp, totp: TOTP? = nil) throws -> WebVisitor {
        let browser = WebVisitor(app)
        let response = try browser.signIn(email, Self.password) { totp?.code(at: app.app.world.now) ?? "" }
        guard response.status == 303 else { throw TestSetupError("sign-in as \(email) answered \(response.status)") }
        return browser
    }

    /// A bearer token of `email` for requests (read and write), in `tenant` (nil: a staff token naming no tenant).
    public func requestsToken(_ email: String, tenant: UUID?, in app: TestApp) throws -> String {
        try app.app.tokens.create(
            user: id(email), tenant: tenant, name: "t", scopes: [.requestsRead, .requestsWrite],
            lifetime: 3600, actor: .system
        ).token
    }
}
