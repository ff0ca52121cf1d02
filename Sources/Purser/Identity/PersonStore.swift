// Creating people: customer users (a membership in a tenant with a role) and provider staff.
// Passwords are checked against the policy and hashed before the transaction opens (hashing is slow).
import Foundation
import struct HTTPServer.FieldError
import Postgres

public struct NewPerson: Sendable {
    public var email: String
    public var name: String
    /// Nil creates the account as invited: it cannot sign in until a password is set.
    public var password: String?

    public init(email: String, name: String, password: String? = nil) {
        self.email = email
        self.name = name
        self.password = password
    }

    var normalizedEmail: String { email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    func validate() throws {
        var errors: [FieldError] = []
        let email = normalizedEmail
        if !EmailAddress.isValid(email) {
            errors.append(FieldError(field: "email", detail: "give an email address such as ada@example.com"))
        }
        let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmedName.isEmpty || trimmedName.count > 200 {
            errors.append(FieldError(field: "name", detail: "give a name of 1–200 characters"))
        }
        if let password, let problem = PasswordPolicy.problem(with: password, email: email, name: trimmedName) {
            errors.append(FieldError(field: "password", detail: problem))
        }
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}

public struct PersonStore: Sendable {
    let database: Database
    let hasher: PasswordHasher
    /// The time of day accounts and memberships are made at.
    let clock: any WallClock

    public init(database: Database, hasher: PasswordHasher, clock: any WallClock) {
        self.database = database
        self.hasher = hasher
        self.clock = clock
    }

    /// Makes `person` a member of `tenant` with `role`, creating the account if the email is new.
    /// An email already used elsewhere gets the same answer as a new one (no tenant learns who
    /// uses another); an existing member of this tenant is a 422 on `email`.
    public func addMember(
        _ person: NewPerson, tenant: UUID, role: CustomerRole, actor: AuditActor,
        reason: String?
    ) throws -> UUID {
        try person.validate()
        let hash = try person.password.map { try hasher.hash($0) }
        return try database.inTenant(tenant) { tx in
            let now = clock.now
            let user = try Self.upsertUser(person, hash: hash, at: now, tx).id
            let added = try tx.query(
                """
                INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                """, [tenant, user, role.rawValue, now]
            ).affected
            guard added == 1 else { throw ValidationError(field: "email", "this person is already a member", refusal: .conflict) }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "membership.create", targetType: "user",
                    targetID: user.postgresText, reason: reason,
                    after: try JSONText(encoding: ["email": person.normalizedEmail, "role": role.rawValue]), at: now), in: tx)
            return user
        }
    }

    /// Creates a provider staff account; recorded in the provider chain.
    public func addStaff(_ person: NewPerson, role: StaffRole, actor: AuditActor, reason: String?) throws -> UUID {
        try person.validate()
        let hash = try person.password.map { try hasher.hash($0) }
        return try database.pool.transaction { tx in
            let now = clock.now
            let (user, created) = try Self.upsertUser(person, hash: hash, at: now, tx)
            // Staff accounts are made new (or are staff already): an account that began elsewhere
            // (an invitation, a customer) may be controlled by someone else and never becomes staff.
            let staffRole = try tx.query("SELECT staff_role FROM users WHERE id = $1 FOR UPDATE", [user])[0]
                .decode(0, as: String.self)
            guard created || staffRole != nil else {
                throw ValidationError(
                    field: "email", "a customer account already uses this email; staff accounts must be new",
                    refusal: .conflict)
            }
            try tx.query(
                "UPDATE users SET staff_role = $2, updated_at = $3, version = version + 1 WHERE id = $1",
                [user, role.rawValue, now])
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: actor, action: "staff.create", targetType: "user",
                    targetID: user.postgresText, reason: reason,
                    after: try JSONText(encoding: ["email": person.normalizedEmail, "staff_role": role.rawValue]), at: now), in: tx)
            return user
        }
    }

    /// The account for the email: created at `now` when new (`created`), otherwise left exactly as it is.
    static func upsertUser(_ person: NewPerson, hash: String?, at now: Date, _ tx: Connection) throws -> (id: UUID, created: Bool) {
        let inserted = try tx.query(
            """
            INSERT INTO users (id, email, name, password_hash, status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NULL THEN 'invited' ELSE 'active' END, $5, $5)
            ON CONFLICT (lower(email)) DO NOTHING
            RETURNING id
            """,
            [
                UUID.v7(at: now), person.normalizedEmail, person.name.trimmingCharacters(in: .whitespacesAndNewlines), hash,
                now,
            ])
        if let row = inserted.first { return (try row.require(0, as: UUID.self), true) }
        let existing = try tx.query("SELECT id FROM users WHERE lower(email) = $1", [person.normalizedEmail])[0]
            .require(0, as: UUID.self)
        return (existing, false)
    }
}
