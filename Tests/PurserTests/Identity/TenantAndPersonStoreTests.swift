import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

@Suite struct TenantAndPersonStoreTests {
    let database: TestDatabase
    let db: Database
    let tenants: TenantStore
    let people: PersonStore

    init() throws {
        database = try TestDatabase()
        db = Database(url: database.url, size: 2)
        let clock = SettableClock(Date(timeIntervalSince1970: 1_800_000_000))
        tenants = TenantStore(database: db, clock: clock)
        people = PersonStore(database: db, hasher: try PasswordHasher(), clock: clock)
    }

    @Test func aTenantIsCreatedWithItsKeyAndAudited() throws {
        let id = try tenants.create(NewTenant(slug: "acme-bank", name: "Acme Bank"), actor: .system, reason: "test")
        let row = try database.connect().query("SELECT key, plan_id, time_zone FROM tenants WHERE id = $1", [id])[0]
        #expect(try row.require(0, as: String.self) == "ACMEBANK")
        #expect(try row.require(1, as: String.self) == "standard")
        let actions = try db.inTenant(id) { try $0.query("SELECT action FROM audit_events").map { try $0.require(0, as: String.self) } }
        #expect(actions == ["tenant.create"])
    }

    @Test func badTenantValuesAreNamedFieldByField() throws {
        let error = #expect(throws: ValidationError.self) {
            try tenants.create(
                NewTenant(slug: "Not A Slug", name: " ", key: "x", plan: "standard", timeZone: "Mars/Olympus"),
                actor: .system, reason: nil)
        }
        #expect(error?.fieldErrors.map(\.field) == ["slug", "name", "key", "time_zone"])
        // A line break after a value is not part of a slug or key (ICU's $ matches before one).
        let trailing = #expect(throws: ValidationError.self) {
            try tenants.create(NewTenant(slug: "globex\n", name: "Globex", key: "GLOBEX\n"), actor: .system, reason: nil)
        }
        #expect(trailing?.fieldErrors.map(\.field) == ["slug", "key"])
        let plan = #expect(throws: ValidationError.self) {
            try tenants.create(NewTenant(slug: "ok", name: "Ok", plan: "gold"), actor: .system, reason: nil)
        }
        #expect(plan?.fieldErrors.first?.field == "plan")
    }

    @Test func aTakenSlugOrKeyIsRefusedAndNothingHalfWritten() throws {
        _ = try tenants.create(NewTenant(slug: "acme", name: "Acme"), actor: .system, reason: nil)
        let slug = #expect(throws: ValidationError.self) {
            try tenants.create(NewTenant(slug: "acme", name: "Other", key: "OTHER"), actor: .system, reason: nil)
        }
        #expect(slug?.fieldErrors.first?.field == "slug")
        let key = #expect(throws: ValidationError.self) {
            try tenants.create(NewTenant(slug: "acme2", name: "Other", key: "ACME"), actor: .system, reason: nil)
        }
        #expect(key?.fieldErrors.first?.field == "key")
        let counts = try database.connect().query("SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM audit_chains)")[0]
        #expect(try counts.require(0, as: Int.self) == 1)
        #expect(try counts.require(1, as: Int.self) == 1)
    }

    @Test func membersAreAddedOnceAndAnEmailElsewhereLooksNew() throws {
        let acme = try tenants.create(NewTenant(slug: "acme", name: "Acme"), actor: .system, reason: nil)
        let globex = try tenants.create(NewTenant(slug: "globex", name: "Globex"), actor: .system, reason: nil)
        let ada = try people.addMember(
            NewPerson(email: " Ada@Acme.test ", name: "Ada", password: "copper kettle sings at dawn"),
            tenant: acme, role: .tenantAdmin, actor: .system, reason: nil)
        let again = try people.addMember(
            NewPerson(email: "ada@acme.test", name: "Ada L."), tenant: globex, role: .viewer,
            actor: .system, reason: nil)
        #expect(again == ada)
        let duplicate = #expect(throws: ValidationError.self) {
            try people.addMember(
                NewPerson(email: "ADA@acme.test", name: "Ada"), tenant: acme, role: .viewer,
                actor: .system, reason: nil)
        }
        #expect(duplicate?.fieldErrors.first?.field == "email")
        let stored = try database.connect().query("SELECT email, status, password_hash FROM users WHERE id = $1", [ada])[0]
        #expect(try stored.require(0, as: String.self) == "ada@acme.test")
        #expect(try stored.require(1, as: String.self) == "active")
        #expect(try stored.require(2, as: String.self).hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
    }

    @Test func weakPasswordsAndBadEmailsAreRefusedBeforeAnythingIsWritten() throws {
        let acme = try tenants.create(NewTenant(slug: "acme", name: "Acme"), actor: .system, reason: nil)
        let error = #expect(throws: ValidationError.self) {
            try people.addMember(
                NewPerson(email: "not-an-email", name: "", password: "password1234"), tenant: acme,
                role: .viewer, actor: .system, reason: nil)
        }
        #expect(error?.fieldErrors.map(\.field) == ["email", "name", "password"])
        #expect(try database.connect().query("SELECT count(*) FROM users")[0].require(0, as: Int.self) == 0)
    }

    @Test func staffAccountsAreRecordedInTheProviderChain() throws {
        let grace = try people.addStaff(
            NewPerson(email: "grace@provider.test", name: "Grace"), role: .providerAdmin,
            actor: .system, reason: nil)
        let row = try database.connect().query("SELECT staff_role, status FROM users WHERE id = $1", [grace])[0]
        #expect(try row.require(0, as: String.self) == "provider_admin")
        #expect(try row.require(1, as: String.self) == "invited")
        let keyring = try Keyring(parsing: Keyring.generateText())
        #expect(try AuditLog.verify(AuditLog.providerChain, keyring: keyring, in: database.connect()) == .intact(events: 1, checkpoints: 0))
    }
}
