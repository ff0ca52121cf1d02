// `purser admin create-tenant | create-user | create-staff`: the first tenants and people, from the shell.
// Each change is audited with the system as actor and the command as reason.
import ArgumentParser
import Foundation
import Postgres
import Purser

struct CreateTenant: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-tenant", abstract: "Create a tenant (a customer organisation).")

    @OptionGroup var options: CommonOptions
    @Option(help: "Lowercase name used in URLs (/t/SLUG/…).") var slug: String
    @Option(help: "Display name.") var name: String
    @Option(help: "Uppercase prefix of request numbers (default: from the slug).") var key: String?
    @Option(help: "Plan: standard, premium or enterprise.") var plan = "standard"
    @Option(help: "IANA time zone of the tenant's business calendar.") var timeZone = "UTC"

    func run() throws {
        let database = try AdminSetup.database(options)
        let id = try AdminSetup.reporting {
            try TenantStore(database: database, clock: AdminSetup.clock).create(
                NewTenant(slug: slug, name: name, key: key, plan: plan, timeZone: timeZone),
                actor: .system, reason: "purser admin create-tenant")
        }
        print("Created tenant \(slug) (\(id.uuidString.lowercased())).")
    }
}

struct CreateUser: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-user", abstract: "Add a customer user to a tenant.")

    @OptionGroup var options: CommonOptions
    @Option(help: "The tenant's slug.") var tenant: String
    @OptionGroup var person: PersonOptions

    func run() throws {
        let role = person.role
        guard let customerRole = CustomerRole(rawValue: role) else {
            throw ArgumentParser.ValidationError("--role must be one of \(CustomerRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let database = try AdminSetup.database(options)
        guard let tenantID = try TenantStore(database: database, clock: AdminSetup.clock).id(slug: tenant) else {
            throw ArgumentParser.ValidationError("there is no tenant '\(tenant)'")
        }
        let id = try AdminSetup.reporting {
            try PersonStore(database: database, hasher: try PasswordHasher(), clock: AdminSetup.clock).addMember(
                person.newPerson(), tenant: tenantID, role: customerRole, actor: .system, reason: "purser admin create-user")
        }
        print("Added \(person.email) to \(tenant) as \(role) (\(id.uuidString.lowercased()))." + person.passwordNote)
    }
}

struct CreateStaff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-staff", abstract: "Create a provider staff account.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var person: PersonOptions

    func run() throws {
        let role = person.role
        guard let staffRole = StaffRole(rawValue: role) else {
            throw ArgumentParser.ValidationError("--role must be one of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let database = try AdminSetup.database(options)
        let id = try AdminSetup.reporting {
            try PersonStore(database: database, hasher: try PasswordHasher(), clock: AdminSetup.clock).addStaff(
                person.newPerson(), role: staffRole, actor: .system, reason: "purser admin create-staff")
        }
        print("Created staff account \(person.email) as \(role) (\(id.uuidString.lowercased()))." + person.passwordNote)
    }
}

/// Who is being created: shared by create-user and create-staff.
struct PersonOptions: ParsableArguments {
    @Option var email: String
    @Option var name: String
    @Option(help: "Customer: tenant_admin, approver, requester or viewer. Staff: cse, platform_engineer or provider_admin.")
    var role: String
    @Flag(help: "Read the password from standard input (one trailing newline is removed).") var passwordStdin = false

    func newPerson() -> NewPerson {
        NewPerson(email: email, name: name, password: passwordStdin ? AdminSetup.readPassword() : nil)
    }

    var passwordNote: String { passwordStdin ? "" : " No password is set yet." }
}

enum AdminSetup {
    /// The command line's time of day: the system's.
    static let clock: any WallClock = LiveClock()

    static func database(_ options: CommonOptions) throws -> Database {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        return Database(url: configuration.directDatabaseURL!, size: 1)
    }

    /// Runs `body`; a validation problem becomes one line per field and exit 1.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as Purser.ValidationError {
            for field in error.fieldErrors {
                FileHandle.standardError.write(Data("purser: \(field.field): \(field.detail)\n".utf8))
            }
            throw ExitCode(1)
        }
    }

    /// Standard input with one trailing newline (and a carriage return before it) removed.
    static func readPassword() -> String {
        var text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        // "\r\n" is one Character in Swift, so this removes either ending.
        if text.hasSuffix("\n") || text.hasSuffix("\r\n") { text.removeLast() }
        return text
    }
}
